"""The retention sweep: learners are anonymized RETENTION_DAYS after their last circle ended,
message bodies and dialog answers are blanked once that old, and the address of someone who
said FORGET is erased once our last message to it is out."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import String, cast, delete, exists, or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from bot import queue
from bot.config import get_settings
from bot.erasure import IN_FLIGHT, PLACEHOLDER, erase, placeholder
from models.circles import Circle, Facilitation, Signup
from models.conversation import ACTIVE, Conversation, PendingDialog
from models.message import Message
from models.people import Contact, Person
from models.teams import TeamMember

log = logging.getLogger(__name__)

FINISHED = "finished"
# A circle called off is neither current nor ended: it neither keeps a learner nor lets go.
CANCELLED = "cancelled"
# The FORGET dialogs whose contact may still wait for its last message: those done this
# recently. Older ones are caught by the hourly pass over every forgotten person.
FAREWELL_LOOKBACK = timedelta(days=7)
# After this, the address goes even if a message to it is still stuck on its way.
FAREWELL_GRACE = timedelta(hours=1)
# Someone who wrote this recently is talking to us (joining another circle, say): they are
# anonymized once they have been quiet this long, not in the middle of a dialog.
QUIET = timedelta(days=1)
# Anonymizing and blanking run once per clock hour (of the tick's instant): retention is a
# matter of days, and the statements look over much more than a minute's worth of rows.
HOURLY = "circlebot:retention:{:%Y-%m-%dT%H}"
BATCH = 2000  # people per run; the rest follow an hour later


def sweep(session: Session, at: datetime, queued: Counter) -> None:
    """Erase the addresses FORGET left for its last message; once an hour, anonymize the
    learners whose time is up and blank old messages."""
    finished = finish_farewells(session, at)
    if finished:
        queued["forgotten_contacts"] += finished
    if not queue.connection().set(HOURLY.format(at), "1", nx=True, ex=2 * 3600):
        return
    retain(session, at, queued)


def retain(session: Session, at: datetime, queued: Counter) -> None:
    """Anonymize the learners due, and blank what is older than the retention period: a fixed
    number of statements, however many rows."""
    cutoff = at - timedelta(days=get_settings().retention_days)
    due = due_learners(session, at, cutoff)
    if due:
        erase(session, due, at, reason="retention")
        queued["anonymized"] += len(due)
    blanked = blank_before(session, cutoff)
    if blanked:
        queued["blanked"] += blanked
    finished = finish_farewells(session, at, recent_only=False)
    if finished:
        queued["forgotten_contacts"] += finished


def due_learners(session: Session, at: datetime, cutoff: datetime) -> list[int]:
    """Learners whose circles all ended before `cutoff` (or were called off), who facilitate
    and organize nothing and have been quiet a while: one query."""
    other, its_circle = aliased(Signup), aliased(Circle)
    current = exists().where(
        other.person_id == Signup.person_id,
        its_circle.id == other.circle_id,
        or_(its_circle.status.not_in((FINISHED, CANCELLED)), its_circle.ended_at > cutoff),
    )
    talking = exists().where(
        Contact.person_id == Signup.person_id, Contact.last_inbound_at > at - QUIET
    )
    rows = session.execute(
        select(Signup.person_id)
        .join(Circle, Circle.id == Signup.circle_id)
        .join(Person, Person.id == Signup.person_id)
        .where(Circle.ended_at <= cutoff, Circle.status == FINISHED,
               Person.anonymized_at.is_(None), ~current, ~talking,
               ~exists().where(Facilitation.person_id == Signup.person_id),
               ~exists().where(TeamMember.person_id == Signup.person_id))
        .distinct()
        .limit(BATCH)
    ).scalars()  # fmt: skip
    return sorted(rows)


def blank_before(session: Session, cutoff: datetime) -> int:
    """Blank message bodies, buttons and media, and finished dialogs' answers, older than
    `cutoff`; drop prompts that waited that long. Rows still on their way are left to arrive."""
    messages = session.execute(
        update(Message)
        .where(Message.created_at < cutoff, Message.status.not_in(IN_FLIGHT),
               or_(Message.body != "", Message.buttons.is_not(None),
                   cast(Message.media, String) != "[]"))
        .values(body="", buttons=None, media=[])
        .execution_options(synchronize_session=False)
    ).rowcount  # fmt: skip
    dialogs = session.execute(
        update(Conversation)
        .where(Conversation.status != ACTIVE, Conversation.updated_at < cutoff,
               cast(Conversation.data, String) != "{}")
        .values(data={})
        .execution_options(synchronize_session=False)
    ).rowcount  # fmt: skip
    session.execute(delete(PendingDialog).where(PendingDialog.expires_at < cutoff))
    return (messages or 0) + (dialogs or 0)


def finish_farewells(session: Session, at: datetime, *, recent_only: bool = True) -> int:
    """Erase the address of each forgotten person's contact whose last messages are out (or
    stuck past the grace), and blank what went to it since: three statements at most."""
    in_flight = exists().where(Message.contact_id == Contact.id, Message.status.in_(IN_FLIGHT))
    waiting = (
        select(Contact.id)
        .join(Person, Person.id == Contact.person_id)
        .where(Person.anonymized_at.is_not(None),
               ~Contact.address.startswith(PLACEHOLDER, autoescape=True),
               or_(Person.anonymized_at <= at - FAREWELL_GRACE, ~in_flight))
    )  # fmt: skip
    if recent_only:
        # The dialog's own row finds the few contacts concerned, on an index.
        forgot = select(Conversation.contact_id).where(
            Conversation.status == "done",
            Conversation.expires_at > at - FAREWELL_LOOKBACK,
            Conversation.flow == "forget",
        )
        waiting = waiting.where(Contact.id.in_(forgot))
    due = session.execute(waiting.limit(BATCH)).scalars().all()
    if not due:
        return 0
    session.execute(
        update(Message)
        .where(Message.contact_id.in_(due))
        .values(body="", buttons=None, media=[])
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Contact)
        .where(Contact.id.in_(due))
        .values(address=placeholder(), last_provider=None, last_link_id=None)
        .execution_options(synchronize_session=False)
    )
    log.warning("forgotten contacts erased after their last message", extra={"count": len(due)})
    return len(due)
