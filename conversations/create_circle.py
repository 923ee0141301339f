"""NEW: the create-a-circle dialog, one question at a time, then a summary to confirm."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.channels import texting_number
from bot.channels.base import SMS, WHATSAPP
from bot.config import get_settings
from bot.context import Context
from bot.i18n import t
from bot.when import day_time
from conversations.engine import Done, Flow, Next, Reask, Step, Stop
from conversations.parsers import (
    choice,
    date_time,
    duration_minutes,
    limit,
    or_default,
    text,
    weeks,
    yes_no_or_line,
)
from models.circles import create_circle
from models.teams import Team

EARLIEST_HOUR, LATEST_HOUR = 6, 22  # a circle meeting outside these hours is likely a slip
# Set when the facilitator picks a summary line to change: from then on each answer goes
# straight back to the summary, not on through the questions that follow it.
EDITING = "_editing"


def name_or_course(data: dict, name):
    return Next(data={"name": name or data["course"]})


def first_meeting(data: dict, when: datetime):
    """Keep the first meeting as local wall-clock time; refuse hours nobody meets at."""
    local = when.astimezone(ZoneInfo(data["timezone"]))
    if not EARLIEST_HOUR <= local.hour <= LATEST_HOUR:
        return Reask("new.odd_hour", {"time": local.strftime("%H:%M")})
    return Next(data={"first": local.replace(tzinfo=None).isoformat(timespec="minutes")})


def pick_team(data: dict, index: int):
    return Next(data=data["teams"][index])


def confirm(data: dict, answer: bool | str):
    """YES creates the circle, NO discards it, a line's number asks that one question again."""
    if answer is True:
        return Done()
    if answer is False:
        return Stop("new.cancelled")
    return Next(step=answer, data={EDITING: True})


def back_to_summary(steps: list[Step]) -> list[Step]:
    """Send each answer given while changing a summary line straight back to the summary."""

    def returning(step: Step):
        def then(data: dict, value):
            went_on = step.then(data, value) if step.then else Next(data={step.name: value})
            if data.get(EDITING) and isinstance(went_on, Next) and went_on.step is None:
                return Next(step="confirm", data=went_on.data)
            return went_on

        return then

    return [replace(step, then=returning(step)) for step in steps]


def summary_lines(data: dict) -> list[tuple[str, str]]:
    """The summary's lines, each with the step that changes it; the course only if not the name."""
    language = data.get("language", "en")
    first = datetime.fromisoformat(data["first"]).replace(tzinfo=ZoneInfo(data["timezone"]))
    when = day_time(first, data["timezone"], language)
    most = data["limit"] or t("new.no_limit", language)
    course = [("course", t("new.line_course", language, course=data["course"]))]
    return [
        ("name", data["name"]),
        *(course if data["course"] != data["name"] else []),
        ("venue", data["venue"]),
        ("city", data["city"]),
        ("first", t("new.line_first", language, when=when)),
        ("weeks", t("new.line_weeks", language, weeks=data["weeks"])),
        ("duration", t("new.line_duration", language, duration=data["duration"])),
        ("limit", t("new.line_limit", language, limit=most)),
    ]


def summary_values(data: dict) -> dict:
    numbered = [f"{n}) {line}" for n, (_, line) in enumerate(summary_lines(data), start=1)]
    return {"lines": "\n".join(numbered)}


def summary_answer(data: dict):
    """YES, NO, or the number of a summary line (its value is the step that asks it)."""
    return yes_no_or_line([step for step, _ in summary_lines(data)])


def finish(ctx: Context, data: dict) -> None:
    """Create the circle and its meetings; give the join code and a line to share."""
    team = ctx.session.get(Team, data["team_id"]) if data.get("team_id") else None
    circle = create_circle(
        ctx.session,
        team,
        ctx.person.id,
        name=data["name"],
        course=data["course"],
        venue=data["venue"],
        city=data["city"],
        first=datetime.fromisoformat(data["first"]),
        weeks=data["weeks"],
        duration=data["duration"],
        timezone=data["timezone"],
        limit=data["limit"],
    )
    ctx.forget_roles()
    ctx.say("new.created", name=circle.name, code=circle.join_code)
    phone = ctx.contact.address if ctx.contact.channel in (SMS, WHATSAPP) else None
    ctx.send(share_line(circle.join_code, ctx.language, phone))


def share_line(code: str, language: str, phone: str | None = None) -> str:
    """One line a facilitator can forward: how to join, on the channel we have; by SMS at the
    number their own learners would text (in Kenya, the shortcode)."""
    settings = get_settings()
    if number := texting_number(settings, phone):
        return t("new.share_sms", language, code=code, number=number)
    if settings.telegram_bot_username:
        return t("new.share_telegram", language, code=code, bot=settings.telegram_bot_username)
    return t("new.share", language, code=code)


FLOW = Flow(
    "create_circle",
    steps=[
        *back_to_summary([
            Step("team", ask="new.ask_team",
                 expect_from=lambda data: choice([team["team"] for team in data["teams"]]),
                 ask_values=lambda data: {"choices": data["choices"]}, then=pick_team,
                 skip=lambda data: "team_id" in data or not data.get("teams")),
            Step("course", ask="new.ask_course", expect=text(max_len=200)),
            Step("name", ask="new.ask_name", expect=or_default(text(max_len=120), None),
                 ask_values=lambda data: {"course": data["course"]}, then=name_or_course),
            Step("venue", ask="new.ask_venue", expect=text(max_len=200)),
            Step("city", ask="new.ask_city", expect=text(max_len=100)),
            Step("first", ask="new.ask_first", expect=date_time(), then=first_meeting),
            Step("weeks", ask="new.ask_weeks", expect=or_default(weeks(1, 52), 6)),
            Step("duration", ask="new.ask_duration",
                 expect=or_default(duration_minutes(15, 600), 90)),
            Step("limit", ask="new.ask_limit", expect=limit(1, 1000)),
        ]),
        Step("confirm", ask="new.summary", expect_from=summary_answer, ask_values=summary_values,
             then=confirm),
    ],
    finish=finish,
)  # fmt: skip
