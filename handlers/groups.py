"""Group chats: commands addressed to the bot; a group sees only its own team."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import update
from sqlmodel import select

from bot import throttle
from bot.context import Context
from handlers import help as help_text
from handlers import organizer, team_view
from handlers.chat_events import unlink as forget_team
from handlers.keywords import HELP_WORDS
from handlers.words import split_command
from models.teams import ORGANIZER, LinkCode, Team, TeamMember

# Five tries at /link per group, one more every twelve minutes: guessing an 8-character code
# that way takes longer than the code lives.
LINK_TRIES = 5
LINK_TRIES_PER_SECOND = 1 / 720


def route(ctx: Context) -> bool:
    """Answer /help and /link in any group; the team's commands in a linked group only."""
    word, rest = split_command(ctx.text)
    # Telegram opens every new chat with /start: answer it like /help.
    if word in HELP_WORDS or word == "START":
        ctx.send(help_text.for_group(ctx))
        return True
    if word in LINK_WORDS:
        link(ctx, rest)
        return True
    if ctx.group.team_id is None:
        ctx.say("group.link_first")
        return True
    command = next((run for words, run in TEAM_COMMANDS if word in words), None)
    if command is None:
        return False
    command(ctx, ctx.session.get(Team, ctx.group.team_id))
    return True


def link(ctx: Context, rest: str) -> None:
    """/link CODE: link this group to the code's team; the code works once, for 24 hours."""
    bucket, at = f"group-link:{ctx.group.id}", ctx.now.timestamp()
    if throttle.try_take(bucket, LINK_TRIES_PER_SECOND, LINK_TRIES, at=at) > 0:
        ctx.say("group.link_slow")
        return
    code = re.sub(r"[^A-Za-z0-9]", "", rest).upper()[:16]
    # The claim and the check are one statement: two groups racing for a code, one wins.
    team_id = ctx.session.execute(
        update(LinkCode)
        .where(LinkCode.code == code, LinkCode.used_at.is_(None), LinkCode.expires_at > ctx.now)
        .values(used_at=ctx.now)
        .returning(LinkCode.team_id)
    ).scalar_one_or_none() if code else None  # fmt: skip
    if team_id is None:  # wrong, used and expired read alike: a guess learns nothing
        ctx.say("group.link_bad")
        return
    team = ctx.session.get(Team, team_id)
    ctx.group.team_id, ctx.group.linked_at, ctx.group.linked_by = team.id, ctx.now, ctx.person.id
    ctx.session.add(ctx.group)
    ctx.group_language = team.language
    ctx.say("group.linked", team=team.name)


def unlink(ctx: Context, team: Team) -> None:
    """/unlink, by one of the team's organizers: the group gets no digest and no team data."""
    organizer_of_team = ctx.session.exec(
        select(TeamMember.id).where(TeamMember.team_id == team.id,
                                    TeamMember.person_id == ctx.person.id,
                                    TeamMember.role == ORGANIZER)
    ).first()  # fmt: skip
    if organizer_of_team is None:
        ctx.say("auth.not_allowed")
        return
    forget_team(ctx.group)
    ctx.session.add(ctx.group)
    ctx.say("group.unlinked", team=team.name)


def _view(view: organizer.View) -> Callable[[Context, Team], None]:
    return lambda ctx, team: organizer.show(ctx, [team], view)


LINK_WORDS = ("LINK", "UNGANISHA")
TEAM_COMMANDS: list[tuple[tuple[str, ...], Callable[[Context, Team], None]]] = [
    (("WEEK", "WIKI"), _view(team_view.week_view)),
    (("CIRCLES", "VIKUNDI"), _view(team_view.circles)),
    (("FACILITATORS", "WAWEZESHAJI"), _view(team_view.facilitators)),
    (("FEEDBACK", "MAONI"), _view(team_view.feedback)),
    (("DIGEST", "MUHTASARI"), lambda ctx, team: organizer.send_digest(ctx, [team])),
    (("INVITE", "MWALIKO"), lambda ctx, team: ctx.send(organizer.invite_text(team, ctx.language))),
    (("UNLINK", "TENGANISHA"), unlink),
]
