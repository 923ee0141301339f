"""SMS arithmetic: how many segments a text costs (GSM-7 or UCS-2, as carriers count)."""

from __future__ import annotations

import math

# GSM 03.38 basic character set: one septet each.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: an escape septet plus the character, so two septets each.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE_GSM7 = 160
PART_GSM7 = 153  # a concatenated part loses 7 septets to its header
SINGLE_UCS2 = 70
PART_UCS2 = 67


def is_gsm7(text: str) -> bool:
    """Whether every character fits the GSM-7 alphabet (else the whole text goes as UCS-2)."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def segments(text: str) -> int:
    """The number of SMS segments the text is billed as."""
    if not text:
        return 1
    if is_gsm7(text):
        length = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, part = SINGLE_GSM7, PART_GSM7
    else:
        # UCS-2 counts UTF-16 code units: an emoji outside the BMP takes two.
        length = len(text.encode("utf-16-le")) // 2
        single, part = SINGLE_UCS2, PART_UCS2
    return 1 if length <= single else math.ceil(length / part)
