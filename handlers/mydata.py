"""MYDATA: everything we hold about the person, in their language, paged for their channel."""

from __future__ import annotations

from bot import holdings
from bot.context import Context


def mydata(ctx: Context) -> None:
    """Send the person what we store about them, as numbered pages; a dialog they are in stays
    open, and the last page says they can carry on with it."""
    held = holdings.gather(ctx.session, ctx.person.id, at=ctx.now)
    here = ctx.contact.handle
    dialog_open = any(d["open"] and d["contact"] == here for d in held["dialogs"])
    # One message per page, queued in order: the pages go out one after another, numbered.
    for page in holdings.pages(held, ctx.language, ctx.contact.channel, dialog_open=dialog_open):
        ctx.send(page)
