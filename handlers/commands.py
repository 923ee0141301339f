"""Command handlers by first word, each with the roles allowed to use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.context import Context
from bot.roles import Roles
from handlers import facilitator, find, join, learner, organizer
from handlers.words import matches, split_command


@dataclass(frozen=True)
class Command:
    """A command word (and its Swahili twin), who may use it, what it does, how HELP shows it."""

    words: tuple[str, ...]
    run: Callable[[Context, str], None]
    roles: tuple[str, ...] = ()  # empty: anyone; else one of these roles is needed
    help: str | None = None  # catalog key of its HELP line
    suggest: bool = False  # named in the hint to someone whose main role can use it
    shown_to: tuple[str, ...] = ()  # roles whose HELP lists it, when not the same as `roles`

    def allowed(self, roles: Roles) -> bool:
        return not self.roles or any(getattr(roles, role) for role in self.roles)

    @property
    def audience(self) -> tuple[str, ...]:
        """The roles it is meant for: whom HELP and hints show it to (empty: everyone)."""
        return self.shown_to or self.roles

    def shown(self, roles: Roles) -> bool:
        return not self.audience or any(getattr(roles, role) for role in self.audience)


TYPO_MIN_WITH_ARGUMENTS = 5
LOOKS_AFTER = ("facilitator", "organizer")  # the roles that may see a circle's learners
ORGANIZER = ("organizer",)

# The journeys add their commands here, one line each; HELP lists them in this order.
COMMANDS: list[Command] = [
    Command(("CIRCLES", "VIKUNDI"), organizer.circles, help="help.circles", suggest=True),
    Command(("FIND", "TAFUTA"), find.find),
    Command(("MORE", "ZAIDI"), find.more),
    Command(("JOIN", "JIUNGE"), join.join, help="help.join"),
    # Anyone may ask NEXT or LEAVE (someone who just left gets a clear answer); HELP shows
    # them to learners.
    Command(
        ("NEXT", "IJAYO", "UJAO"),
        learner.next_meeting,
        help="help.next",
        suggest=True,
        shown_to=("learner",),
    ),
    Command(("LEAVE", "ONDOKA"), learner.leave, help="help.leave", shown_to=("learner",)),
    Command(("TEAM", "TIMU"), facilitator.team),
    Command(("NEW", "MPYA"), facilitator.new_circle, help="help.new", shown_to=LOOKS_AFTER),
    Command(("MY", "VYANGU"), facilitator.my_circles, LOOKS_AFTER, "help.my", suggest=True),
    Command(("WHO", "NANI"), facilitator.who, LOOKS_AFTER, "help.who"),
    Command(("MSG", "UJUMBE"), facilitator.message_learners, LOOKS_AFTER, "help.msg"),
    Command(("REMINDER", "KIKUMBUSHO"), facilitator.reminder_preview, LOOKS_AFTER, "help.reminder"),
    Command(("EDIT", "BADILISHA"), facilitator.edit_reminder, LOOKS_AFTER),
    Command(("MOVE", "HAMISHA"), facilitator.move_meeting, LOOKS_AFTER, "help.move"),
    Command(("CANCEL", "GHAIRI"), facilitator.cancel_meeting, LOOKS_AFTER),
    Command(("REFLECT", "TAFAKARI"), facilitator.reflect, LOOKS_AFTER, "help.reflect"),
    Command(("REPORT", "RIPOTI"), facilitator.report, LOOKS_AFTER, "help.report"),
    Command(("INVITE", "MWALIKO"), organizer.invite, ORGANIZER, "help.invite"),
    Command(("LINK", "UNGANISHA"), organizer.link_code, ORGANIZER),
    Command(("DIGEST", "MUHTASARI"), organizer.digest, ORGANIZER, "help.digest"),
    Command(("WEEK", "WIKI"), organizer.week, ORGANIZER),
    Command(("FACILITATORS", "WAWEZESHAJI"), organizer.facilitators, ORGANIZER),
    Command(("FEEDBACK", "MAONI"), organizer.feedback, ORGANIZER),
]


def route(ctx: Context) -> bool:
    """Run the command named by the first word, if the person may use it."""
    word, rest = split_command(ctx.text)
    # An exact word wins over a typo of another one (MOVE is not a slip of MORE); a typo counts
    # only when the word stands alone or is long, so "fine, I'll come" is not FIND.
    command = next((c for c in COMMANDS if word in c.words), None)
    if command is None and (not rest or len(word) >= TYPO_MIN_WITH_ARGUMENTS):
        command = next((c for c in COMMANDS if matches(word, c.words)), None)
    if command is None:
        return False
    if command.allowed(ctx.roles):
        command.run(ctx, rest)
    else:
        from handlers import help as help_text  # HELP lists these commands: it imports us

        ctx.send(help_text.refusal(ctx, command))
    return True
