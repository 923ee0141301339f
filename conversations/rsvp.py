"""Which circle is this YES or NO for? Asked when a learner's answer could mean several."""

from __future__ import annotations

from bot.context import Context
from conversations.engine import Flow, Step
from conversations.parsers import choice
from handlers.learner import Upcoming, record_rsvp


def finish(ctx: Context, data: dict) -> None:
    """Record the answer for the chosen meeting."""
    record_rsvp(ctx, Upcoming.from_data(data["options"][data["which"]]), data["attending"])


FLOW = Flow(
    "rsvp",
    steps=[
        Step(
            "which",
            ask="rsvp.which",
            expect_from=lambda data: choice([o["circle"] for o in data["options"]]),
            ask_values=lambda data: {"choices": data["choices"]},
        ),
    ],
    finish=finish,
)
