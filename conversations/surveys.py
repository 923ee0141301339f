"""The surveys after a circle's last meeting: learners on their own goal, facilitators on the
circle. Each answer is saved as it comes, so a survey left unfinished keeps what was given."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.context import Context
from conversations.engine import Flow, Next, Step
from conversations.parsers import number, optional, text, yes_no
from models.feedback import FACILITATOR, LEARNER, SurveyResponse

LIFETIME = timedelta(days=3)  # then it lapses, with the answers given so far


def _response(ctx: Context, data: dict, role: str):
    return update(SurveyResponse).where(
        SurveyResponse.circle_id == data["circle_id"],
        SurveyResponse.person_id == ctx.person.id,
        SurveyResponse.role == role,
    )


def _keeper(role: str, fields: tuple[str, ...]):
    def keep(ctx: Context, data: dict) -> None:
        values = {name: data[name] for name in fields if name in data}
        if values:
            ctx.session.execute(_response(ctx, data, role).values(**values))

    return keep


def _finisher(role: str, thanks: str):
    def finish(ctx: Context, data: dict) -> None:
        ctx.session.execute(_response(ctx, data, role).values(completed_at=ctx.now))
        ctx.say(thanks, circle=data["circle"])

    return finish


def goal_met(data: dict, value: int):
    return Next(data={"goal_met": value})


SKIPPABLE = optional(text(max_len=500))

LEARNER_SURVEY = Flow(
    "learner_survey",
    steps=[
        # The learner's own goal, quoted; someone who gave none is asked about the circle.
        Step("goal_met", ask="survey.ask_goal", expect=number(1, 5),
             ask_values=lambda data: {"circle": data["circle"], "goal": data["goal"]},
             skip=lambda data: not data.get("goal")),
        Step("goal_met_no_goal", ask="survey.ask_goal_none", expect=number(1, 5), then=goal_met,
             ask_values=lambda data: {"circle": data["circle"]},
             skip=lambda data: bool(data.get("goal"))),
        Step("worked_well", ask="survey.ask_worked_well", expect=SKIPPABLE),
        Step("improve", ask="survey.ask_improve", expect=SKIPPABLE),
        Step("next_steps", ask="survey.ask_next_steps", expect=SKIPPABLE),
    ],
    finish=_finisher(LEARNER, "survey.thanks_learner"),
    expires=LIFETIME,
    keep=_keeper(LEARNER, ("goal_met", "worked_well", "improve", "next_steps")),
)  # fmt: skip

FACILITATOR_SURVEY = Flow(
    "facilitator_survey",
    steps=[
        Step("rating", ask="survey.ask_rating", expect=number(1, 5),
             ask_values=lambda data: {"circle": data["circle"]}),
        Step("surprised", ask="survey.ask_surprised", expect=SKIPPABLE),
        Step("advice", ask="survey.ask_advice", expect=SKIPPABLE),
        Step("run_again", ask="survey.ask_run_again", expect=yes_no()),
    ],
    finish=_finisher(FACILITATOR, "survey.thanks_facilitator"),
    expires=LIFETIME,
    keep=_keeper(FACILITATOR, ("rating", "surprised", "advice", "run_again")),
)  # fmt: skip
