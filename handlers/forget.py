"""FORGET: erase the person after a confirmation, from any channel, in any dialog."""

from __future__ import annotations

from bot.context import Context
from bot.erasure import holds_anything
from conversations import engine


def forget(ctx: Context) -> None:
    """Ask the person to confirm what FORGET erases and what stays; someone we know nothing
    about is told so (after a FORGET, the same address comes back as no one)."""
    busy = engine.active(ctx.session, ctx.contact.id, ctx.now)
    if busy is None and not holds_anything(ctx.session, ctx.person.id, ctx.contact.id):
        ctx.say("forget.nothing")
        return
    # FORGET again while its question waits asks it again, as the first time.
    engine.start(ctx, "forget", {"busy": busy is not None and busy.flow != "forget"})
