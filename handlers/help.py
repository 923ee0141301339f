"""HELP and hints: the commands that fit this person's roles, from the command registry."""

from __future__ import annotations

from bot.channels.base import SMS
from bot.context import Context
from bot.i18n import t
from bot.sms import segments
from handlers import commands
from handlers.words import fold

# A person's main role decides which command a hint suggests: the most specific one first.
ROLE_ORDER = ("organizer", "facilitator", "learner")
# HELP <topic> tells more. A topic's word in each language, as (English, Swahili).
TOPICS = {
    "circles": ("CIRCLES", "VIKUNDI"),
    "meetings": ("MEETINGS", "MIKUTANO"),
    "team": ("TEAM", "TIMU"),
    "data": ("DATA", "TAARIFA"),
}
# The words about a person's own data are no commands (handlers.privacy reads them anywhere):
# HELP DATA lists them, for everyone.
DATA_HELP = ("help.mydata", "help.forget", "help.connect", "help.use_this")
# The topic HELP shows first on SMS, by main role (None: someone with no role yet).
MAIN_TOPIC = {"organizer": "team", "facilitator": "meetings", "learner": "circles", None: "circles"}
# TEAM is for anyone who would facilitate, so it has no audience; it belongs with the team's,
# and HELP names it so that a would-be facilitator finds it.
TEAM_WORDS = ("TEAM",)
HELP_OF = {"TEAM": "help.team"}


def word(command: commands.Command, language: str) -> str:
    """The command's word as this person reads it: the Swahili twin in Swahili."""
    return command.words[1] if language == "sw" and len(command.words) > 1 else command.words[0]


def help_key(command: commands.Command) -> str | None:
    """The catalog key of the command's HELP line, if HELP shows it."""
    return command.help or HELP_OF.get(command.words[0])


def topic_of(command: commands.Command) -> str:
    """The HELP topic a command belongs to, from whom it is meant for."""
    if command.words[0] in TEAM_WORDS or command.audience == commands.ORGANIZER:
        return "team"
    if "facilitator" in command.audience:
        return "meetings"
    return "circles"


def main_role(ctx: Context) -> str | None:
    return next((role for role in ROLE_ORDER if getattr(ctx.roles, role)), None)


def for_person(ctx: Context) -> str:
    """Compose HELP: one SMS on SMS (the main role's commands and the topics), else all lines."""
    if ctx.message.channel == SMS and not ctx.in_group:
        return _one_sms(ctx)
    lines = [t("help.intro", ctx.language)]
    lines += [
        t(help_key(command), ctx.language)
        for command in commands.COMMANDS
        if help_key(command) and command.allowed(ctx.roles) and command.shown(ctx.roles)
    ]
    lines.append(t("help.data", ctx.language))
    lines.append(t("help.more", ctx.language, topics=_topic_words(ctx)))
    lines.append(t("help.everyone", ctx.language))
    return "\n".join(lines)


def for_topic(ctx: Context, topic: str) -> str | None:
    """The help on one topic (HELP MEETINGS): every command of it; None when `topic` names none."""
    wanted = fold(topic).strip(".,!?:;")
    name = next((name for name, words in TOPICS.items() if wanted in words), None)
    if name is None:
        return None
    lines = [t("help.intro", ctx.language)]
    if name == "data":
        return "\n".join(lines + [t(key, ctx.language) for key in DATA_HELP])
    lines += [
        t(help_key(command), ctx.language)
        for command in commands.COMMANDS
        if help_key(command) and topic_of(command) == name
    ]
    return "\n".join(lines)


def _topic_words(ctx: Context) -> str:
    """The topics with something for this person, TEAM for a would-be facilitator, and DATA."""
    shown = {topic_of(c) for c in commands.COMMANDS if help_key(c) and c.shown(ctx.roles)} | {
        "team",
        "data",
    }
    index = 1 if ctx.language == "sw" else 0
    return " / ".join(words[index] for name, words in TOPICS.items() if name in shown)


def _one_sms(ctx: Context) -> str:
    """The main role's commands by word, where to find more, and the words for everyone."""
    topic = MAIN_TOPIC[main_role(ctx)]
    words = [
        word(command, ctx.language)
        for command in commands.COMMANDS
        if help_key(command) and topic_of(command) == topic and command.shown(ctx.roles)
    ]
    more = t("help.more", ctx.language, topics=_topic_words(ctx))
    # START is worth naming where STOP is, but not at the cost of a second SMS; nor is the tail
    # of a long list, which HELP <topic> shows in full.
    for count in range(len(words), -1, -1):
        listed = f" {', '.join(words[:count])}." if count else ""
        head = t("help.intro", ctx.language) + listed
        for everyone in ("help.short_everyone_start", "help.short_everyone"):
            text = f"{head} {more} {t(everyone, ctx.language)}"
            if segments(text) == 1:
                return text
    return text


def suggestion(ctx: Context) -> str | None:
    """The one command worth naming to this person in a hint, if any."""
    held = [role for role in ROLE_ORDER if getattr(ctx.roles, role)]
    for role in held or [None]:
        for command in commands.COMMANDS:
            fits = role in command.audience if role else not command.audience
            if command.suggest and fits:
                return word(command, ctx.language)
    return None


def refusal(ctx: Context, command: commands.Command) -> str:
    """Why the person may not use `command`, and what they can do instead."""
    whom = "auth.for_organizers" if command.roles == commands.ORGANIZER else "auth.for_facilitators"
    values = {"command": word(command, ctx.language), "whom": t(whom, ctx.language)}
    instead = suggestion(ctx)
    if instead and instead != values["command"]:
        return t("auth.refused_try", ctx.language, instead=instead, **values)
    return t("auth.refused", ctx.language, **values)
