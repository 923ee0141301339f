"""Anything nobody else took: a short, role-aware hint, never silence."""

from __future__ import annotations

from bot.context import Context


def route(ctx: Context) -> bool:
    """Hint at the commands that fit this person."""
    if ctx.message.media and not ctx.text:
        ctx.say("hint.media")
        return True
    roles = ctx.roles
    if roles.facilitator or roles.organizer:
        ctx.say("hint.facilitator")
    elif roles.learner:
        ctx.say("hint.learner")
    else:
        ctx.say("hint.newcomer")
    return True


def group_route(ctx: Context) -> bool:
    """A command the group's bot does not know."""
    ctx.say("group.unknown")
    return True
