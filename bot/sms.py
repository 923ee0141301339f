"""SMS arithmetic: how many segments a text costs (GSM-7 or UCS-2, as carriers count)."""

from __future__ import annotations

import math
import unicodedata

# GSM 03.38 basic character set: one septet each.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: an escape septet plus the character, so two septets each.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

# What phones and word processors put in place of plain punctuation, and its GSM-7 twin: one of
# these would send the whole text as UCS-2, at 70 characters a segment instead of 160.
LOOK_ALIKES = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\u00b4\u0060\u2039\u203a", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys(
            "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
            "\u2009\u200a\u202f\u205f\u3000",
            " ",
        ),
        # (Not the zero-width joiner: it holds emoji sequences together.)
        **dict.fromkeys("\u200b\u200c\u2060\ufeff\u00ad", ""),
        "\u2026": "...",
        "\u2022": "-",
        "\u00b7": "-",
        "\t": " ",
    }
)

SINGLE_GSM7 = 160
PART_GSM7 = 153  # a concatenated part loses 7 septets to its header
SINGLE_UCS2 = 70
PART_UCS2 = 67


def is_gsm7(text: str) -> bool:
    """Whether every character fits the GSM-7 alphabet (else the whole text goes as UCS-2)."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def to_gsm7(text: str) -> str:
    """Replace look-alike punctuation and accents outside GSM-7 with their GSM-7 twins.

    Emoji and other scripts stay: they have no twin, and the text then goes as UCS-2.
    """
    return "".join(_gsm7_char(c) for c in text.translate(LOOK_ALIKES))


def _gsm7_char(c: str) -> str:
    if c in GSM7_BASIC or c in GSM7_EXTENSION:
        return c
    # A letter GSM-7 lacks (ë, ć, ﬁ, a fullwidth Ａ) reads as its base letters.
    bare = "".join(b for b in unicodedata.normalize("NFKD", c) if unicodedata.category(b) != "Mn")
    return bare if bare and is_gsm7(bare) else c


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
