"""Command handlers by first word, each with the roles allowed to use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.context import Context
from handlers.words import matches, split_command


@dataclass(frozen=True)
class Command:
    """A command word (and its Swahili twin), who may use it, and what it does."""

    words: tuple[str, ...]
    run: Callable[[Context, str], None]
    roles: tuple[str, ...] = ()  # empty: anyone; else one of these roles is needed
    refusal: str = "auth.not_allowed"


# The journeys add their commands here, one line each, in the order they are matched.
COMMANDS: list[Command] = []


def route(ctx: Context) -> bool:
    """Run the command named by the first word, if the person may use it."""
    word, rest = split_command(ctx.text)
    for command in COMMANDS:
        if matches(word, command.words):
            if command.roles and not any(getattr(ctx.roles, role) for role in command.roles):
                ctx.say(command.refusal)
            else:
                command.run(ctx, rest)
            return True
    return False
