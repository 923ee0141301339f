"""NEW: the create-a-circle dialog, one question at a time, then a summary to confirm."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import get_settings
from bot.context import Context
from bot.i18n import t
from bot.when import day_time
from conversations.engine import Done, Flow, Next, Reask, Step, Stop
from conversations.parsers import (
    choice,
    date_time,
    number,
    or_default,
    text,
    yes_no,
)
from models.circles import create_circle
from models.teams import Team

EARLIEST_HOUR, LATEST_HOUR = 6, 22  # a circle meeting outside these hours is likely a slip


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


def confirm(data: dict, yes: bool):
    return Done() if yes else Stop("new.cancelled")


def summary_values(data: dict) -> dict:
    first = datetime.fromisoformat(data["first"]).replace(tzinfo=ZoneInfo(data["timezone"]))
    language = data.get("language", "en")
    return {
        "name": data["name"],
        "course": data["course"],
        "venue": data["venue"],
        "city": data["city"],
        "when": day_time(first, data["timezone"], language),
        "weeks": data["weeks"],
        "duration": data["duration"],
        "limit": data["limit"] or t("new.no_limit", language),
    }


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
    ctx.send(share_line(circle.join_code, ctx.language))


def share_line(code: str, language: str) -> str:
    """One line a facilitator can forward: how to join, on the channel we have."""
    settings = get_settings()
    if settings.twilio_sms_from.startswith("+"):
        return t("new.share_sms", language, code=code, number=settings.twilio_sms_from)
    if settings.telegram_bot_username:
        return t("new.share_telegram", language, code=code, bot=settings.telegram_bot_username)
    return t("new.share", language, code=code)


FLOW = Flow(
    "create_circle",
    steps=[
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
        Step("weeks", ask="new.ask_weeks", expect=or_default(number(1, 52), 6)),
        Step("duration", ask="new.ask_duration", expect=or_default(number(15, 600), 90)),
        Step("limit", ask="new.ask_limit", expect=or_default(number(1, 1000), None)),
        Step("confirm", ask="new.summary", expect=yes_no(), ask_values=summary_values,
             then=confirm),
    ],
    finish=finish,
)  # fmt: skip
