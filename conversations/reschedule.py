"""MOVE and CANCEL MEETING: choose the meeting, give the new time or confirm, tell who needs it.

Learners already reminded of the meeting get a notice; the others get its reminder as usual,
with the new time (or none, when it is called off). Both questions and both answers say so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, delete, select

from bot import outbox, queue
from bot.context import Context
from bot.i18n import t
from bot.sms import segments, to_gsm7
from bot.when import day_time
from conversations.engine import Done, Flow, Next, Reask, Step, Stop
from conversations.parsers import Choice, ParseContext, Parsed, accept, confirmation, date_time
from handlers.words import whole
from models.circles import (
    Circle,
    Meeting,
    Rsvp,
    Signup,
    follow_first_meeting,
    reminder_due,
    schedule_reminders,
)
from models.message import OUT, Message
from models.people import Contact, Person

EARLIEST_HOUR, LATEST_HOUR = 6, 22
MORE_WORDS = frozenset({"MORE", "ZAIDI"})
MORE = -1  # the answer that asks for the next page of choices


@dataclass(frozen=True)
class PagedChoice(Choice):
    """A numbered choice shown a page at a time: MORE (ZAIDI) asks for the next page, and each
    option keeps its number on every page."""

    def parse(self, text: str, ctx: ParseContext) -> Parsed:
        """Read MORE as a request for the next page, anything else as a choice."""
        if whole(text) in MORE_WORDS:
            return accept(MORE)
        return super().parse(text, ctx)


def page(ask: str, more: str, label: str, data: dict) -> tuple[str, int]:
    """The numbered choices from data["page"] on that fit one SMS with the question `ask`,
    then how many more there are (`more`); and where the next page starts. Off SMS, all."""
    options, start, language = data["options"], data.get("page", 0), data["language"]
    lines: list[str] = []
    for index in range(start, len(options)):
        line = f"{index + 1}) {options[index][label]}"
        left = len(options) - index - 1
        trial = [*lines, line, *([t(more, language, count=left)] if left else [])]
        question = t(ask, language, choices="\n".join(trial))
        if lines and data.get("paged") and segments(to_gsm7(question)) > 1:
            break
        lines.append(line)
    end = start + len(lines)
    if end < len(options):
        lines.append(t(more, language, count=len(options) - end))
    return "\n".join(lines), end


def which_meeting(ask: str, more: str, label: str, chosen: Callable[[Context, dict], dict]) -> Step:
    """The step that asks which of data["options"] is meant (by SMS a page at a time); the
    data of the one chosen is `chosen(ctx, option)`."""

    def check(ctx: Context, data: dict, index: int):
        if index != MORE:
            return Next(data=chosen(ctx, data["options"][index]))
        end = page(ask, more, label, data)[1]
        return Next("which", data={"page": end if end < len(data["options"]) else 0})

    return Step(
        "which",
        ask=ask,
        expect_from=lambda data: PagedChoice(tuple(option[label] for option in data["options"])),
        ask_values=lambda data: {"choices": page(ask, more, label, data)[0]},
        check=check,
        # One meeting only: the command chose it already (asking again after BACK, MORE pages).
        skip=lambda data: len(data["options"]) == 1,
    )


def _reminded(session: Session, meeting: Meeting) -> list[tuple[Contact, str]]:
    """Learners who already got this meeting's reminder (or a notice that it moved), still in
    the circle and not stopped."""
    return list(
        session.exec(
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


def audience(session: Session, meeting: Meeting) -> tuple[list[tuple[Contact, str]], int, int]:
    """Who is told of a change: the contacts of the learners already reminded, how many
    learners those are, and how many others the meeting's reminder would still reach."""
    reminded = _reminded(session, meeting)
    told = {contact.person_id for contact, _ in reminded}
    reachable = session.exec(
        select(Signup.person_id)
        .join(Contact, Contact.id == Signup.contact_id)
        .where(
            Signup.circle_id == meeting.circle_id,
            Signup.left_at.is_(None),
            Contact.opted_out_at.is_(None),
        )
    ).all()
    return reminded, len(told), len(set(reachable) - told)


def chosen(ctx: Context, option: dict) -> dict:
    """The chosen meeting's option, with how many learners hear of a change and how."""
    _, told, others = audience(ctx.session, ctx.session.get(Meeting, option["meeting_id"]))
    return option | {"told": told, "others": others}


def _meetings(session: Session, circle_id: int) -> list[Meeting]:
    return list(session.exec(select(Meeting).where(Meeting.circle_id == circle_id)).all())


def new_time(ctx: Context, data: dict, when: datetime):
    """A time in waking hours; notes when the reminder would then go out (None: at once)."""
    local = when.astimezone(ZoneInfo(data["timezone"]))
    if not EARLIEST_HOUR <= local.hour <= LATEST_HOUR:
        return Reask("new.odd_hour", {"time": local.strftime("%H:%M")})
    meeting = ctx.session.get(Meeting, data["meeting_id"])
    circle = ctx.session.get(Circle, meeting.circle_id)
    due = reminder_due(_meetings(ctx.session, circle.id), meeting, when, circle.reminder_lead_hours)
    return Next(
        data={"new_start": when.isoformat(), "due": due.isoformat() if due > ctx.now else None}
    )


def move_hears(told: int, others: int, due: datetime | None, timezone: str, language: str) -> str:
    """Who hears of a moved meeting, and when: a notice now to those already reminded, the
    reminder with the new time to the others (`due`, or now when None)."""
    if not told:
        key = "move.hears_reminder" if due else "move.hears_reminder_now"
        key = key if others else "move.hears_nobody"
    elif not others:
        key = "move.hears_notice"
    else:
        key = "move.hears_notice_reminder" if due else "move.hears_notice_reminder_now"
    when = day_time(due, timezone, language) if due else ""
    return t(key, language, told=told, others=others, due=when)


def _move_question(data: dict) -> dict:
    due = datetime.fromisoformat(data["due"]) if data.get("due") else None
    language, zone = data["language"], data["timezone"]
    return {
        "label": data["label"],
        "when": day_time(datetime.fromisoformat(data["new_start"]), zone, language),
        "hears": move_hears(data["told"], data["others"], due, zone, language),
    }


def _cancel_question(data: dict) -> dict:
    told, language = data["told"], data["language"]
    hears = t("cancel.ask_notice", language, told=told) if told else t("cancel.no_notice", language)
    return {"label": data["label"], "hears": hears}


def confirm(data: dict, yes: bool):
    return Done() if yes else Stop("move.unchanged")


def _tell(ctx: Context, meeting: Meeting, reminded: list, key: str, tag: str, **values) -> None:
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
        for contact, language in reminded
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
    """Move the meeting, clear its RSVPs, send a notice to those already reminded, and time the
    reminder again for the others."""
    found = _still_ahead(ctx, data)
    if found is None:
        return
    meeting, circle = found
    reminded, told, others = audience(ctx.session, meeting)
    length = meeting.ends_at - meeting.starts_at
    meeting.starts_at = datetime.fromisoformat(data["new_start"])
    meeting.ends_at = meeting.starts_at + length
    ctx.session.exec(delete(Rsvp).where(Rsvp.meeting_id == meeting.id))
    # Its reminder goes out again at the new time's due moment; each learner's dedupe key
    # keeps it from those who already had it, so it reaches the others (and newcomers) only.
    meeting.reminder_sent_at = None
    meetings = _meetings(ctx.session, circle.id)
    schedule_reminders(meetings, circle.reminder_lead_hours)
    follow_first_meeting(circle, meetings)
    ctx.session.add_all([*meetings, circle])
    _tell(ctx, meeting, reminded, "move.notice", "moved", circle=circle.name,
          when=lambda language: day_time(meeting.starts_at, circle.timezone, language))  # fmt: skip
    due = meeting.reminder_due_at if meeting.reminder_due_at > ctx.now else None
    ctx.say("move.done", circle=circle.name,
            when=day_time(meeting.starts_at, circle.timezone, ctx.language),
            hears=move_hears(told, others, due, circle.timezone, ctx.language))  # fmt: skip


def finish_cancel(ctx: Context, data: dict) -> None:
    """Cancel the meeting; learners who were reminded of it are told."""
    found = _still_ahead(ctx, data)
    if found is None:
        return
    meeting, circle = found
    reminded, told, _ = audience(ctx.session, meeting)
    meeting.status = "cancelled"
    follow_first_meeting(circle, _meetings(ctx.session, circle.id))
    ctx.session.add_all([meeting, circle])
    _tell(ctx, meeting, reminded, "cancel.notice", "cancelled", circle=circle.name,
          when=lambda language: day_time(meeting.starts_at, circle.timezone, language))  # fmt: skip
    hears = (
        t("cancel.told_notice", ctx.language, told=told)
        if told
        else t("cancel.no_notice", ctx.language)
    )
    ctx.say("cancel.done", circle=circle.name,
            when=day_time(meeting.starts_at, circle.timezone, ctx.language), hears=hears)  # fmt: skip


WHICH = which_meeting("move.which", "move.more", "label", chosen)

MOVE = Flow(
    "move_meeting",
    steps=[
        WHICH,
        Step("when", ask="move.ask_when", expect=date_time(), check=new_time,
             ask_values=lambda data: {"label": data["label"]}),
        Step("confirm", ask="move.confirm", expect=confirmation(), then=confirm,
             ask_values=_move_question),
    ],
    finish=finish_move,
)  # fmt: skip

CANCEL = Flow(
    "cancel_meeting",
    steps=[
        WHICH,
        Step("confirm", ask="cancel.confirm", expect=confirmation(), then=confirm,
             ask_values=_cancel_question),
    ],
    finish=finish_cancel,
)  # fmt: skip
