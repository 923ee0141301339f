"""The language dialog: LANG on its own asks which language to use."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import LANGUAGE_NAMES
from conversations.engine import Flow, Step
from conversations.parsers import choice

CHOICES = tuple(LANGUAGE_NAMES)


def finish(ctx: Context, data: dict) -> None:
    """Switch to the chosen language."""
    from handlers.keywords import set_language

    set_language(ctx, CHOICES[data["language"]])


FLOW = Flow(
    "language",
    steps=[
        Step(
            "language",
            ask="lang.ask",
            expect=choice([LANGUAGE_NAMES[code] for code in CHOICES]),
        ),
    ],
    finish=finish,
)
