"""The language a new person hears first: what their app says, what they wrote, where they are."""

from __future__ import annotations

import re

import phonenumbers

from bot.channels.base import SMS, WHATSAPP
from bot.config import get_settings
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES
from handlers.commands import COMMANDS
from handlers.keywords import KEYWORDS
from handlers.words import fold

_WORD = re.compile(r"\w+")

# Words that show a message is written in Swahili, as `fold` reads them: greetings, asking to
# join or for help, thanks, yes and no, everyday small words, and the Swahili twins of our
# command words (someone who types JIUNGE chose Swahili).
SWAHILI_WORDS = frozenset(
    {
        "HABARI", "JAMBO", "HUJAMBO", "SIJAMBO", "SASA", "MAMBO", "POA", "SHIKAMOO", "MARAHABA",
        "NIAJE", "SALAMU", "NATAKA", "NINATAKA", "TUNATAKA", "KUJIUNGA", "KUJISAJILI", "JIUNGE",
        "NAOMBA", "TUNAOMBA", "OMBI", "MSAADA", "NISAIDIE", "SAIDIA", "ASANTE", "ASANTENI",
        "SHUKRANI", "KARIBU", "NDIYO", "HAPANA", "SAWA", "KIKUNDI", "VIKUNDI", "TAFADHALI",
        "NINI", "GANI", "WAPI", "LINI", "VIPI", "MIMI", "WEWE", "YANGU", "YAKO", "NI", "NA",
        "KWA", "SANA", "ASUBUHI", "MCHANA", "JIONI", "LEO", "KESHO", "RAFIKI", "NDUGU",
        "MWALIMU", "SOMO", "MASOMO", "KUSOMA", "KUJIFUNZA", "MKUTANO", "MIKUTANO", "NITAKUJA",
        "SITAKUJA", "SIJUI", "NAWEZA", "NAMNA", "JINA", "LANGU", "LUGHA", "TOKA", "ANZA",
        "ENDELEA",
        *(command.words[1] for command in COMMANDS if len(command.words) > 1),
    }
)  # fmt: skip
ENGLISH_WORDS = frozenset(
    {
        "HELLO", "HI", "HEY", "HALLO", "MORNING", "AFTERNOON", "EVENING", "GOOD", "I", "IM",
        "WANT", "WOULD", "LIKE", "TO", "THE", "AN", "AND", "JOIN", "JOINING", "PLEASE", "PLS",
        "HELP", "THANKS", "THANK", "YOU", "THX", "YES", "NO", "HOW", "WHAT", "WHERE", "WHEN",
        "IS", "ARE", "AM", "CAN", "ME", "MY", "IT", "THIS", "THAT", "FOR", "OF", "WITH",
        "CIRCLE", "GROUP", "CLASS", "COURSE", "SIGN", "UP", "REGISTER", "INTERESTED", "KNOW",
        "NEED", "NAME",
    }
)  # fmt: skip
# A first word that is one of our English commands or keywords says nothing: posters and shared
# lines print "Text JOIN PY7K" (and HELP, STOP) for everyone, whatever they speak.
COMMAND_WORDS = (
    KEYWORDS | {word for command in COMMANDS for word in command.words}
) - SWAHILI_WORDS
EVIDENCE = {"sw": SWAHILI_WORDS, "en": ENGLISH_WORDS}


def first_language(channel: str, address: str, text: str, hint: str | None) -> str | None:
    """The language to greet a new contact in, or None for the deployment's default."""
    return _hinted(hint) or written_in(text) or _of_country(channel, address)


def written_in(text: str) -> str | None:
    """The language `text` is written in, when its words show it clearly (twice the other's)."""
    counts = _evidence(text)
    best = max(counts, key=counts.get)
    others = sum(n for language, n in counts.items() if language != best)
    return best if counts[best] and counts[best] >= 2 * others else None


def offered_language(language: str, channel: str, address: str, text: str) -> str | None:
    """The other language worth naming on a new person's first reply in `language`, if any:
    English (our commands' words), the deployment's, their country's, any their message used."""
    likely = {DEFAULT_LANGUAGE, get_settings().default_language, _of_country(channel, address)}
    likely |= {other for other, n in _evidence(text).items() if n}
    return next((other for other in LANGUAGES if other in likely and other != language), None)


def country_of(channel: str, address: str) -> str | None:
    """The ISO region of a phone contact's number (KE for +254…); None off the phone."""
    if channel not in (SMS, WHATSAPP):
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(address, None))
    except phonenumbers.NumberParseException:
        return None


def _hinted(hint: str | None) -> str | None:
    code = (hint or "")[:2].lower()
    return code if code in LANGUAGES else None


def _evidence(text: str) -> dict[str, int]:
    """How many of the message's words belong to each language's list."""
    words = _WORD.findall(fold(text))
    if words and words[0] in COMMAND_WORDS:
        words = words[1:]
    return {language: sum(w in listed for w in words) for language, listed in EVIDENCE.items()}


def _of_country(channel: str, address: str) -> str | None:
    return _country_languages().get(country_of(channel, address))


def _country_languages() -> dict[str, str]:
    """COUNTRY_LANGUAGES as ISO code -> one of our languages; anything else is left out."""
    chosen = get_settings().country_languages
    return {
        code.upper(): lang.lower() for code, lang in chosen.items() if lang.lower() in LANGUAGES
    }
