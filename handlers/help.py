"""HELP and hints: the commands that fit this person's roles, from the command registry."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import t
from handlers import commands

# A person's main role decides which command a hint suggests: the most specific one first.
ROLE_ORDER = ("organizer", "facilitator", "learner")


def for_person(ctx: Context) -> str:
    """Compose the help text: the commands this person may use, then the keywords for all."""
    lines = [t("help.intro", ctx.language)]
    lines += [
        t(command.help, ctx.language)
        for command in commands.COMMANDS
        if command.help and command.allowed(ctx.roles) and command.shown(ctx.roles)
    ]
    lines.append(t("help.everyone", ctx.language))
    return "\n".join(lines)


def suggestion(ctx: Context) -> str | None:
    """The one command worth naming to this person in a hint, if any."""
    held = [role for role in ROLE_ORDER if getattr(ctx.roles, role)]
    for role in held or [None]:
        for command in commands.COMMANDS:
            fits = role in command.audience if role else not command.audience
            if command.suggest and fits:
                return command.words[0]
    return None
