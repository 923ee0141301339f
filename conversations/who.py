"""WHO for someone with several circles: which one?"""

from __future__ import annotations

from bot.context import Context
from conversations.engine import Flow, Step
from conversations.parsers import choice


def finish(ctx: Context, data: dict) -> None:
    from handlers.facilitator import show_who

    show_who(ctx, data["options"][data["which"]]["circle_id"])


FLOW = Flow(
    "who",
    steps=[
        Step(
            "which",
            ask="who.which",
            expect_from=lambda data: choice([o["circle"] for o in data["options"]]),
            ask_values=lambda data: {"choices": data["choices"]},
        ),
    ],
    finish=finish,
)
