"""Erasing people (FORGET, the operators' `privacy forget`, the retention sweep): what names
them goes for good, the anonymous counts stay, in a fixed number of statements however much
there is to erase."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import String, case, cast, delete, exists, func, literal, or_, select, update
from sqlalchemy import union_all as union
from sqlmodel import Session

from bot import outbox, queue
from bot.i18n import t
from bot.identity import reachable_contacts
from bot.sms import to_gsm7
from models.circles import SIGNUP_OPEN, Circle, Facilitation, Signup
from models.conversation import ACTIVE, Conversation, PendingDialog
from models.feedback import Reflection, SurveyResponse
from models.message import HANDLED, IN, QUEUED, RECEIVED, RETRY, SENDING, SUPPRESSED, Message
from models.people import ConnectCode, Contact, Person
from models.teams import ORGANIZER, GroupChat, Team, TeamMember

log = logging.getLogger(__name__)

# An erased address becomes this and the contact's id: unique, so the (channel, address) slot is
# free for whoever writes from that address next (a new person), and it tells nothing.
PLACEHOLDER = "forgotten:"
FORGOTTEN = "forgotten"  # the status of a dialog that an erasure ended
# Circles a learner still belongs to: they leave them, as with LEAVE. Finished ones keep the
# signup as it was, so that their reports' counts stay true.
STILL_RUNNING = ("draft", *SIGNUP_OPEN)
# Rows still on their way: an outbound row the workers may be sending, an inbound one not yet
# handled. Other people's are never blanked while in flight (a reminder would go out empty).
IN_FLIGHT = (QUEUED, RETRY, SENDING, RECEIVED)
# What a person wrote may be quoted in other people's messages (their name in a notice, their
# goal in a digest, their words in a report or a relayed MSG). Shorter strings are left alone
# ("Jo" is in "Join"), and a very talkative person's longest words are the ones matched.
SHORTEST_MENTION = 3
LONGEST_MESSAGES = 200  # of their own messages, quoted elsewhere only when long (MSG, recaps)
QUOTED_MESSAGE = 20  # characters: a message shorter than this is an answer, not a quote
MOST_MENTIONS = 1000


def placeholder():
    """SQL: the erased form of a contact's address."""
    return literal(PLACEHOLDER) + cast(Contact.id, String)


def holds_anything(session: Session, person_id: int, contact_id: int) -> bool:
    """Whether we keep more about the person than the address they write from (one query)."""
    person = session.get(Person, person_id)
    if person.name:
        return True
    mine = [
        exists().where(Signup.person_id == person_id),
        exists().where(Facilitation.person_id == person_id),
        exists().where(TeamMember.person_id == person_id),
        exists().where(Reflection.person_id == person_id),
        exists().where(SurveyResponse.person_id == person_id),
        exists().where(Contact.person_id == person_id, Contact.id != contact_id),
        exists().where(Conversation.contact_id == contact_id, Conversation.status == ACTIVE),
    ]
    return bool(session.execute(select(or_(*mine))).scalar())


def forget_person(
    session: Session, person_id: int, at: datetime, *, reason: str, farewell_contact_id=None
) -> dict:
    """Erase one person for good, tell the facilitators and organizers they leave behind, and
    return what was erased, by kind (counts only).

    `farewell_contact_id`: the contact that still gets one last message (FORGET's "done"). It
    keeps its address, stopped, until that message is out; the retention sweep then erases it
    (jobs.retention.finish_farewells)."""
    return erase(
        session, [person_id], at, reason=reason, mentions=True, tell=True,
        farewell_contact_id=farewell_contact_id,
    )  # fmt: skip


def erase(
    session: Session,
    person_ids: list[int],
    at: datetime,
    *,
    reason: str,
    mentions: bool = False,
    tell: bool = False,
    farewell_contact_id: int | None = None,
) -> dict:
    """Erase these people: names, addresses, goals, free-text answers, dialogs, what they sent
    and what was sent to them; keep their RSVPs, ratings and attendance counts, unnamed.

    `mentions`: also blank other people's messages that quote them (one person at a time: the
    quotes are matched by their text). `tell`: notify the facilitators and organizers left."""
    if not person_ids:
        return {}
    session.flush()  # the bulk statements below must see, and not undo, what is pending
    ids = list(person_ids)
    contacts = select(Contact.id).where(Contact.person_id.in_(ids)).scalar_subquery()
    quotes = _quotes(session, ids, contacts) if mentions else []
    notices = _notices(session, ids) if tell else []
    instant = literal(at, Contact.__table__.c.opted_out_at.type)
    counts: dict[str, int] = {}

    def run(name: str, statement) -> None:
        result = session.execute(statement.execution_options(synchronize_session=False))
        counts[name] = counts.get(name, 0) + (result.rowcount or 0)

    # Everything to and from them, blanked; what was still to go to them goes nowhere, and what
    # they sent and we had not read yet is not read now.
    run("messages", update(Message).where(Message.contact_id.in_(contacts)).values(
        body="", buttons=None, media=[], error=None,
        status=case((Message.status.in_((QUEUED, RETRY)), SUPPRESSED),
                    (Message.status == RECEIVED, HANDLED), else_=Message.status),
    ))  # fmt: skip
    if quotes:
        quoted = or_(*[Message.body.icontains(text, autoescape=True) for text in quotes])
        hits = _mentioning(session, Message.id, Message.body, quoted,
                           Message.status.not_in(IN_FLIGHT), quotes=quotes)  # fmt: skip
        run("mentions", update(Message).where(Message.id.in_(hits))
            .values(body="", buttons=None, media=[]))  # fmt: skip
        data = cast(Conversation.data, String)
        in_data = or_(*[data.icontains(text, autoescape=True) for text in quotes])
        hits = _mentioning(session, Conversation.id, data, in_data,
                           Conversation.status != ACTIVE, quotes=quotes)  # fmt: skip
        run("mentions", update(Conversation).where(Conversation.id.in_(hits)).values(data={}))
    farewell = Contact.id == (farewell_contact_id or -1)
    run("contacts", update(Contact).where(Contact.person_id.in_(ids), ~farewell).values(
        address=placeholder(), last_provider=None, last_link_id=None,
        opted_out_at=func.coalesce(Contact.opted_out_at, instant),
    ))  # fmt: skip
    if farewell_contact_id is not None:
        # Stopped at once, so that nothing but the farewell (sent as a STOP confirmation is)
        # reaches it while its address waits for that last message to go.
        run("contacts", update(Contact).where(Contact.person_id.in_(ids), farewell)
            .values(opted_out_at=instant))  # fmt: skip
    run("people", update(Person).where(Person.id.in_(ids)).values(
        name=None, anonymized_at=func.coalesce(Person.anonymized_at, instant)))  # fmt: skip
    run("goals", update(Signup).where(Signup.person_id.in_(ids), Signup.goal.is_not(None))
        .values(goal=None))  # fmt: skip
    running = select(Circle.id).where(Circle.status.in_(STILL_RUNNING))
    run("signups_left", update(Signup).where(
        Signup.person_id.in_(ids), Signup.left_at.is_(None), Signup.circle_id.in_(running),
    ).values(left_at=instant))  # fmt: skip
    reflected = or_(Reflection.went_well.is_not(None), Reflection.to_change.is_not(None))
    run("reflections", update(Reflection).where(Reflection.person_id.in_(ids), reflected)
        .values(went_well=None, to_change=None))  # fmt: skip
    texts = (SurveyResponse.worked_well, SurveyResponse.improve, SurveyResponse.next_steps,
             SurveyResponse.surprised, SurveyResponse.advice)  # fmt: skip
    run("survey_answers", update(SurveyResponse).where(
        SurveyResponse.person_id.in_(ids), or_(*[text.is_not(None) for text in texts]),
    ).values(dict.fromkeys(texts)))  # fmt: skip
    run("dialogs", update(Conversation).where(Conversation.contact_id.in_(contacts)).values(
        data={}, status=case((Conversation.status == ACTIVE, FORGOTTEN),
                             else_=Conversation.status)))  # fmt: skip
    run("dialogs_waiting", delete(PendingDialog).where(PendingDialog.contact_id.in_(contacts)))
    run("connect_codes", delete(ConnectCode).where(or_(
        ConnectCode.person_id.in_(ids), ConnectCode.contact_id.in_(contacts),
        ConnectCode.used_by_contact_id.in_(contacts))))  # fmt: skip
    run("group_links", update(GroupChat).where(GroupChat.linked_by.in_(ids))
        .values(linked_by=None))  # fmt: skip
    run("facilitations", delete(Facilitation).where(Facilitation.person_id.in_(ids)))
    run("memberships", delete(TeamMember).where(TeamMember.person_id.in_(ids)))
    counts["told"] = len(outbox.queue_once(session, notices, queue_name=queue.LOW))
    # The objects loaded before hold what was just erased: read them again if used.
    session.expire_all()
    log.warning(
        "person forgotten" if len(ids) == 1 else "people forgotten",
        extra={"person_ids": ids, "reason": reason, "erased": counts},
    )
    return counts


def _quotes(session: Session, ids: list[int], contacts) -> list[str]:
    """The texts that would show these people in someone else's message: name, addresses,
    goals, free-text answers and their long messages, also as an SMS writes them."""
    profile = [
        select(Person.name.label("text")).where(Person.id.in_(ids)),
        select(Contact.address).where(Contact.person_id.in_(ids)),
        select(Signup.goal).where(Signup.person_id.in_(ids)),
        *[select(column).where(Reflection.person_id.in_(ids))
          for column in (Reflection.went_well, Reflection.to_change)],
        *[select(column).where(SurveyResponse.person_id.in_(ids))
          for column in (SurveyResponse.worked_well, SurveyResponse.improve,
                         SurveyResponse.next_steps, SurveyResponse.surprised,
                         SurveyResponse.advice)],
    ]  # fmt: skip
    long_ones = (
        select(Message.body)
        .where(Message.contact_id.in_(contacts), Message.direction == IN,
               func.length(Message.body) >= QUOTED_MESSAGE)
        .order_by(func.length(Message.body).desc())
        .limit(LONGEST_MESSAGES)
        .subquery()
    )  # fmt: skip
    rows = session.execute(union(*profile, select(long_ones.c.body))).scalars()
    found: dict[str, None] = {}
    for text in rows:
        text = (text or "").strip()
        if len(text) >= SHORTEST_MENTION:
            found |= {text: None, to_gsm7(text): None}  # SMS bodies go out in GSM-7
    return sorted(found, key=len, reverse=True)[:MOST_MENTIONS]


def _mentioning(session: Session, key, text, *where, quotes: list[str]) -> list[int]:
    """The rows whose text quotes them as a whole word: the database finds the candidates by
    substring, and a word boundary keeps "Ann" from taking every "announcement" with it."""
    words = re.compile(
        "|".join(rf"(?<!\w){re.escape(quote)}(?!\w)" for quote in quotes), re.IGNORECASE
    )
    rows = session.execute(select(key, text).where(*where)).all()
    return [row_id for row_id, body in rows if body and words.search(body)]


def _notices(session: Session, ids: list[int]) -> list[dict]:
    """Outbox rows telling the facilitators of these people's circles and the organizers of
    their teams that they are gone (never who: that is what was erased), and which circles are
    left without a facilitator."""
    circles = session.execute(
        select(Circle.id, Circle.name, Circle.team_id, Circle.status)
        .join(Facilitation, Facilitation.circle_id == Circle.id)
        .where(Facilitation.person_id.in_(ids))
    ).all()
    staying = session.execute(
        select(Facilitation.circle_id, Person)
        .join(Person, Person.id == Facilitation.person_id)
        .where(Facilitation.circle_id.in_([c.id for c in circles]),
               Facilitation.person_id.not_in(ids))
    ).all()  # fmt: skip
    kept = {circle_id for circle_id, _ in staying}
    orphans = [c for c in circles if c.id not in kept and c.status in STILL_RUNNING]
    member_of = select(TeamMember.team_id).where(TeamMember.person_id.in_(ids))
    orphan_teams = [c.team_id for c in orphans if c.team_id is not None]
    organizers = session.execute(
        select(Team.id, Team.name, Person)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .join(Person, Person.id == TeamMember.person_id)
        .where(or_(Team.id.in_(member_of), Team.id.in_(orphan_teams)),
               TeamMember.role == ORGANIZER, TeamMember.person_id.not_in(ids))
    ).all()  # fmt: skip
    people = {person.id: person for _, person in staying} | {p.id: p for *_, p in organizers}
    if not people:
        return []
    contacts = reachable_contacts(session, list(people))
    names = {c.id: c.name for c in circles}
    rows = []

    def add(person: Person, body: str, about: str) -> None:
        contact = contacts.get(person.id)
        if contact is not None:
            rows.append(
                {"channel": contact.channel, "contact_id": contact.id, "body": body,
                 "purpose": "notice", "dedupe_key": f"forget:{ids[0]}:{about}:{contact.id}"}
            )  # fmt: skip

    for circle_id, person in staying:
        body = t("forget.cofacilitator_told", person.language, circle=names[circle_id])
        add(person, body, f"c{circle_id}")
    for team_id, team, person in organizers:
        body = t("forget.organizer_told", person.language, team=team)
        left = [c.name for c in orphans if c.team_id == team_id]
        if left:
            body += " " + t("forget.no_facilitator", person.language, circles=", ".join(left))
        add(person, body, f"t{team_id}")
    return rows
