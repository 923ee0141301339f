"""MOVE and CANCEL MEETING: choose the meeting, give the new time or confirm, tell who needs it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import delete, select

from bot import outbox, queue
from bot.context import Context
from bot.i18n import t
from bot.when import day_time
from conversations.engine import Done, Flow, Next, Reask, Step, Stop, which
from conversations.parsers import confirmation, date_time
from models.circles import Circle, Meeting, Rsvp, Signup, schedule_reminders
from models.message import OUT, Message
from models.people import Contact, Person

EARLIEST_HOUR, LATEST_HOUR = 6, 22


def pick(data: dict, index: int):
    return Next(data=data["options"][index])


def new_time(data: dict, when: datetime):
    local = when.astimezone(ZoneInfo(data["timezone"]))
    if not EARLIEST_HOUR <= local.hour <= LATEST_HOUR:
        return Reask("new.odd_hour", {"time": local.strftime("%H:%M")})
    return Next(data={"new_start": when.isoformat()})


def confirm(data: dict, yes: bool):
    return Done() if yes else Stop("move.unchanged")


def _reminded(ctx: Context, meeting: Meeting) -> list[tuple[Contact, str]]:
    """Learners who already got this meeting's reminder, still in the circle and not stopped."""
    return list(
        ctx.session.exec(
            select(Contact, Person.language)
            .join(Message, Message.contact_id == Contact.id)
            .join(Person, Person.id == Contact.person_id)
            .join(Signup, (Signup.person_id == Person.id) & (Signup.circle_id == meeting.circle_id))
            .where(
                Message.meeting_id == meeting.id,
                Message.direction == OUT,
                Message.purpose == "reminder",
                Signup.left_at.is_(None),
                Contact.opted_out_at.is_(None),
            )
            .distinct()
        ).all()
    )


def _tell(ctx: Context, meeting: Meeting, key: str, tag: str, **values) -> None:
    rows = [
        {
            "channel": contact.channel,
            "contact_id": contact.id,
            "meeting_id": meeting.id,
            "body": t(
                key, language, **{k: v(language) if callable(v) else v for k, v in values.items()}
            ),  # fmt: skip
            # A moved meeting's notice asks for an RSVP again, so replies read as answers to it.
            "purpose": "reminder" if tag == "moved" else "notice",
            "dedupe_key": f"{tag}:{meeting.id}:{meeting.starts_at.isoformat()}:{contact.id}",
        }
        for contact, language in _reminded(ctx, meeting)
    ]
    outbox.queue_once(ctx.session, rows, queue_name=queue.LOW)


def _still_ahead(ctx: Context, data: dict) -> tuple[Meeting, Circle] | None:
    """The chosen meeting and its circle, unless it began or was called off meanwhile."""
    meeting = ctx.session.get(Meeting, data["meeting_id"])
    if meeting.status != "scheduled" or meeting.starts_at <= ctx.now:
        ctx.say("move.too_late")
        return None
    return meeting, ctx.session.get(Circle, meeting.circle_id)


def finish_move(ctx: Context, data: dict) -> None:
    """Move the meeting, clear its RSVPs, and re-time or re-send what learners were told."""
    found = _still_ahead(ctx, data)
    if found is None:
        return
    meeting, circle = found
    length = meeting.ends_at - meeting.starts_at
    meeting.starts_at = datetime.fromisoformat(data["new_start"])
    meeting.ends_at = meeting.starts_at + length
    ctx.session.exec(delete(Rsvp).where(Rsvp.meeting_id == meeting.id))
    if meeting.reminder_sent_at is not None:
        _tell(ctx, meeting, "move.notice", "moved", circle=circle.name,
              when=lambda language: day_time(meeting.starts_at, circle.timezone, language))  # fmt: skip
    meetings = ctx.session.exec(select(Meeting).where(Meeting.circle_id == circle.id)).all()
    unsent = [m for m in meetings if m.reminder_sent_at is None]
    schedule_reminders(unsent, circle.reminder_lead_hours)
    ctx.session.add_all(meetings)
    ctx.say("move.done", circle=circle.name,
            when=day_time(meeting.starts_at, circle.timezone, ctx.language))  # fmt: skip


def finish_cancel(ctx: Context, data: dict) -> None:
    """Cancel the meeting; learners who were reminded of it are told."""
    found = _still_ahead(ctx, data)
    if found is None:
        return
    meeting, circle = found
    meeting.status = "cancelled"
    ctx.session.add(meeting)
    if meeting.reminder_sent_at is not None:
        _tell(ctx, meeting, "cancel.notice", "cancelled", circle=circle.name,
              when=lambda language: day_time(meeting.starts_at, circle.timezone, language))  # fmt: skip
    ctx.say("cancel.done", circle=circle.name,
            when=day_time(meeting.starts_at, circle.timezone, ctx.language))  # fmt: skip


WHICH = which("move.which", label="label", then=pick, skip=lambda data: "meeting_id" in data)

MOVE = Flow(
    "move_meeting",
    steps=[
        WHICH,
        Step("when", ask="move.ask_when", expect=date_time(), then=new_time,
             ask_values=lambda data: {"label": data["label"]}),
        Step("confirm", ask="move.confirm", expect=confirmation(), then=confirm,
             ask_values=lambda data: {"label": data["label"],
                                      "when": day_time(datetime.fromisoformat(data["new_start"]),
                                                       data["timezone"], data["language"])}),
    ],
    finish=finish_move,
)  # fmt: skip

CANCEL = Flow(
    "cancel_meeting",
    steps=[
        WHICH,
        Step("confirm", ask="cancel.confirm", expect=confirmation(), then=confirm,
             ask_values=lambda data: {"label": data["label"]}),
    ],
    finish=finish_cancel,
)  # fmt: skip
