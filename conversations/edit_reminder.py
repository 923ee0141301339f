"""EDIT: the facilitator's own text for the next reminder of one meeting."""

from __future__ import annotations

from bot.context import Context
from bot.sms import segments, to_gsm7
from conversations.engine import Done, Flow, Next, Step, Stop
from conversations.parsers import text, yes_no
from conversations.reschedule import which_meeting
from jobs.reminders import framed
from models.circles import Meeting


def new_text(data: dict, body: str):
    """Store the text; one that makes the reminder (the line naming the meeting, the text, the
    RSVP line) cost more than one SMS is confirmed first."""
    cost = segments(to_gsm7(framed(data["header"], body, data["rsvp_line"])))
    if cost > 1:
        return Next(data={"text": body, "segments": cost})
    return Done({"text": body})


def keep_long(data: dict, keep: bool):
    return Done() if keep else Stop("edit.kept_old")


def finish(ctx: Context, data: dict) -> None:
    """Save the text for that meeting only, unless its reminder went out meanwhile."""
    meeting = ctx.session.get(Meeting, data["meeting_id"])
    if meeting.reminder_sent_at is not None:
        ctx.say("edit.too_late")
        return
    meeting.reminder_text = data["text"]
    ctx.session.add(meeting)
    ctx.say("edit.saved", circle=data["circle"])


FLOW = Flow(
    "edit_reminder",
    steps=[
        which_meeting("edit.which", "edit.more", "circle", lambda ctx, option: option),
        Step("text", ask="edit.ask_text", expect=text(max_len=1000), then=new_text,
             ask_values=lambda data: {"header": data["header"], "rsvp_line": data["rsvp_line"]}),
        Step("long", ask="edit.long", expect=yes_no(), then=keep_long,
             ask_values=lambda data: {"segments": data["segments"]}),
    ],
    finish=finish,
)  # fmt: skip
