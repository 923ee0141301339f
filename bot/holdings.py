"""What we hold about one person (MYDATA, the operators' export): gathered in a fixed number of
queries however much there is, and written out in their language, paged for their channel."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
from babel.dates import format_date
from phonenumbers.timezone import time_zones_for_number
from sqlalchemy import case, func
from sqlmodel import Session, select

from bot.channels.base import SMS, TELEGRAM, WHATSAPP
from bot.clock import now
from bot.i18n import LANGUAGE_NAMES, t
from bot.pages import split
from bot.sms import segments, to_gsm7
from bot.when import day_time
from models.circles import Circle, Facilitation, Meeting, Rsvp, Signup
from models.conversation import ACTIVE, Conversation, PendingDialog
from models.feedback import Reflection, SurveyResponse
from models.message import IN, OUT, Message
from models.people import ConnectCode, Contact, Person
from models.teams import GroupChat, Team, TeamMember

# A page of MYDATA on SMS: three segments at most, each page numbered, so that a season's worth
# comes as a few readable texts rather than one long one cut wherever the phone likes.
SMS_PAGE_SEGMENTS = 3
# A line longer than this alone (a long goal or reflection) is broken between words first, so
# that it still fits a page beside the page's number.
SMS_PIECE_SEGMENTS = 2
WHATSAPP_PAGE = 1500  # well inside Twilio's 1,600 characters: one screen or two
TELEGRAM_PAGE = 4000  # inside Telegram's 4,096


def gather(
    session: Session, person_id: int, *, messages: bool = False, at: datetime | None = None
) -> dict:
    """Everything we store about the person, JSON-ready, in a fixed number of queries.

    Message bodies are counted, not copied (`messages=True` adds the bodies of what they sent,
    for the operators' export): they have every message on their own phone already, and
    copying a season of them back would cost a dozen SMS and show them nothing new."""
    at = at or now()
    person = session.get(Person, person_id)
    mine = select(Contact.id).where(Contact.person_id == person_id)
    contacts = _contacts(session, person_id, mine)
    own = {contact["id"]: contact for contact in contacts}
    teams = session.exec(
        select(Team.name, Team.timezone, TeamMember.role)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.person_id == person_id)
        .order_by(Team.name)
    ).all()
    facilitates = session.exec(
        select(Circle.name, Circle.course, Circle.status, Circle.timezone, Team.name)
        .join(Facilitation, Facilitation.circle_id == Circle.id)
        .outerjoin(Team, Team.id == Circle.team_id)
        .where(Facilitation.person_id == person_id)
        .order_by(Circle.first_date, Circle.id)
    ).all()
    groups = session.exec(
        select(GroupChat.channel, GroupChat.title, GroupChat.linked_at)
        .where(GroupChat.linked_by == person_id)
        .order_by(GroupChat.id)
    ).all()
    signups = session.exec(
        select(Signup.id, Signup.goal, Signup.joined_at, Signup.left_at, Signup.contact_id,
               Circle.name, Circle.course, Circle.timezone)
        .join(Circle, Circle.id == Signup.circle_id)
        .where(Signup.person_id == person_id)
        .order_by(Signup.joined_at, Signup.id)
    ).all()  # fmt: skip
    rsvps = session.exec(
        select(Rsvp.signup_id, Rsvp.attending, Rsvp.answered_at, Meeting.number, Meeting.starts_at)
        .join(Meeting, Meeting.id == Rsvp.meeting_id)
        .join(Signup, Signup.id == Rsvp.signup_id)
        .where(Signup.person_id == person_id)
        .order_by(Meeting.starts_at, Rsvp.id)
    ).all()
    reflections = session.exec(
        select(Reflection, Meeting.number, Meeting.starts_at, Circle.name, Circle.timezone)
        .join(Meeting, Meeting.id == Reflection.meeting_id)
        .join(Circle, Circle.id == Meeting.circle_id)
        .where(Reflection.person_id == person_id)
        .order_by(Meeting.starts_at, Reflection.id)
    ).all()
    surveys = session.exec(
        select(SurveyResponse, Circle.name)
        .join(Circle, Circle.id == SurveyResponse.circle_id)
        .where(SurveyResponse.person_id == person_id)
        .order_by(SurveyResponse.id)
    ).all()
    dialogs = session.exec(
        select(Conversation.contact_id, Conversation.flow, Conversation.status,
               Conversation.created_at, Conversation.expires_at)
        .where(Conversation.contact_id.in_(mine))
        .order_by(Conversation.id)
    ).all()  # fmt: skip
    waiting = session.exec(
        select(PendingDialog.contact_id, PendingDialog.flow, PendingDialog.created_at,
               PendingDialog.expires_at)
        .where(PendingDialog.contact_id.in_(mine), PendingDialog.started_at.is_(None))
        .order_by(PendingDialog.id)
    ).all()  # fmt: skip
    codes = session.exec(
        select(ConnectCode.created_at, ConnectCode.expires_at, ConnectCode.used_at)
        .where(ConnectCode.person_id == person_id)
        .order_by(ConnectCode.id)
    ).all()
    by_signup: dict[int, list[dict]] = {}
    for row in rsvps:
        by_signup.setdefault(row.signup_id, []).append(
            {"meeting": row.number, "starts_at": _iso(row.starts_at),
             "attending": row.attending, "answered_at": _iso(row.answered_at)}
        )  # fmt: skip
    held = {
        "person": {
            "id": person.id,
            "name": person.name,
            "language": person.language,
            "created_at": _iso(person.created_at),
            "anonymized_at": _iso(person.anonymized_at),
        },
        # We store no timezone for a person: their times are shown in their circles' or team's,
        # or else in their phone number's, where the number has only one.
        "timezone": next((row.timezone for row in (*signups, *facilitates, *teams)), None)
        or _number_zone(contacts),
        "contacts": contacts,
        "teams": [{"team": row.name, "role": row.role} for row in teams],
        "facilitates": [
            {
                "circle": row[0],
                "course": row.course,
                "status": row.status,
                "timezone": row.timezone,
                "team": row[4],
            }
            for row in facilitates
        ],
        "groups_linked": [
            {"channel": row.channel, "title": row.title, "linked_at": _iso(row.linked_at)}
            for row in groups
        ],
        "signups": [
            {
                "circle": row.name,
                "course": row.course,
                "timezone": row.timezone,
                "goal": row.goal,
                "joined_at": _iso(row.joined_at),
                "left_at": _iso(row.left_at),
                # Only an address of theirs is named, whatever the row says.
                "reminders_to": _handle(own.get(row.contact_id)),
                "rsvps": by_signup.get(row.id, []),
            }
            for row in signups
        ],
        "reflections": [
            {
                "circle": name,
                "meeting": number,
                "starts_at": _iso(starts_at),
                "timezone": timezone,
                "rating": reflection.rating,
                "attendance": reflection.attendance,
                "went_well": reflection.went_well,
                "to_change": reflection.to_change,
                "recap_sent_at": _iso(reflection.recap_sent_at),
                "created_at": _iso(reflection.created_at),
            }
            for reflection, number, starts_at, name, timezone in reflections
        ],
        "surveys": [
            {"circle": name, **{field: _json(getattr(survey, field)) for field in SURVEY_FIELDS}}
            for survey, name in surveys
        ],
        "dialogs": [
            {
                "contact": _handle(own.get(row.contact_id)),
                "flow": row.flow,
                "status": row.status,
                "started_at": _iso(row.created_at),
                "open": row.status == ACTIVE and row.expires_at > at,
            }
            for row in dialogs
        ],
        "dialogs_waiting": [
            {
                "contact": _handle(own.get(row.contact_id)),
                "flow": row.flow,
                "created_at": _iso(row.created_at),
                "expires_at": _iso(row.expires_at),
            }
            for row in waiting
            if row.expires_at > at
        ],
        "connect_codes": [
            {
                "created_at": _iso(row.created_at),
                "expires_at": _iso(row.expires_at),
                "used_at": _iso(row.used_at),
            }
            for row in codes
        ],
    }
    if messages:
        held["messages_from_them"] = _inbound(session, mine, own)
    return held


SURVEY_FIELDS = ("role", "goal_met", "worked_well", "improve", "next_steps", "rating",
                 "surprised", "advice", "run_again", "created_at", "completed_at")  # fmt: skip


def _contacts(session: Session, person_id: int, mine) -> list[dict]:
    """The person's contacts with how many messages each holds, in one query."""
    counts = (
        select(
            Message.contact_id,
            func.sum(case((Message.direction == IN, 1), else_=0)).label("came"),
            func.sum(case((Message.direction == OUT, 1), else_=0)).label("went"),
        )
        .where(Message.contact_id.in_(mine))
        .group_by(Message.contact_id)
        .subquery()
    )
    rows = session.exec(
        select(Contact, counts.c.came, counts.c.went)
        .outerjoin(counts, counts.c.contact_id == Contact.id)
        .where(Contact.person_id == person_id)
        .order_by(Contact.id)
    ).all()
    return [
        {
            "id": contact.id,
            "channel": contact.channel,
            "address": contact.address,
            "stopped_at": _iso(contact.opted_out_at),
            "last_message_at": _iso(contact.last_inbound_at),
            "last_provider": contact.last_provider,
            "messages_from_them": came or 0,
            "messages_to_them": went or 0,
        }
        for contact, came, went in rows
    ]


def _inbound(session: Session, mine, own: dict[int, dict]) -> list[dict]:
    """The bodies of what they sent us, oldest first (for the operators' export)."""
    rows = session.exec(
        select(Message.contact_id, Message.created_at, Message.body)
        .where(Message.contact_id.in_(mine), Message.direction == IN)
        .order_by(Message.id)
    ).all()
    return [
        {"contact": _handle(own.get(row.contact_id)), "at": _iso(row.created_at), "body": row.body}
        for row in rows
    ]


def _number_zone(contacts: list[dict]) -> str:
    """The one timezone of a phone contact's number (Kenya's); UTC where a country has several."""
    for contact in contacts:
        if contact["channel"] not in (SMS, WHATSAPP) or not contact["address"]:
            continue
        try:
            zones = time_zones_for_number(phonenumbers.parse(contact["address"]))
        except phonenumbers.NumberParseException:
            continue
        if len(zones) == 1 and zones[0] != "Etc/Unknown":
            return zones[0]
    return "UTC"


def _handle(contact: dict | None) -> str | None:
    return f"{contact['channel']}:{contact['address']}" if contact else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _json(value: object) -> object:
    return _iso(value) if isinstance(value, datetime) else value


# --- as the person reads it -------------------------------------------------------------------


def pages(held: dict, language: str, channel: str, *, dialog_open: bool = False) -> list[str]:
    """The holdings as messages in `language`: numbered pages of at most three segments on SMS,
    longer ones on WhatsApp and Telegram; the last says how to FORGET it all."""
    lines = _lines(held, language)
    lines.append(t("mydata.forget_hint", language))
    if dialog_open:
        lines.append(t("mydata.dialog_continue", language))
    return _numbered(lines, channel)


def _lines(held: dict, language: str) -> list[str]:
    person, zone = held["person"], held["timezone"]
    little = not any(
        held[part] for part in ("teams", "facilitates", "groups_linked", "signups",
                                "reflections", "surveys", "dialogs_waiting", "connect_codes")
    ) and not person["name"] and not any(d["open"] for d in held["dialogs"])  # fmt: skip
    lines = [t("mydata.title_little" if little else "mydata.title", language)]
    if person["name"]:
        lines.append(t("mydata.name", language, name=person["name"]))
    lines.append(
        t("mydata.language", language,
          language=LANGUAGE_NAMES.get(person["language"], person["language"]))
    )  # fmt: skip
    lines.append(t("mydata.since", language, date=_date(person["created_at"], zone, language)))
    lines += [_contact_line(contact, zone, language) for contact in held["contacts"]]
    for team in held["teams"]:
        role = t(f"mydata.role_{team['role']}", language)
        lines.append(t("mydata.team", language, team=team["team"], role=role))
    for group in held["groups_linked"]:
        lines.append(
            t("mydata.group_linked", language,
              group=group["title"] or t(f"channel.{group['channel']}", language),
              date=_date(group["linked_at"], zone, language))
        )  # fmt: skip
    for circle in held["facilitates"]:
        lines.append(t("mydata.facilitates", language, circle=circle["circle"],
                       course=circle["course"]))  # fmt: skip
    for signup in held["signups"]:
        lines += _signup_lines(signup, language)
    for reflection in held["reflections"]:
        lines += _reflection_lines(reflection, language)
    for survey in held["surveys"]:
        lines += _survey_lines(survey, language)
    for dialog in held["dialogs"]:
        if dialog["open"]:
            lines.append(t("mydata.dialog", language, dialog=_flow(dialog["flow"], language),
                           when=_when(dialog["started_at"], zone, language)))  # fmt: skip
    for dialog in held["dialogs_waiting"]:
        lines.append(t("mydata.dialog_waiting", language, dialog=_flow(dialog["flow"], language)))
    if held["connect_codes"]:
        lines.append(t("mydata.connect_codes", language, count=len(held["connect_codes"])))
    return lines


def _contact_line(contact: dict, zone: str, language: str) -> str:
    sentences = [
        t("mydata.contact", language, channel=t(f"channel.{contact['channel']}", language),
          address=contact["address"], came=contact["messages_from_them"],
          went=contact["messages_to_them"])
    ]  # fmt: skip
    if contact["last_message_at"]:
        when = _when(contact["last_message_at"], zone, language)
        sentences.append(t("mydata.contact_last", language, when=when))
    if contact["stopped_at"]:
        when = _date(contact["stopped_at"], zone, language)
        sentences.append(t("mydata.contact_stopped", language, date=when))
    return " ".join(sentences)


def _signup_lines(signup: dict, language: str) -> list[str]:
    zone, circle, course = signup["timezone"], signup["circle"], signup["course"]
    joined = _date(signup["joined_at"], zone, language)
    if signup["left_at"]:
        left = _date(signup["left_at"], zone, language)
        lines = [t("mydata.signup_left", language, circle=circle, course=course,
                   joined=joined, left=left)]  # fmt: skip
    else:
        lines = [t("mydata.signup", language, circle=circle, course=course, joined=joined)]
    if signup["goal"]:
        lines.append(t("mydata.goal", language, goal=signup["goal"]))
    if signup["reminders_to"]:
        channel, _, address = signup["reminders_to"].partition(":")
        lines.append(t("mydata.reminders_to", language,
                       channel=t(f"channel.{channel}", language), address=address))  # fmt: skip
    for rsvp in signup["rsvps"]:
        answer = t("mydata.yes" if rsvp["attending"] else "mydata.no", language)
        when = _when(rsvp["starts_at"], zone, language)
        lines.append(t("mydata.rsvp", language, when=when, answer=answer))
    return lines


def _reflection_lines(reflection: dict, language: str) -> list[str]:
    lines = [
        t("mydata.reflection", language, circle=reflection["circle"],
          when=_when(reflection["starts_at"], reflection["timezone"], language),
          rating=_or_dash(reflection["rating"]), came=_or_dash(reflection["attendance"]))
    ]  # fmt: skip
    if reflection["went_well"]:
        lines.append(t("mydata.went_well", language, text=reflection["went_well"]))
    if reflection["to_change"]:
        lines.append(t("mydata.to_change", language, text=reflection["to_change"]))
    return lines


# A survey's answers in the order they are asked, each with the line that shows it.
SURVEY_ANSWERS = (
    ("goal_met", "mydata.survey_goal_met"),
    ("worked_well", "mydata.survey_worked_well"),
    ("improve", "mydata.survey_improve"),
    ("next_steps", "mydata.survey_next_steps"),
    ("rating", "mydata.survey_rating"),
    ("surprised", "mydata.survey_surprised"),
    ("advice", "mydata.survey_advice"),
    ("run_again", "mydata.survey_run_again"),
)


def _survey_lines(survey: dict, language: str) -> list[str]:
    answers = []
    for field, key in SURVEY_ANSWERS:
        value = survey[field]
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = t("mydata.yes" if value else "mydata.no", language)
        answers.append(t(key, language, value=value))
    if not answers:
        return [t("mydata.survey_none", language, circle=survey["circle"])]
    return [t("mydata.survey", language, circle=survey["circle"]), *answers]


def _flow(name: str, language: str) -> str:
    """A dialog as the person knows it ("joining a circle"); its bare name if it has no text."""
    try:
        return t(f"mydata.flow_{name}", language)
    except KeyError:
        return name


def _or_dash(value: object) -> object:
    return "-" if value is None else value


def _when(iso: str, zone: str, language: str) -> str:
    return day_time(datetime.fromisoformat(iso), zone, language)


def _date(iso: str, zone: str, language: str) -> str:
    """'1 Dec 2026' / '1 Des 2026': a day, with its year (what we hold may be old)."""
    local = datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).date()
    return format_date(local, "d MMM y", locale=language)


# --- paging -----------------------------------------------------------------------------------


def _fits(text: str, channel: str) -> bool:
    if channel == SMS:
        return segments(text) <= SMS_PAGE_SEGMENTS
    return len(text) <= (TELEGRAM_PAGE if channel == TELEGRAM else WHATSAPP_PAGE)


def _numbered(lines: list[str], channel: str) -> list[str]:
    """Pack the lines into pages that fit with their number ("2/5 ") in front."""
    if channel == SMS:
        # Counted as it goes out (bot.outbox.sms_body): a curly quote must not cost a segment.
        lines = [to_gsm7(line) for line in lines]
        pieces = [p for line in lines for p in split([line], SMS, SMS_PIECE_SEGMENTS)]
    else:
        pieces = [p for line in lines for p in split([line], channel)]
    width = 1
    while True:
        # Room for the widest number these pages may carry; more pages than that, pack again.
        room = "9" * width + "/" + "9" * width + " "
        packed = _pack(pieces, channel, room)
        if len(packed) < 10**width:
            break
        width += 1
    if len(packed) == 1:
        return packed
    return [f"{n}/{len(packed)} {page}" for n, page in enumerate(packed, start=1)]


def _pack(pieces: list[str], channel: str, room: str) -> list[str]:
    pages: list[str] = []
    page: list[str] = []
    for piece in pieces:
        if page and not _fits(room + "\n".join([*page, piece]), channel):
            pages.append("\n".join(page))
            page = []
        page.append(piece)
    if page:
        pages.append("\n".join(page))
    return pages
