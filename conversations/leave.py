"""The leave dialog: which circle (when several), a confirmation, then no more reminders."""

from __future__ import annotations

from sqlmodel import select

from bot.context import Context
from conversations.engine import Done, Flow, Next, Step, Stop, which
from conversations.parsers import confirmation
from handlers.notify import tell_facilitators
from models.circles import Signup, learner_counts


def pick(data: dict, index: int):
    return Next(data=data["options"][index])


def confirm(data: dict, sure: bool):
    return Done() if sure else Stop("leave.kept", {"circle": data["circle"]})


def finish(ctx: Context, data: dict) -> None:
    """Mark the signup as left and tell the circle's facilitators."""
    signup = ctx.session.exec(
        select(Signup).where(Signup.id == data["signup_id"], Signup.left_at.is_(None))
    ).first()
    if signup is None:  # already left from another phone
        ctx.say("leave.none")
        return
    signup.left_at = ctx.now
    ctx.session.add(signup)
    ctx.session.flush()
    ctx.forget_roles()
    ctx.say("leave.done", circle=data["circle"])
    count = learner_counts(ctx.session, [signup.circle_id])[signup.circle_id]
    tell_facilitators(
        ctx.session, signup.circle_id, "leave.facilitator_told",
        name=ctx.person.name, circle=data["circle"], count=count,
    )  # fmt: skip


FLOW = Flow(
    "leave",
    steps=[
        which("leave.which", then=pick, skip=lambda data: "signup_id" in data),
        Step(
            "confirm",
            ask="leave.confirm",
            expect=confirmation(),
            ask_values=lambda data: {"circle": data["circle"]},
            then=confirm,
        ),
    ],
    finish=finish,
)
