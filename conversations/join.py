"""The join dialog: code, name (if we don't know it), goal, consent, then a place in the circle."""

from __future__ import annotations

from sqlmodel import select

from bot.context import Context
from bot.when import day_time
from conversations.engine import Done, Flow, Next, Step, Stop
from conversations.parsers import confirmation, text
from handlers.join import WORDS, find_circle, normalize_code, refusal_for
from handlers.notify import tell_facilitators
from models.circles import (
    SCHEDULED,
    Circle,
    Meeting,
    Signup,
    forget_answers_to_come,
    learner_counts,
)


def check_code(ctx: Context, data: dict, answer: str):
    """A code must name a circle this person can join; a typo gets another try."""
    code = normalize_code(answer)
    circle = find_circle(ctx.session, code, ctx.contact)
    # Each refusal ends the dialog, so that "reply CIRCLES" in it works as it says.
    refusal = refusal_for(ctx.session, circle, ctx.person.id, code, ctx.now)
    if refusal:
        return Stop(*refusal)
    return Next(data={"circle_id": circle.id, "circle": circle.name})


def consent(data: dict, agreed: bool):
    return Done() if agreed else Stop("join.no_consent")


def finish(ctx: Context, data: dict) -> None:
    """Give the learner their place, confirm with the first meeting, tell the facilitators."""
    code = ctx.session.get(Circle, data["circle_id"]).join_code
    circle = find_circle(ctx.session, code, ctx.contact, lock=True)
    refusal = refusal_for(ctx.session, circle, ctx.person.id, code, ctx.now)
    if refusal:  # the last place went, or the circle closed, while they were answering
        key, values = refusal
        ctx.say(key, **values)
        return
    if data.get("name"):
        ctx.person.name = data["name"]
        ctx.session.add(ctx.person)
    signup = ctx.session.exec(
        select(Signup).where(Signup.circle_id == circle.id, Signup.person_id == ctx.person.id)
    ).first()
    if signup is None:
        signup = Signup(circle_id=circle.id, person_id=ctx.person.id)
    elif signup.left_at is not None:
        forget_answers_to_come(ctx.session, signup, ctx.now)
    signup.contact_id, signup.goal = ctx.contact.id, data["goal"]
    signup.joined_at, signup.left_at = ctx.now, None
    ctx.session.add(signup)
    ctx.session.flush()
    ctx.forget_roles()
    meeting = ctx.session.exec(
        select(Meeting)
        .where(
            Meeting.circle_id == circle.id,
            Meeting.status == SCHEDULED,
            Meeting.starts_at > ctx.now,
        )
        .order_by(Meeting.starts_at)
    ).first()
    if meeting is None:
        ctx.say("join.welcome_no_meeting", circle=circle.name)
    else:
        ctx.say(
            "join.welcome",
            circle=circle.name,
            when=day_time(meeting.starts_at, circle.timezone, ctx.language),
            venue=circle.venue,
        )
    count = learner_counts(ctx.session, [circle.id])[circle.id]
    tell_facilitators(
        ctx.session,
        circle.id,
        "join.facilitator_told",
        circle=circle.name,
        name=ctx.person.name,
        goal=data["goal"],
        count=count,
    )


FLOW = Flow(
    "join",
    steps=[
        Step(
            "code",
            ask="join.ask_code",
            expect=text(max_len=20),
            check=check_code,
            skip=lambda data: "circle_id" in data,
            command_words=WORDS,
        ),
        Step(
            "name",
            ask="join.ask_name",
            expect=text(max_len=60),
            skip=lambda data: data.get("known_name", False),
        ),
        Step(
            "goal",
            ask="join.ask_goal",
            expect=text(max_len=300),
            ask_values=lambda data: {"circle": data["circle"]},
        ),
        Step("consent", ask="join.ask_consent", expect=confirmation(), then=consent),
    ],
    finish=finish,
)
