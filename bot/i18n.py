"""User-facing text by key, from the gettext catalogs under locales/ (English and Swahili)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("en", "sw")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "sw": "Kiswahili"}


@cache
def catalog(language: str) -> dict[str, str]:
    """Load one language's catalog as key -> text."""
    path = LOCALES / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        messages = read_po(po, locale=language)
    return {m.id: m.string for m in messages if m.id and m.string}


def t(key: str, language: str | None = None, /, **values: object) -> str:
    """Return the text for `key` in `language` (English if missing there), filled with values."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    text = catalog(language).get(key) or catalog(DEFAULT_LANGUAGE).get(key)
    if text is None:
        raise KeyError(f"no text for {key!r}")
    return text.format(**values) if values else text


def normalize_language(word: str | None) -> str | None:
    """Map what a person writes after LANG ('sw', 'Swahili', 'kiswahili', 'en') to a code."""
    if not word:
        return None
    word = word.strip().lower()
    names = {
        "en": "en", "eng": "en", "english": "en", "kiingereza": "en",
        "sw": "sw", "swa": "sw", "swahili": "sw", "kiswahili": "sw",
    }  # fmt: skip
    return names.get(word)
