"""HELP: the commands that fit this person's roles, shortest first."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import t

# Each role's help line, shown when the person has that role; newcomers see the learner's
# line so they know how to find a circle.
ROLE_LINES = (
    ("learner", "help.learner"),
    ("facilitator", "help.facilitator"),
    ("organizer", "help.organizer"),
)


def for_person(ctx: Context) -> str:
    """Compose the help text for the sender's roles."""
    roles = ctx.roles
    lines = [t("help.intro", ctx.language)]
    shown = [key for role, key in ROLE_LINES if getattr(roles, role)]
    lines += [t(key, ctx.language) for key in shown or ["help.newcomer"]]
    lines.append(t("help.everyone", ctx.language))
    return "\n".join(lines)


def for_group(ctx: Context) -> str:
    """The help text of a group chat: its commands and how to link it."""
    key = "help.group_linked" if ctx.group.team_id else "help.group_unlinked"
    return t(key, ctx.language)
