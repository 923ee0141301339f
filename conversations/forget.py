"""The forget dialog: one confirmation that says what goes and what stays, then the erasure."""

from __future__ import annotations

from datetime import timedelta

from bot import outbox
from bot.context import Context
from bot.erasure import forget_person
from bot.i18n import t
from conversations.engine import Done, Flow, Step, Stop
from conversations.parsers import confirmation


def confirm(data: dict, sure: bool):
    return Done() if sure else Stop("forget.kept")


def finish(ctx: Context, data: dict) -> None:
    """Erase the person, then say so where they asked: the one message still to reach them."""
    forget_person(
        ctx.session, ctx.person.id, ctx.now, reason="asked", farewell_contact_id=ctx.contact.id
    )
    ctx.forget_roles()
    # Queued after the erasure, which blanks everything to them, and as a STOP confirmation is:
    # the contact is stopped now, and this alone still goes. Its address and this text are
    # erased once it is out (jobs.retention.finish_farewells).
    ctx.send(t("forget.done", ctx.language), purpose=outbox.STOP_CONFIRMATION)


FLOW = Flow(
    "forget",
    steps=[
        # Asked in the middle of another dialog, the question says that one is over.
        Step(
            "confirm_busy",
            ask="forget.confirm_busy",
            expect=confirmation(),
            then=confirm,
            skip=lambda data: not data.get("busy"),
        ),
        Step(
            "confirm",
            ask="forget.confirm",
            expect=confirmation(),
            then=confirm,
            skip=lambda data: bool(data.get("busy")),
        ),
    ],
    finish=finish,
    # An erasure is confirmed while the question is fresh, not a day later.
    expires=timedelta(hours=1),
)
