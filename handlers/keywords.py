"""Keywords for everyone: STOP words, START, HELP, LANG, EXIT (PRODUCT "Everyone")."""

from __future__ import annotations

import re

from babel.lists import format_list
from sqlalchemy import update
from sqlmodel import or_, select

from bot import outbox
from bot.channels.base import SMS, WHATSAPP
from bot.context import Context
from bot.i18n import LANGUAGE_NAMES, normalize_language, t
from conversations import engine
from handlers import commands
from handlers import help as help_text
from handlers.words import fold, matches, split_command, whole
from models.message import Message
from models.people import CHANNELS, Contact

# The carrier opt-out words: each stops only as the whole message, as carriers count it.
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
# ANZA is Swahili for "start": as the whole message it means nothing else.
START_WORDS = frozenset({"START", "UNSTOP", "ANZA"})
# While stopped, only a plain YES resumes: an "ok" or a thumbs-up must not undo a STOP.
# ENDELEA ("continue") resumes only then: otherwise it is everyday talk, and gets the hint.
RESUME_WORDS = frozenset({"YES", "NDIYO", "ENDELEA"})
STOP_ALL = "STOPALL"  # also "STOP ALL": spaces aside, as every STOP word
HELP_WORDS = ("HELP", "MSAADA", "INFO")
LANG_WORDS = ("LANG", "LUGHA", "LANGUAGE")
EXIT_WORDS = ("EXIT", "TOKA")
# The words these routes answer before any dialog; a confirmation is left for them too.
KEYWORDS = STOP_WORDS | START_WORDS | frozenset((*HELP_WORDS, *LANG_WORDS, *EXIT_WORDS))
# ACHA ("stop", "leave it") is not among them: it is everyday Swahili ("Acha!", "acha nione")
# and no carrier's word, so it gets the hint that leads to STOP rather than silencing someone.
# A number that writes on SMS and on WhatsApp is two contacts of one person (bot/identity.py).
PHONE_CHANNELS = (SMS, WHATSAPP)


def opt_out_route(ctx: Context) -> bool:
    """STOP stops everything at once (one confirmation); START or UNSTOP resumes."""
    word = whole(ctx.text)
    if word in STOP_WORDS:
        others = _still_reached(ctx)
        if word == STOP_ALL and others:
            # STOP ALL (or STOPALL) asks for every channel of theirs at once, this one's
            # confirmation being the one message they get.
            ctx.session.execute(
                update(Contact)
                .where(Contact.id.in_([contact_id for contact_id, _ in others]))
                .values(opted_out_at=ctx.now)
            )
            others = []
        if ctx.contact.opted_out_at is None:
            ctx.contact.opted_out_at = ctx.now
            ctx.session.add(ctx.contact)
            engine.end(ctx, status="stopped")
            ctx.send(stop_confirmation(ctx, others), purpose=outbox.STOP_CONFIRMATION)
        return True
    if word in START_WORDS:
        resume(ctx)
        return True
    return False


def stop_confirmation(ctx: Context, others: list[tuple[int, str]]) -> str:
    """Confirm the STOP, naming the channels that still get messages: STOP is per address."""
    channels = {channel for _, channel in others}
    if not channels:
        return t("stop.confirmed", ctx.language)
    names = [t(f"channel.{channel}", ctx.language) for channel in CHANNELS if channel in channels]
    return t(
        "stop.confirmed_elsewhere",
        ctx.language,
        channel=t(f"channel.{ctx.contact.channel}", ctx.language),
        others=format_list(names, locale=ctx.language),
    )


def _still_reached(ctx: Context) -> list[tuple[int, str]]:
    """The other contacts that still get messages, with their channels: the person's, and this
    number's on the other phone channel."""
    mine = Contact.person_id == ctx.contact.person_id
    if ctx.contact.channel in PHONE_CHANNELS:
        same_number = (Contact.address == ctx.contact.address) & Contact.channel.in_(PHONE_CHANNELS)
        mine = or_(mine, same_number)
    return list(
        ctx.session.exec(
            select(Contact.id, Contact.channel).where(
                mine,
                Contact.channel != ctx.contact.channel,
                Contact.opted_out_at.is_(None),
            )
        ).all()
    )


def stopped_route(ctx: Context) -> bool:
    """Ignore a stopped contact, except that YES resumes it and HELP says how (as carriers
    allow)."""
    if ctx.contact.opted_out_at is None:
        return False
    word = whole(ctx.text)
    if word in RESUME_WORDS:
        resume(ctx)
    elif word in HELP_WORDS:
        help_while_stopped(ctx)
    return True


def help_while_stopped(ctx: Context) -> None:
    """Say how to START again, once per STOP: a second HELP gets nothing, as anything else."""
    key = f"stopped_help:{ctx.contact.id}:{ctx.contact.opted_out_at.isoformat()}"
    if ctx.session.exec(select(Message.id).where(Message.dedupe_key == key)).first():
        return
    # Sent as the STOP confirmation is: the only purpose a stopped contact is still sent.
    reply = outbox.to_contact(
        ctx.session,
        ctx.contact,
        t("stop.help", ctx.language),
        purpose=outbox.STOP_CONFIRMATION,
        dedupe_key=key,
    )
    ctx.replies.append(reply)


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
    if matches(word, HELP_WORDS, typos=typos):
        # HELP works in a dialog too, with courtesy ("help me", "msaada tafadhali") or a topic;
        # "help me with Excel" may be an answer ("what do you hope to learn?") and stays one.
        reply = help_text.for_person(ctx) if _only_courtesy(rest) else None
        reply = reply or (help_text.for_topic(ctx, rest) if rest else None)
        if reply:
            ctx.send(reply)
            return True
    if matches(word, LANG_WORDS, typos=False):
        change_language(ctx, rest)
        return True
    if matches(word, EXIT_WORDS, typos=typos) and not rest:
        ctx.say("exit.done" if engine.end(ctx, status="exited") else "exit.nothing")
        return True
    return False


def _only_courtesy(rest: str) -> bool:
    """Whether the words after HELP only soften it ("me", "please", "tafadhali")."""
    from handlers.fallback import COURTESY  # fallback reads HELP_WORDS from here

    return set(re.findall(r"\w+", fold(rest))) <= COURTESY


def change_language(ctx: Context, wanted: str) -> None:
    """Switch the person's language, or ask which one when they did not say."""
    if not wanted:
        engine.start(ctx, "language")
        return
    language = normalize_language(fold(wanted))
    if language is None:
        ctx.say("lang.unknown", choices=", ".join(f"LANG {code}" for code in LANGUAGE_NAMES))
        return
    set_language(ctx, language)


def set_language(ctx: Context, language: str) -> None:
    """Store the language and confirm in it."""
    ctx.person.language = language
    ctx.session.add(ctx.person)
    ctx.say("lang.changed", language=LANGUAGE_NAMES[language])
