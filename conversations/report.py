"""REPORT for someone with several circles: which one?"""

from __future__ import annotations

from bot.context import Context
from conversations.engine import Flow, which


def finish(ctx: Context, data: dict) -> None:
    from handlers.facilitator import show_report

    show_report(ctx, data["options"][data["which"]]["circle_id"])


FLOW = Flow(
    "report",
    steps=[which("report.which")],
    finish=finish,
)
