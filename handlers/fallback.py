"""Anything nobody else took: greetings, thanks, HELP with a few more words, attachments, and a
short, role-aware hint, never silence."""

from __future__ import annotations

import re

from bot.context import Context
from handlers import help as help_text
from handlers.keywords import HELP_WORDS
from handlers.words import fold, split_command

_WORD = re.compile(r"\w+")

# A message made only of these words is small talk: it is answered, not misunderstood.
GREETINGS = frozenset(
    {
        "HELLO",
        "HI",
        "HEY",
        "HELO",
        "HALLO",
        "HABARI",
        "MAMBO",
        "JAMBO",
        "HUJAMBO",
        "SASA",
        "SALAMU",
        "SHIKAMOO",
        "NIAJE",
        "MORNING",
        "AFTERNOON",
        "EVENING",
    }
)
THANKS = frozenset({"THANKS", "THANK", "THANKYOU", "THX", "ASANTE", "ASANTENI", "SHUKRANI"})
# Words that only soften a greeting, a thanks or HELP ("good morning", "asante sana", "help me").
COURTESY = frozenset(
    {
        "GOOD",
        "YOU",
        "SO",
        "VERY",
        "MUCH",
        "A",
        "LOT",
        "ALL",
        "THERE",
        "DEAR",
        "SIR",
        "MADAM",
        "FRIEND",
        "SANA",
        "YAKO",
        "ZAKO",
        "ZENU",
        "ZA",
        "ASUBUHI",
        "MCHANA",
        "JIONI",
        "LEO",
        "RAFIKI",
        "ME",
        "PLEASE",
        "PLS",
        "PLZ",
        "TAFADHALI",
        "NISAIDIE",
    }
)
VOICE_PREFIX = "audio/"  # Twilio audio/ogg, Telegram voice notes and audio files


def route(ctx: Context) -> bool:
    """Answer small talk, HELP in other words and attachments; else hint at a command and HELP."""
    if not ctx.text:
        voice = any((m.get("type") or "").startswith(VOICE_PREFIX) for m in ctx.message.media)
        ctx.say("hint.voice" if voice else "hint.media")
        return True
    word, rest = split_command(ctx.text)
    if word in HELP_WORDS:
        ctx.send(help_text.for_topic(ctx, rest) or help_text.for_person(ctx))
        return True
    words = set(_WORD.findall(fold(ctx.text)))
    if words <= THANKS | COURTESY and words & THANKS:
        ctx.say("greet.thanks")
        return True
    if words <= GREETINGS | COURTESY and words & GREETINGS:
        command = help_text.suggestion(ctx)
        ctx.say("greet.hello_try", command=command) if command else ctx.say("greet.hello")
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
