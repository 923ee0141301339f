"""The language dialog: LANG on its own asks which language to use."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import LANGUAGE_NAMES, normalize_language
from conversations.engine import Flow, Step
from conversations.parsers import ParseContext, Parsed, accept, choice

CHOICES = tuple(LANGUAGE_NAMES)
_BY_NUMBER_OR_NAME = choice([LANGUAGE_NAMES[code] for code in CHOICES])


def language_answer(text: str, ctx: ParseContext) -> Parsed:
    """Read '2', 'Kiswahili', or a code such as 'sw' as LANG itself accepts."""
    code = normalize_language(text)
    return accept(CHOICES.index(code)) if code else _BY_NUMBER_OR_NAME(text, ctx)


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
            expect=language_answer,
        ),
    ],
    finish=finish,
)
