"""Anything nobody else took: a short, role-aware hint, never silence."""

from __future__ import annotations

from bot.context import Context
from handlers import help as help_text


def route(ctx: Context) -> bool:
    """Hint at the command that fits this person best, and at HELP."""
    if ctx.message.media and not ctx.text:
        ctx.say("hint.media")
        return True
    command = help_text.suggestion(ctx)
    if command:
        ctx.say("hint.try", command=command)
    else:
        ctx.say("hint.unknown")
    return True


def group_route(ctx: Context) -> bool:
    """A command the group's bot does not know."""
    ctx.say("group.unknown")
    return True
