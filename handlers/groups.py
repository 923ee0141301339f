"""Group chats: commands addressed to the bot; a group sees only its own team."""

from __future__ import annotations

from bot.context import Context
from handlers import help as help_text
from handlers.keywords import HELP_WORDS
from handlers.words import split_command


def route(ctx: Context) -> bool:
    """Answer /help in any group; other commands need the group linked to a team."""
    word, _ = split_command(ctx.text)
    # Telegram opens every new chat with /start: answer it like /help.
    if word in HELP_WORDS or word == "START":
        ctx.send(help_text.for_group(ctx))
        return True
    if ctx.group.team_id is None:
        ctx.say("group.link_first")
        return True
    return False
