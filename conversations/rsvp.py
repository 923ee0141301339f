"""Which circle is this YES or NO for? Asked when a learner's answer could mean several."""

from __future__ import annotations

from bot.context import Context
from conversations.engine import Flow, which
from handlers.learner import Upcoming, record_rsvp


def finish(ctx: Context, data: dict) -> None:
    """Record the answer for the chosen meeting."""
    record_rsvp(ctx, Upcoming.from_data(data["options"][data["which"]]), data["attending"])


FLOW = Flow(
    "rsvp",
    steps=[which("rsvp.which")],
    finish=finish,
)
