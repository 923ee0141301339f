"""The reflection after a meeting: a rating, attendance, what went well, what to change, and
an optional recap for the learners, sent only once the facilitator confirms it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.context import Context
from bot.when import day_time
from conversations.announce import to_learners
from conversations.engine import Done, Flow, Next, Step
from conversations.parsers import confirmation, number, optional, or_default, text
from models.circles import Circle
from models.feedback import Reflection

# OK takes the yes-RSVP count we suggest; "none" is not among them, it would mean nobody came.
TAKE_SUGGESTION = ("ok", "sawa", "yes", "ndiyo", "same")
MOST_ATTENDING = 500


def key(meeting_id: int, person_id: int) -> str:
    """The one reflection prompt a facilitator gets for a meeting."""
    return f"reflect:{meeting_id}:{person_id}"


def prompt_data(meeting, counts: tuple[int, int, int] | None, language: str) -> dict:
    """What the dialog needs of a meeting (a row with its circle's name and timezone) and of
    its (learners, yes, no) counts."""
    learners, yes, _ = counts or (0, 0, 0)
    return {
        "meeting_id": meeting.id,
        "circle_id": meeting.circle_id,
        "circle": meeting.name,
        "when": day_time(meeting.starts_at, meeting.timezone, language),
        "yes": yes,
        "learners": learners,
    }


def recapped(session, meeting_ids: list[int]) -> set[int]:
    """The meetings whose recap a facilitator already sent: learners get one per meeting."""
    return set(
        session.exec(
            select(Reflection.meeting_id).where(
                Reflection.meeting_id.in_(meeting_ids), Reflection.recap_sent_at.is_not(None)
            )
        ).all()
    )


def recap_or_done(data: dict, recap: str | None):
    return Next(data={"recap": recap}) if recap else Done(data={"recap": None})


def confirm(data: dict, send: bool):
    return Done() if send else Done(data={"recap": None})


def finish(ctx: Context, data: dict) -> None:
    """Save the reflection (a second one for the same meeting replaces the first) and send the
    recap, once per learner contact."""
    reflection = ctx.session.exec(
        select(Reflection).where(
            Reflection.meeting_id == data["meeting_id"], Reflection.person_id == ctx.person.id
        )
    ).first() or Reflection(meeting_id=data["meeting_id"], person_id=ctx.person.id)
    reflection.rating, reflection.attendance = data["rating"], data["attendance"]
    reflection.went_well, reflection.to_change = data["went_well"], data["to_change"]
    ctx.session.add(reflection)
    ctx.session.flush()
    if not data.get("recap"):
        ctx.say("reflect.saved", circle=data["circle"])
        return
    circle = ctx.session.get(Circle, data["circle_id"])
    sent = to_learners(ctx, circle, "recap", "reflect.recap_body", recap=data["recap"])
    reflection.recap_sent_at = ctx.now
    ctx.session.add(reflection)
    ctx.say("reflect.saved_recap", circle=data["circle"], count=sent)


FLOW = Flow(
    "reflect",
    steps=[
        Step("rating", ask="reflect.ask_rating", expect=number(1, 5),
             ask_values=lambda data: {"circle": data["circle"], "when": data["when"]}),
        Step("attendance", ask="reflect.ask_attendance",
             expect_from=lambda data: or_default(number(0, MOST_ATTENDING), data["yes"],
                                                 TAKE_SUGGESTION),
             ask_values=lambda data: {"yes": data["yes"]}),
        Step("went_well", ask="reflect.ask_went_well", expect=optional(text(max_len=500))),
        Step("to_change", ask="reflect.ask_to_change", expect=optional(text(max_len=500))),
        Step("recap", ask="reflect.ask_recap", expect=optional(text(max_len=300)),
             ask_values=lambda data: {"count": data["learners"]}, then=recap_or_done,
             skip=lambda data: not data["learners"] or data.get("recapped")),
        Step("send", ask="reflect.confirm_recap", expect=confirmation(), then=confirm,
             ask_values=lambda data: {"count": data["learners"], "recap": data["recap"]},
             skip=lambda data: not data.get("recap")),
    ],
    finish=finish,
    # Unanswered for a day: one nudge; a day after that it lapses without a word.
    expires=timedelta(hours=48),
    nudge_after=timedelta(hours=24),
    nudge="reflect.nudge",
)  # fmt: skip
