"""Answers to tap: one definition per question, shown as buttons, quick replies or plain text.

A question's outbound row keeps its buttons as ``{"options": [{"label", "answer"}], ...}``
plus, for a dialog's question, the ``conversation`` and ``step`` it asks for. A tap comes back
as the option's ``answer`` typed out ("YES", "2"), so it goes through the same dispatch as a
typed reply; the question's id travels with it, so a tap on an old question is never taken
for an answer to a newer one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.i18n import t

YES, NO = "YES", "NO"
# More options than this go as text alone: a keyboard of ten circles helps nobody.
MAX_OPTIONS = 6
# Telegram shows about this many characters of a button before cutting it; WhatsApp allows 20.
LABEL_CHARACTERS = 40
WHATSAPP_LABEL_CHARACTERS = 20
# A tap carries "<question id>:<answer>": Telegram's callback_data holds 64 bytes at most.
CALLBACK_DATA_BYTES = 64


def yes_no(language: str) -> dict[str, Any]:
    """Yes and No, in the person's language."""
    return {
        "options": [
            {"label": t("button.yes", language), "answer": YES},
            {"label": t("button.no", language), "answer": NO},
        ]
    }


def numbered(labels: Sequence[str]) -> dict[str, Any] | None:
    """One button per option, answered by its number; None when there are too many to tap."""
    if not 1 < len(labels) <= MAX_OPTIONS:
        return None
    return {
        "options": [
            {"label": _short(f"{n}) {label}", LABEL_CHARACTERS), "answer": str(n)}
            for n, label in enumerate(labels, start=1)
        ]
    }


def options(buttons: dict[str, Any] | None) -> list[dict[str, str]]:
    """The options a stored question offers (none for a message without buttons)."""
    return list((buttons or {}).get("options", []))


def tap_data(question_id: int, answer: str) -> str:
    """What a tap sends back: the question and the answer, within Telegram's 64 bytes."""
    data = f"{question_id}:{answer}"
    return data.encode()[:CALLBACK_DATA_BYTES].decode(errors="ignore")


def read_tap(data: str | None) -> tuple[int, str] | None:
    """The question id and answer a tap carries, or None for anything else."""
    question, _, answer = (data or "").partition(":")
    if not question.isdigit() or not answer:
        return None
    return int(question), answer


def whatsapp_label(label: str) -> str:
    """A label WhatsApp accepts on a quick-reply button."""
    return _short(label, WHATSAPP_LABEL_CHARACTERS)


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"
