"""CIRCLES, FIND <place> and MORE: the open circles a learner can join, a page at a time."""

from __future__ import annotations

import json
from datetime import datetime

from rapidfuzz import fuzz, utils
from sqlalchemy import func
from sqlmodel import select

from bot import queue, sandbox
from bot.channels.base import SMS
from bot.context import Context
from bot.i18n import t
from bot.sms import segments
from bot.when import day, weekday_time
from models.circles import SIGNUP_OPEN, Circle, Signup, first_local, has_meeting_after
from models.people import Contact
from models.teams import Team

# How much text one page may hold: two SMS segments, or a screenful elsewhere.
SMS_PAGE_SEGMENTS = 2
PAGE_CHARS = 1200
PLACE_MATCH = 85  # rapidfuzz WRatio: "nakru" finds Nakuru, "Nairobi" does not
MORE_SECONDS = 24 * 3600


def list_circles(ctx: Context, rest: str) -> None:
    """CIRCLES: every open circle, soonest first."""
    _show(ctx, place=None, offset=0)


def find(ctx: Context, rest: str) -> None:
    """FIND <place>: open circles in a city or team, typos forgiven."""
    if not rest:
        ctx.say("find.ask_place")
        return
    _show(ctx, place=rest[:100], offset=0)


def more(ctx: Context, rest: str) -> None:
    """MORE: the next page of the last list."""
    saved = queue.connection().get(_more_key(ctx))
    if saved is None:
        ctx.say("find.no_more")
        return
    state = json.loads(saved)
    _show(ctx, place=state["place"], offset=state["offset"])


def open_circles(
    session, place: str | None, at: datetime, contact: Contact
) -> list[tuple[Circle, str | None]]:
    """Circles taking learners and not full, soonest first, with their team's name: those the
    contact may see (the simulator's made-up people and real ones never see each other's)."""
    learners = (
        select(Signup.circle_id, func.count().label("n"))
        .where(Signup.left_at.is_(None))
        .group_by(Signup.circle_id)
        .subquery()
    )
    rows = session.exec(
        select(Circle, Team.name)
        .outerjoin(Team, Team.id == Circle.team_id)
        .outerjoin(learners, learners.c.circle_id == Circle.id)
        .where(
            Circle.status.in_(SIGNUP_OPEN),
            sandbox.circles_seen_by(contact),
            has_meeting_after(at),
            Circle.signup_limit.is_(None) | (func.coalesce(learners.c.n, 0) < Circle.signup_limit),
        )
        .order_by(Circle.first_date, Circle.start_time, Circle.id)
    ).all()
    if place is None:
        return list(rows)
    return [(circle, team) for circle, team in rows if _near(place, circle.city, team)]


def _near(place: str, city: str, team: str | None) -> bool:
    return any(
        fuzz.WRatio(place, name, processor=utils.default_process) >= PLACE_MATCH
        for name in (city, team)
        if name
    )


def _show(ctx: Context, place: str | None, offset: int) -> None:
    rows = open_circles(ctx.session, place, ctx.now, ctx.contact)
    if not rows:
        ctx.say("find.none_here" if place else "find.none", place=place or "")
        return
    lines = [_line(circle, ctx.language) for circle, _ in rows[offset:]]
    if not lines:
        ctx.say("find.no_more")
        return
    footer = t("find.more", ctx.language)
    page: list[str] = []
    for line in lines:
        if page and _too_long("\n".join([*page, line, footer]), ctx.contact.channel):
            break
        page.append(line)
    shown = offset + len(page)
    redis = queue.connection()
    if shown < len(rows):
        state = json.dumps({"place": place, "offset": shown})
        redis.set(_more_key(ctx), state, ex=MORE_SECONDS)
        page.append(footer)
    else:
        redis.delete(_more_key(ctx))
    ctx.send("\n".join(page))


def _too_long(text: str, channel: str) -> bool:
    """Past a page: two SMS segments (as carriers count them), or a screenful elsewhere."""
    return segments(text) > SMS_PAGE_SEGMENTS if channel == SMS else len(text) > PAGE_CHARS


def _line(circle: Circle, language: str) -> str:
    starts = first_local(circle)
    return t(
        "find.line",
        language,
        name=circle.name,
        venue=circle.venue,
        city=circle.city,
        when=weekday_time(starts, circle.timezone, language),
        start=day(starts.date(), language),
        code=circle.join_code,
    )


def _more_key(ctx: Context) -> str:
    return f"circlebot:more:{ctx.contact.id}"
