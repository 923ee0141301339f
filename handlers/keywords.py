"""Keywords for everyone: STOP words, START, HELP, LANG, EXIT (PRODUCT "Everyone")."""

from __future__ import annotations

from bot import outbox
from bot.context import Context
from bot.i18n import LANGUAGE_NAMES, normalize_language, t
from conversations import engine
from handlers import commands
from handlers import help as help_text
from handlers.words import matches, split_command, whole

# The carrier opt-out words: each stops only as the whole message, as carriers count it.
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
START_WORDS = frozenset({"START", "UNSTOP"})
# While stopped, only a plain YES resumes: an "ok" or a thumbs-up must not undo a STOP.
RESUME_WORDS = frozenset({"YES", "NDIYO"})
HELP_WORDS = ("HELP", "MSAADA", "INFO")
LANG_WORDS = ("LANG", "LUGHA", "LANGUAGE")
EXIT_WORDS = ("EXIT", "TOKA")


def opt_out_route(ctx: Context) -> bool:
    """STOP stops everything at once (one confirmation); START or UNSTOP resumes."""
    word = whole(ctx.text)
    if word in STOP_WORDS:
        if ctx.contact.opted_out_at is None:
            ctx.contact.opted_out_at = ctx.now
            ctx.session.add(ctx.contact)
            engine.end(ctx, status="stopped")
            ctx.send(t("stop.confirmed", ctx.language), purpose=outbox.STOP_CONFIRMATION)
        return True
    if word in START_WORDS:
        resume(ctx)
        return True
    return False


def stopped_route(ctx: Context) -> bool:
    """Ignore a stopped contact, except that YES resumes it (as carriers allow)."""
    if ctx.contact.opted_out_at is None:
        return False
    if whole(ctx.text) in RESUME_WORDS:
        resume(ctx)
    return True


def resume(ctx: Context) -> None:
    """Let messages flow to this contact again and say so."""
    was_stopped = ctx.contact.opted_out_at is not None
    ctx.contact.opted_out_at = None
    ctx.session.add(ctx.contact)
    ctx.say("start.resumed" if was_stopped else "start.welcome")


def route(ctx: Context) -> bool:
    """HELP, LANG and EXIT, which work anywhere, even in the middle of a dialog."""
    word, rest = split_command(ctx.text)
    # A command's own word is never read as a slip of a keyword (EDIT is not EXIT).
    typos = not any(word in command.words for command in commands.COMMANDS)
    if matches(word, HELP_WORDS, typos=typos) and not rest:
        ctx.send(help_text.for_person(ctx))
        return True
    if matches(word, LANG_WORDS, typos=False):
        change_language(ctx, rest)
        return True
    if matches(word, EXIT_WORDS, typos=typos) and not rest:
        ctx.say("exit.done" if engine.end(ctx, status="exited") else "exit.nothing")
        return True
    return False


def change_language(ctx: Context, wanted: str) -> None:
    """Switch the person's language, or ask which one when they did not say."""
    if not wanted:
        engine.start(ctx, "language")
        return
    language = normalize_language(wanted)
    if language is None:
        ctx.say("lang.unknown", choices=", ".join(f"LANG {code}" for code in LANGUAGE_NAMES))
        return
    set_language(ctx, language)


def set_language(ctx: Context, language: str) -> None:
    """Store the language and confirm in it."""
    ctx.person.language = language
    ctx.session.add(ctx.person)
    ctx.say("lang.changed", language=LANGUAGE_NAMES[language])
