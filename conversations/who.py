"""WHO for someone with several circles: which one?"""

from __future__ import annotations

from bot.context import Context
from conversations.engine import Flow, which


def finish(ctx: Context, data: dict) -> None:
    from handlers.facilitator import show_who

    show_who(ctx, data["options"][data["which"]]["circle_id"])


FLOW = Flow(
    "who",
    steps=[which("who.which")],
    finish=finish,
)
