"""Reading a keyword out of a message: whole-message words and typo-tolerant command words."""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz.distance import OSA

_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)

# Letters of other alphabets that look like the Latin ones of our keywords, by shape as in
# Unicode's confusables (TR39), and the Latin small capitals of "fancy text" keyboards: a
# message that reads STOP must stop, whatever letters drew it (ЅТОР, ꜱᴛᴏᴘ). By shape, not by
# sound: Cyrillic С is a C and Р a P, so "СТОР" reads CTOP. NFKD has already folded fullwidth,
# circled and mathematical letters; lower and upper case map apart, as ν (nu) looks like v
# and Ν like N.
_LOOK_ALIKES = str.maketrans(
    {
        **dict(zip("АВЕЅІЈКМНОРСТХУҮԚԜӀ", "ABESIJKMHOPCTXYYQWI", strict=True)),
        **dict(zip("аеѕіјорсхуүԁһԛԝӏ", "aesijopcxyydhqwl", strict=True)),
        **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),
        **dict(zip("αιονρυχγ", "aiovpuxy", strict=True)),
        **dict(zip("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ", "ABCDEFGHIJKLMNOPRSTUVWYZ", strict=True)),
        # Regional indicators, the letters of flag emoji: 🇸🇹🇴🇵.
        **{0x1F1E6 + n: chr(ord("A") + n) for n in range(26)},
    }
)
# Fillers that are letters to Unicode, so \W keeps them, but show nothing (Hangul fillers).
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def fold(text: str) -> str:
    """Read `text` as the capitals it shows, look-alikes, accents and invisibles aside (ＳＴＯＰ)."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(
        ch
        for ch in decomposed
        if unicodedata.category(ch) not in ("Mn", "Me", "Cf") and ch not in _INVISIBLE_LETTERS
    )
    return kept.translate(_LOOK_ALIKES).upper()


def whole(text: str) -> str:
    """The message as one upper-case word, case, spaces and punctuation aside ('Stop.' -> STOP)."""
    return _NOT_WORD.sub("", fold(text))


def split_command(text: str) -> tuple[str, str]:
    """Split 'lang  sw' or '/lang sw' into ('LANG', 'sw'); the word is folded, the rest kept."""
    # Any space separates them: a no-break or an ideographic one as well.
    head, rest = (text.split(maxsplit=1) + ["", ""])[:2]
    return fold(head).lstrip("/").strip(".,!?:;"), rest.strip()


def matches(word: str, keywords: tuple[str, ...], *, typos: bool = True) -> bool:
    """Whether `word` is one of `keywords`, allowing one slip (HLEP, EXTI) in words of 4+ letters."""
    if word in keywords:
        return True
    if not typos or len(word) < 4:
        return False
    return any(len(k) >= 4 and OSA.distance(word, k) <= 1 for k in keywords)
