"""Reading a keyword out of a message: whole-message words and typo-tolerant command words."""

from __future__ import annotations

import re

from rapidfuzz.distance import OSA

_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


def whole(text: str) -> str:
    """The message as one upper-case word, case, spaces and punctuation aside ('Stop.' -> STOP)."""
    return _NOT_WORD.sub("", text).upper()


def split_command(text: str) -> tuple[str, str]:
    """Split 'lang  sw' or '/lang sw' into ('LANG', 'sw')."""
    head, _, rest = text.strip().partition(" ")
    return head.lstrip("/").strip(".,!?:;").upper(), rest.strip()


def matches(word: str, keywords: tuple[str, ...], *, typos: bool = True) -> bool:
    """Whether `word` is one of `keywords`, allowing one slip (HLEP, EXTI) in words of 4+ letters."""
    if word in keywords:
        return True
    if not typos or len(word) < 4:
        return False
    return any(len(k) >= 4 and OSA.distance(word, k) <= 1 for k in keywords)
