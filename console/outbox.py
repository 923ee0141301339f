"""The console's outbox: every outbound message's fate, in words, and sending again what failed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlmodel import Session

from bot import outbox_review
from bot.channels.base import SMS, WHATSAPP
from bot.config import get_settings
from bot.db import session_scope
from bot.sms import is_gsm7, segments
from console import console
from console.auth import not_found_page, signed_in, team_visible, visible_teams
from console.home import STATUSES, TROUBLE
from console.scope import messages_of, messages_visible
from models.circles import Circle, Facilitation, Meeting, Signup
from models.message import OUT, RETRY, SUPPRESSED, UNKNOWN, Message
from models.people import CHANNELS, Contact, Person
from models.teams import GroupChat, Team

PAGE_SIZE = 100
PREVIEW_CHARACTERS = 80
# What jobs/send_message.py records when a WhatsApp message falls outside the 24-hour window
# and no template is configured for its purpose.
NO_TEMPLATE = "outside WhatsApp's 24-hour window"
# Twilio refused free-form text outside the 24-hour window: only an approved template may go.
TWILIO_OUTSIDE_WINDOW = 63016
_OUTSIDE_WINDOW = re.compile(rf"\b{TWILIO_OUTSIDE_WINDOW}\b")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ID = re.compile(r"[0-9]{1,18}")  # within a 64-bit integer, as the databases take one
BIGGEST_ID = 2**63 - 1
MESSAGE = f"/outbox/<int(max={BIGGEST_ID}):message_id>"


@dataclass
class Filters:
    """What the operator asked the list for, checked; `problems` says what was left out."""

    status: str | None = None
    team_id: int | None = None
    circle_id: int | None = None
    channel: str | None = None
    purpose: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None
    args: dict[str, str] = field(default_factory=dict)  # the valid ones, for links
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # key, field, value

    def link(self, **changes) -> str:
        """This filter's list, with some arguments changed (None drops one)."""
        args = {k: v for k, v in (self.args | changes).items() if v is not None}
        return url_for("console.outbox", **args)


def read_filters(values, teams: list[Team], circles: list[dict], purposes: list[str]) -> Filters:
    """Check the list's query arguments against what the operator may choose."""
    chosen = Filters()

    def pick(name: str, allowed: dict):
        raw = (values.get(name) or "").strip()
        if not raw:
            return None
        if raw not in allowed:
            chosen.problems.append(("console.outbox_bad_filter", name, raw))
            return None
        chosen.args[name] = raw
        return allowed[raw]

    chosen.status = pick("status", {s: s for s in STATUSES})
    chosen.team_id = pick("team", {str(t.id): t.id for t in teams})
    chosen.circle_id = pick("circle", {str(c["id"]): c["id"] for c in circles})
    chosen.channel = pick("channel", {c: c for c in CHANNELS})
    chosen.purpose = pick("purpose", {p: p for p in purposes})
    chosen.since = _instant(values, "from", chosen, end_of_day=False)
    chosen.until = _instant(values, "to", chosen, end_of_day=True)
    if chosen.since and chosen.until and chosen.since >= chosen.until:
        chosen.problems.append(("console.outbox_bad_range", "to", chosen.args.pop("to")))
        chosen.since = chosen.until = None
        chosen.args.pop("from")
    before = (values.get("before") or "").strip()
    if _ID.fullmatch(before):
        chosen.before = int(before)
    elif before:
        chosen.problems.append(("console.outbox_bad_filter", "before", before))
    return chosen


def _instant(values, name: str, chosen: Filters, *, end_of_day: bool) -> datetime | None:
    """A date or a date and time, read as UTC; a date alone as "to" takes in its whole day."""
    raw = (values.get(name) or "").strip()
    if not raw:
        return None
    try:
        if _DATE_ONLY.match(raw):
            day = date.fromisoformat(raw) + timedelta(days=1 if end_of_day else 0)
            at = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            at = datetime.fromisoformat(raw)
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: the day after 9999-12-31
        chosen.problems.append(("console.outbox_bad_time", name, raw))
        return None
    chosen.args[name] = raw
    return at


def of_circle(circle_id: int):
    """SQL: the messages about a circle's meetings, or to its learners and facilitators."""
    people = (
        select(Signup.person_id)
        .where(Signup.circle_id == circle_id)
        .union(select(Facilitation.person_id).where(Facilitation.circle_id == circle_id))
    )
    return or_(
        Message.meeting_id.in_(select(Meeting.id).where(Meeting.circle_id == circle_id)),
        Message.contact_id.in_(select(Contact.id).where(Contact.person_id.in_(people))),
    )


def conditions(chosen: Filters, visible) -> list:
    """SQL: the outbound messages the operator may see (`visible`) that match the filter, in
    any status."""
    where = [Message.direction == OUT, visible]
    if chosen.team_id is not None:
        where.append(messages_of([chosen.team_id]))
    if chosen.circle_id is not None:
        where.append(of_circle(chosen.circle_id))
    if chosen.channel is not None:
        where.append(Message.channel == chosen.channel)
    if chosen.purpose is not None:
        where.append(Message.purpose == chosen.purpose)
    if chosen.since is not None:
        where.append(Message.created_at >= chosen.since)
    if chosen.until is not None:
        where.append(Message.created_at < chosen.until)
    return where


def page_of(db: Session, where: list, chosen: Filters) -> tuple[list[dict], int | None]:
    """One page of the list, newest first, in one query; and the id to go on from, if any."""
    query = (
        select(Message.id, Message.created_at, Message.channel, Message.purpose, Message.status,
               func.substr(Message.body, 1, PREVIEW_CHARACTERS + 1).label("start"),
               Contact.channel.label("contact_channel"), Contact.address, Person.name,
               GroupChat.title)
        .outerjoin(Contact, Contact.id == Message.contact_id)
        .outerjoin(Person, Person.id == Contact.person_id)
        .outerjoin(GroupChat, GroupChat.id == Message.group_chat_id)
        .where(*where)
        .order_by(Message.id.desc())
        .limit(PAGE_SIZE + 1)
    )  # fmt: skip
    if chosen.status is not None:
        query = query.where(Message.status == chosen.status)
    if chosen.before is not None:
        query = query.where(Message.id < chosen.before)
    rows = db.execute(query).all()
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return [_row(row) for row in rows[:PAGE_SIZE]], older


def _row(row) -> dict:
    preview = row.start or ""
    if len(preview) > PREVIEW_CHARACTERS:
        preview = preview[:PREVIEW_CHARACTERS].rstrip() + "…"
    return {
        "id": row.id, "at": _utc(row.created_at), "channel": row.channel, "purpose": row.purpose,
        "status": row.status, "preview": preview,
        "handle": f"{row.contact_channel}:{row.address}" if row.address else None,
        "name": row.name, "group": row.title,
    }  # fmt: skip


def counts_of(db: Session, where: list) -> dict[str, int]:
    """How many match the filter, by status: one query."""
    rows = db.execute(
        select(Message.status, func.count()).where(*where).group_by(Message.status)
    ).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: count for status, count in rows})
    return counts


def choices(db: Session, visible) -> tuple[list[Team], list[dict], list[str]]:
    """What the filter offers: the operator's teams, their circles, the purposes of the
    messages they may see (`visible`)."""
    teams = visible_teams(db)
    circles = db.execute(
        select(Circle.id, Circle.name, Circle.city, Team.name.label("team"))
        .outerjoin(Team, Team.id == Circle.team_id)
        .where(team_visible(Circle.team_id, db))
        .order_by(Team.name, Circle.name, Circle.id)
    ).all()
    purposes = db.execute(
        select(Message.purpose)
        .where(Message.direction == OUT, visible)
        .distinct()
        .order_by(Message.purpose)
    ).scalars()
    return teams, [dict(c._mapping) for c in circles], list(purposes)


@console.get("/outbox")
@signed_in
def outbox():
    """Outbound messages, newest first, a page at a time, filtered; counts by status on top."""
    with session_scope() as db:
        visible = messages_visible(db)
        teams, circles, purposes = choices(db, visible)
        chosen = read_filters(request.args, teams, circles, purposes)
        where = conditions(chosen, visible)
        rows, older = page_of(db, where, chosen)
        counts = counts_of(db, where)
    page = render_template(
        "console/outbox.html", active="outbox", rows=rows, older=older, counts=counts,
        chosen=chosen, teams=teams, circles=circles, purposes=purposes, channels=CHANNELS,
        statuses=STATUSES, trouble=TROUBLE,
    )  # fmt: skip
    return page, 400 if chosen.problems else 200


@dataclass
class Fate:
    """One outbound message with everything around it that explains what became of it."""

    message: Message
    contact: Contact | None
    name: str | None
    group: GroupChat | None
    meeting: Meeting | None
    circle: Circle | None
    team: Team | None

    @property
    def resendable(self) -> bool:
        return self.message.status in outbox_review.RESENDABLE


def fate_of(db: Session, message_id: int) -> Fate | None:
    """The message with its recipient, meeting, circle and team, if the operator may see it."""
    found = db.execute(
        select(Message, Contact, Person.name, GroupChat, Meeting, Circle, Team)
        .outerjoin(Contact, Contact.id == Message.contact_id)
        .outerjoin(Person, Person.id == Contact.person_id)
        .outerjoin(GroupChat, GroupChat.id == Message.group_chat_id)
        .outerjoin(Meeting, Meeting.id == Message.meeting_id)
        .outerjoin(Circle, Circle.id == Meeting.circle_id)
        .outerjoin(Team, Team.id == func.coalesce(Circle.team_id, GroupChat.team_id))
        .where(Message.id == message_id, Message.direction == OUT, messages_visible(db))
    ).first()
    return None if found is None else Fate(*found)


def outside_window(message: Message) -> bool:
    """Whether a WhatsApp message failed for want of a template outside the 24-hour window."""
    error = message.error or ""
    return message.channel == WHATSAPP and bool(
        error.startswith(NO_TEMPLATE) or _OUTSIDE_WINDOW.search(error)
    )


def reasons(fate: Fate) -> list[tuple[str, dict]]:
    """What became of the message and why, as texts to show (key, values)."""
    message, contact = fate.message, fate.contact
    said = []
    error = message.error or ""
    if outside_window(message):
        said.append(("console.why_whatsapp_window", {"purpose": message.purpose}))
    if message.status == UNKNOWN:
        said.append(("console.why_unknown", {}))
    elif message.status == SUPPRESSED:
        said.append(("console.why_suppressed", {}))
    elif message.status == RETRY and message.next_attempt_at:
        said.append(("console.why_retry", {"at": _utc(message.next_attempt_at)}))
    elif message.status in outbox_review.RESENDABLE:
        if error:
            said.append(("console.why_failed", {"error": error}))
        else:
            said.append(("console.why_failed_silent", {}))
    if contact is not None and contact.opted_out_at is not None:
        said.append(("console.why_stopped", {"date": _utc(contact.opted_out_at)}))
    return said


def warnings(fate: Fate) -> list[tuple[str, dict]]:
    """What sending it again would do besides sending it, said before the operator confirms."""
    message, contact = fate.message, fate.contact
    said = [("console.outbox_resend_unknown" if message.status == UNKNOWN
             else "console.outbox_resend_once", {})]  # fmt: skip
    if contact is not None and contact.opted_out_at is not None:
        said.append(("console.outbox_resend_stopped", {"date": _utc(contact.opted_out_at)}))
    if outside_window(message) and message.purpose not in get_settings().twilio_whatsapp_templates:
        said.append(("console.outbox_resend_no_template", {"purpose": message.purpose}))
    return said


def sms_cost(message: Message) -> dict | None:
    """An SMS's segments and the alphabet it goes in; None for other channels."""
    if message.channel != SMS:
        return None
    return {"segments": segments(message.body), "encoding": "GSM-7" if is_gsm7(message.body)
            else "UCS-2"}  # fmt: skip


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _not_resendable(fate: Fate):
    page = render_template("console/outbox_not_resendable.html", active="outbox", fate=fate)
    return page, 409


@console.get(MESSAGE)
@signed_in
def outbox_message(message_id: int):
    """One message in full, and in words what became of it."""
    with session_scope() as db:
        fate = fate_of(db, message_id)
    if fate is None:
        return not_found_page()
    return render_template(
        "console/outbox_message.html", active="outbox", fate=fate, reasons=reasons(fate),
        sms=sms_cost(fate.message), utc=_utc,
    )  # fmt: skip


@console.get(f"{MESSAGE}/resend")
@signed_in
def outbox_resend_confirm(message_id: int):
    """Ask before sending again, saying who might get it twice and who will not get it."""
    with session_scope() as db:
        fate = fate_of(db, message_id)
    if fate is None:
        return not_found_page()
    if not fate.resendable:
        return _not_resendable(fate)
    return render_template("console/outbox_resend.html", active="outbox", fate=fate,
                           warnings=warnings(fate))  # fmt: skip


@console.post(f"{MESSAGE}/resend")
@signed_in
def outbox_resend(message_id: int):
    """Send it again, as `flask outbox resend` does, and say on its page what happened."""
    with session_scope() as db:
        fate = fate_of(db, message_id)
    if fate is None:
        return not_found_page()
    if not fate.resendable:
        return _not_resendable(fate)
    done = outbox_review.resend([message_id])
    stopped = fate.contact is not None and fate.contact.opted_out_at is not None
    if message_id not in done["resent"]:
        flash(["console.outbox_resend_left", {}])  # someone else sent it again meanwhile
    elif stopped:
        flash(["console.outbox_resent_stopped", {}])
    else:
        flash(["console.outbox_resent", {}])
    return redirect(url_for("console.outbox_message", message_id=message_id))
