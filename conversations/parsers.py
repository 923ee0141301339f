"""Answer parsers: turn a person's free-text reply into a value, or into a hint key to re-ask.

A flow step names what it expects (``expect=number(1, 5)``); the engine calls that parser with
the reply and a :class:`ParseContext`. A parser never talks to the database or the network and
never returns user-facing text: a refusal carries a catalog key (``hint``) and its variables, so
the engine can re-ask in the person's language.

People answer from basic phones, in English or Swahili, with typos, emoji and short sentences,
so the parsers are generous with the shape of an answer but careful with its meaning: an
answer that could mean two things is refused rather than guessed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from rapidfuzz.utils import default_process

from bot.clock import now
from handlers.words import split_command

HINT_YES_NO = "parse.yes_no"
HINT_NUMBER = "parse.number"
HINT_NUMBER_RANGE = "parse.number_range"
HINT_CHOICE = "parse.choice"
HINT_DATE = "parse.date"
HINT_NEED_TIME = "parse.need_time"
HINT_DATE_PAST = "parse.date_past"
HINT_TEXT_EMPTY = "parse.text_empty"
HINT_TEXT_TOO_LONG = "parse.text_too_long"
HINT_DURATION = "parse.duration"
HINT_DURATION_RANGE = "parse.duration_range"
HINT_YES_NO_LINE = "parse.yes_no_line"

HINT_KEYS = (
    HINT_YES_NO,
    HINT_NUMBER,
    HINT_NUMBER_RANGE,
    HINT_CHOICE,
    HINT_DATE,
    HINT_NEED_TIME,
    HINT_DATE_PAST,
    HINT_TEXT_EMPTY,
    HINT_TEXT_TOO_LONG,
    HINT_DURATION,
    HINT_DURATION_RANGE,
    HINT_YES_NO_LINE,
)


# --- results and context -------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    """The outcome of parsing one reply: a value, or a hint key explaining the refusal."""

    ok: bool
    value: Any = None
    hint: str | None = None
    hint_vars: dict[str, Any] = field(default_factory=dict)
    # Not an answer but a command ("FIND Nairobi"): the dialog ends and the router takes it.
    leaves: bool = False


@dataclass(frozen=True)
class ParseContext:
    """What a parser may know about the person answering: language, timezone and the time."""

    language: str = "en"
    timezone: str = "UTC"
    now: datetime | None = None

    def current_time(self) -> datetime:
        """Return the instant the reply is judged at, aware in UTC."""
        return (self.now or now()).astimezone(UTC)


def accept(value: Any) -> Parsed:
    """Return a successful parse of ``value``."""
    return Parsed(ok=True, value=value)


def refuse(hint: str, **hint_vars: Any) -> Parsed:
    """Return a refusal carrying the catalog key that tells the person what we need."""
    return Parsed(ok=False, hint=hint, hint_vars=hint_vars)


def leave() -> Parsed:
    """Return the refusal that ends the dialog, so the router handles the reply as a command."""
    return Parsed(ok=False, leaves=True)


class Parser:
    """Base for parsers: call it, or its ``parse`` method, with the reply and a context."""

    def parse(self, text: str, ctx: ParseContext) -> Parsed:
        """Parse one reply."""
        raise NotImplementedError

    def __call__(self, text: str, ctx: ParseContext | None = None) -> Parsed:
        return self.parse(text, ctx or ParseContext())


# --- shared text helpers --------------------------------------------------------------------

# Skin tones, variation selectors, joiners and gender signs only decorate an emoji: 🙋🏾‍♀️ is 🙋.
_EMOJI_DECORATION = re.compile("[\U0001f3fb-\U0001f3ff\ufe0e\ufe0f\u200d\u2640\u2642\u20e3]")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_REPEATS = re.compile(r"(.)\1+")


def _fold(text: str) -> str:
    """Lower-case and compatibility-normalize, so 'ＹＥＳ' and 'Yes' read alike."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _EMOJI_DECORATION.sub("", folded)


def _words(folded: str) -> list[str]:
    """Split into words, dropping apostrophes so "can't" and "cant" are one word."""
    return [re.sub("['’]", "", w) for w in _WORD.findall(folded)]


def _squeeze(word: str) -> str:
    """Collapse repeated letters, so 'yesss', 'noooo' and 'sawaaa' meet their dictionary form."""
    return _REPEATS.sub(r"\1", word)


# --- yes / no -------------------------------------------------------------------------------

_STRONG_YES = "yes"
_WEAK_YES = "weak"  # agrees unless a "no" is also there: "Sawa, sitakuja" is a no.
_NO = "no"
_NEGATOR = "negator"  # a no that also cancels words like "come": "I can't come".
_UNSURE = "unsure"
_QUESTION = "question"
_NEUTRAL = "neutral"

_YES_NO_WORDS: dict[str, tuple[str, ...]] = {
    _STRONG_YES: (
        "yes", "yeah", "yep", "yup", "yea", "yah", "yas", "yeh", "yap", "yeap", "aye",
        "affirmative", "ndiyo", "ndio", "ndyo", "naam", "nitakuja", "nitafika", "nitakuwepo",
        "nitahudhuria", "nipo", "nakuja", "tutakuja", "tutafika", "tuonane", "tutaonana",
    ),
    _WEAK_YES: (
        "ok", "okay", "okey", "okie", "kk", "sure", "fine", "alright", "cool", "great",
        "perfect", "definitely", "absolutely", "certainly", "gladly", "sawa", "poa", "haya",
        "safi", "kabisa", "tayari", "come", "coming", "attend", "attending", "kuja", "kufika",
    ),
    _NO: (
        "no", "nope", "nah", "nay", "naw", "hapana", "siwezi", "sitaweza", "sitakuja",
        "sitafika", "sitakuwepo", "sitahudhuria", "sitaki", "sipo", "never",
    ),
    _NEGATOR: (
        "not", "wont", "cant", "cannot", "dont", "didnt", "couldnt", "wouldnt", "shouldnt",
        "isnt", "arent", "aint", "unable",
    ),
    _UNSURE: (
        "maybe", "perhaps", "possibly", "probably", "might", "unsure", "hopefully", "hope",
        "try", "trying", "idk", "dunno", "depends", "if", "unless", "think", "labda", "pengine",
        "huenda", "sijui", "nitajaribu", "tutaona", "nadhani", "bado",
    ),
    _QUESTION: (
        "what", "whats", "who", "whos", "whom", "when", "whens", "where", "wheres", "why",
        "how", "hows", "which", "nini", "nani", "lini", "wapi", "vipi", "gani", "je", "ngapi",
        "kwanini", "mbona",
    ),
    _NEUTRAL: (
        "i", "im", "ill", "ive", "id", "me", "my", "we", "well", "were", "us", "you", "u",
        "the", "a", "an", "to", "be", "will", "shall", "would", "can", "could", "am", "is",
        "are", "it", "its", "this", "that", "there", "here", "then", "so", "and", "but", "also",
        "too", "very", "really", "just", "all", "of", "for", "on", "at", "in", "with", "please",
        "pls", "plz", "thanks", "thank", "thx", "ty", "asante", "sana", "tafadhali", "sorry",
        "pole", "samahani", "hi", "hello", "hey", "habari", "jambo", "hujambo", "sasa", "mambo",
        "dear", "sir", "madam", "maam", "teacher", "mwalimu", "friend", "again", "meeting",
        "session", "class", "circle", "mkutano", "darasa", "kikao", "somo", "week", "wiki",
        "today", "tomorrow", "tonight", "leo", "kesho", "time", "day", "evening", "morning",
        "night", "jioni", "asubuhi", "usiku", "mchana", "mimi", "sisi", "pia", "tu", "na",
        "kwa", "niko", "yet", "monday", "tuesday", "wednesday", "thursday", "friday",
        "saturday", "sunday", "jumatatu", "jumanne", "jumatano", "alhamisi", "ijumaa",
        "jumamosi", "jumapili", "god", "bless", "amen",
    ),
}  # fmt: skip

# Longest phrases first, so "of course not" wins over "of course".
_YES_NO_PHRASES: dict[tuple[str, ...], str] = {
    ("of", "course", "not"): _NO,
    ("count", "me", "out"): _NO,
    ("im", "out"): _NO,
    ("i", "am", "out"): _NO,
    ("next", "time"): _NO,
    ("no", "time"): _NO,
    ("sina", "nafasi"): _NO,
    ("nina", "shughuli"): _NO,
    ("of", "course"): _STRONG_YES,
    ("count", "me", "in"): _STRONG_YES,
    ("im", "in"): _STRONG_YES,
    ("i", "am", "in"): _STRONG_YES,
    ("see", "you", "there"): _STRONG_YES,
    ("see", "you"): _STRONG_YES,
    ("see", "u"): _STRONG_YES,
    ("see", "ya"): _STRONG_YES,
    ("for", "sure"): _STRONG_YES,
    ("sure", "thing"): _STRONG_YES,
    ("no", "problem"): _STRONG_YES,
    ("no", "problems"): _STRONG_YES,
    ("not", "a", "problem"): _STRONG_YES,
    ("no", "worries"): _STRONG_YES,
    ("why", "not"): _STRONG_YES,
    ("cant", "wait"): _STRONG_YES,
    ("can", "not", "wait"): _STRONG_YES,
    ("cannot", "wait"): _STRONG_YES,
    ("wouldnt", "miss", "it"): _STRONG_YES,
    ("wont", "miss", "it"): _STRONG_YES,
    ("will", "not", "miss", "it"): _STRONG_YES,
    ("dont", "mind"): _STRONG_YES,
    ("thumbs", "up"): _STRONG_YES,
    ("bila", "shaka"): _STRONG_YES,
    ("hakuna", "shida"): _STRONG_YES,
    ("hakuna", "tatizo"): _STRONG_YES,
    ("hakuna", "matata"): _STRONG_YES,
    ("niko", "njiani"): _STRONG_YES,
    ("on", "my", "way"): _STRONG_YES,
    ("be", "there"): _WEAK_YES,
    ("make", "it"): _WEAK_YES,
    ("show", "up"): _WEAK_YES,
    ("dont", "worry"): _NEUTRAL,
    ("not", "sure"): _UNSURE,
    ("no", "idea"): _UNSURE,
    ("dont", "know"): _UNSURE,
    ("do", "not", "know"): _UNSURE,
    ("not", "yet"): _UNSURE,
    ("sina", "uhakika"): _UNSURE,
    ("we", "will", "see"): _UNSURE,
    ("well", "see"): _UNSURE,
    ("we", "shall", "see"): _UNSURE,
    ("no", "one"): _NEUTRAL,
}
_LONGEST_PHRASE = max(len(p) for p in _YES_NO_PHRASES)

# One or two letters mean yes/no only as the first word: "ya" is also Swahili for "of",
# "la" is "of" too ("somo la Python"), and "n"/"y"/"k" are too easily part of something else.
_FIRST_WORD_ONLY = {"y": _STRONG_YES, "ya": _STRONG_YES, "k": _WEAK_YES, "n": _NO, "la": _NO}

# A keyword opening the message belongs to the router (JOIN PY7K, HELP), never to an RSVP.
_COMMAND_WORDS = frozenset((
    "cancel", "end", "start", "join", "help", "exit", "lang", "lugha", "mydata", "forget",
    "circles",
))  # fmt: skip
# An opt-out word anywhere makes the reply something other than an RSVP ("YES STOP").
_OPT_OUT_WORDS = frozenset(("stop", "stopall", "unsubscribe", "quit", "optout", "revoke", "unstop"))

# "Is there…", "Can I…", "Will you…": a question even without a question mark.
_AUXILIARIES = frozenset((
    "is", "are", "do", "does", "did", "can", "could", "will", "would", "shall", "should", "am",
    "was", "were",
))  # fmt: skip
_SUBJECTS = frozenset((
    "i", "you", "u", "we", "it", "there", "they", "he", "she", "the", "this", "that", "my",
    "our", "your", "anyone",
))  # fmt: skip

_YES_EMOJI = frozenset("👍✅👌🙋✔☑💯🆗")
_NO_EMOJI = frozenset("👎❌❎🚫✖🙅⛔")
_UNSURE_EMOJI = frozenset("🤷🤔")

# Swahili negative future ("sita-kuja", "sita-weza", "hatuta-fika") marks a no, whatever the verb.
_SWAHILI_NEGATIVE_FUTURE = re.compile(r"^(?:sita|hatuta)[a-z]{3,}$")

# A reply longer than this many unknown words is only read when it opens with a clear yes/no.
_MAX_UNKNOWN_WORDS = 3
_MAX_WORDS_AFTER_LEADING_ANSWER = 15

_YES_NO_LEXICON: dict[str, str] = {}
for _kind, _entries in _YES_NO_WORDS.items():
    for _entry in _entries:
        _YES_NO_LEXICON.setdefault(_entry, _kind)
for _phrase in _YES_NO_PHRASES:
    for _part in _phrase:
        _YES_NO_LEXICON.setdefault(_part, _NEUTRAL)
_SQUEEZED_LEXICON = {_squeeze(w): w for w in _YES_NO_LEXICON}
_FUZZY_CANDIDATES = tuple(w for w in _YES_NO_LEXICON if len(w) >= 3)


def _polarity(kind: str) -> str:
    """Group kinds that mean the same for a typo: a misspelt 'nope' or 'not' is a no either way."""
    return _NO if kind == _NEGATOR else kind


def _known_word(word: str) -> str | None:
    """Return the dictionary word a reply word stands for, forgiving repeats and one typo."""
    if word in _YES_NO_LEXICON:
        return word
    if _squeeze(word) in _SQUEEZED_LEXICON:
        return _SQUEEZED_LEXICON[_squeeze(word)]
    # Short words must be exact: "no" is one edit from "so", "yo" and "go".
    if len(word) < 3 or not word.isalpha():
        return None
    allowed = 1 if len(word) <= 7 else 2
    # Phone typos keep the first letter; requiring it stops "hope" from becoming "nope".
    distances = {
        candidate: OSA.distance(word, candidate, score_cutoff=allowed)
        for candidate in _FUZZY_CANDIDATES
        if candidate[0] == word[0]
    }
    best = min(distances.values(), default=allowed + 1)
    if best > allowed:
        return None
    nearest = [c for c, d in distances.items() if d == best]
    if len({_polarity(_YES_NO_LEXICON[c]) for c in nearest}) != 1:
        return None
    return nearest[0]


def _kind_of(word: str, position: int) -> str | None:
    """Return what one (already canonical) word says, or None when it is not in our lexicon."""
    if position == 0 and word in _FIRST_WORD_ONLY:
        return _FIRST_WORD_ONLY[word]
    if word in _YES_NO_LEXICON:
        return _YES_NO_LEXICON[word]
    if _SWAHILI_NEGATIVE_FUTURE.match(word):
        return _NO
    return None


def _read_yes_no(words: list[str]) -> list[tuple[str | None, int]]:
    """Label each word or phrase with its kind, longest phrase first, keeping its position."""
    labels: list[tuple[str | None, int]] = []
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST_PHRASE, len(words) - i), 1, -1):
            kind = _YES_NO_PHRASES.get(tuple(words[i : i + size]))
            if kind:
                labels.append((kind, i))
                i += size
                break
        else:
            labels.append((_kind_of(words[i], i), i))
            i += 1
    # "There is no water", "I have no money": "no" before an unknown word is not an answer.
    for n, (kind, position) in enumerate(labels):
        if (
            kind == _NO
            and position > 0
            and words[position] == "no"
            and n + 1 < len(labels)
            and labels[n + 1][0] is None
        ):
            labels[n] = (_NEUTRAL, position)
    return labels


def parse_yes_no(text: str) -> bool | None:
    """Read a reply to "are you coming?": True, False, or None when it is not a clear answer."""
    folded = _fold(text)
    if "?" in folded or "¿" in folded:
        return None
    emoji_kinds = {
        _STRONG_YES if ch in _YES_EMOJI else _NO if ch in _NO_EMOJI else _UNSURE
        for ch in folded
        if ch in _YES_EMOJI or ch in _NO_EMOJI or ch in _UNSURE_EMOJI
    }
    words = [_known_word(w) or w for w in _words(folded)]
    if (words and words[0] in _COMMAND_WORDS) or _OPT_OUT_WORDS.intersection(words):
        return None
    if len(words) >= 2 and words[0] in _AUXILIARIES and words[1] in _SUBJECTS:
        return None

    labels = _read_yes_no(words)
    kinds = {kind for kind, _ in labels} | emoji_kinds
    if kinds & {_UNSURE, _QUESTION}:
        return None
    unknown = sum(1 for kind, _ in labels if kind is None)
    if unknown > _MAX_UNKNOWN_WORDS:
        leading = labels[0][0]
        if leading not in (_STRONG_YES, _NO, _NEGATOR) or len(words) > (
            _MAX_WORDS_AFTER_LEADING_ANSWER
        ):
            return None

    said_no = bool(kinds & {_NO, _NEGATOR})
    if _STRONG_YES in kinds and said_no:
        return None
    if said_no:
        return False
    if kinds & {_STRONG_YES, _WEAK_YES}:
        return True
    return None


@dataclass(frozen=True)
class YesNo(Parser):
    """Accept a yes or a no, in English or Swahili, in words, typos or emoji."""

    def parse(self, text: str, ctx: ParseContext) -> Parsed:
        """Parse a yes/no reply."""
        answer = parse_yes_no(text)
        return refuse(HINT_YES_NO) if answer is None else accept(answer)


def yes_no() -> YesNo:
    """Expect a yes or a no."""
    return YesNo()


# --- confirmations --------------------------------------------------------------------------

# Agreeing to keep someone's data, or to send or erase something, takes a word that means yes
# and nothing else. "ok", "sawa", "fine" and 👍 also say "seen" (and FIND is one slip from
# "fine"), so they are asked again, as they do not undo a STOP either. No typo is forgiven.
_EXPLICIT_YES = frozenset(
    _squeeze(w) for w in ("yes", "y", "ndiyo", "ndio", "naam", "agree", "nakubali", "ninakubali")
)
# Courtesy around the yes leaves it a yes: "Yes please", "Ndiyo, asante", "I agree".
_COURTESY = frozenset(
    _squeeze(w)
    for w in ("i", "please", "pls", "thanks", "thank", "you", "asante", "sana", "tafadhali")
)


def _explicit_yes(text: str) -> bool:
    """Whether the reply is a plain yes, with nothing that could make it mean something else."""
    folded = _fold(text)
    words = [_squeeze(w) for w in _words(folded)]
    besides = _WORD.sub("", folded)
    if any(
        ch in "?¿"
        or not (ch.isspace() or ch in _YES_EMOJI or unicodedata.category(ch).startswith("P"))
        for ch in besides
    ):
        return False
    return bool(_EXPLICIT_YES.intersection(words)) and all(
        w in _EXPLICIT_YES or w in _COURTESY for w in words
    )


def _router_words() -> frozenset[str]:
    """The first words the router answers: every command's, and the keywords (STOP, HELP…)."""
    # Read when asked, not at import: the handlers import the flows, which import the parsers.
    from handlers import commands, keywords

    return keywords.KEYWORDS.union(*(command.words for command in commands.COMMANDS))


@dataclass(frozen=True)
class Confirmation(Parser):
    """Accept an explicit yes, or any clear no; a command leaves the dialog; all else re-asks."""

    def parse(self, text: str, ctx: ParseContext) -> Parsed:
        """Parse the reply to a question that stores, sends or erases something."""
        if _explicit_yes(text):
            return accept(True)
        if split_command(text)[0] in _router_words():
            return leave()
        # Saying no costs nothing, so the everyday ways count ("not now", "sitaki", "no thanks").
        if parse_yes_no(text) is False:
            return accept(False)
        return refuse(HINT_YES_NO)


def confirmation() -> Confirmation:
    """Expect an explicit YES or a no: to consent, or before sending or erasing anything."""
    return Confirmation()


# --- numbers --------------------------------------------------------------------------------

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
    "sifuri": 0, "moja": 1, "mbili": 2, "tatu": 3, "nne": 4, "tano": 5, "sita": 6, "saba": 7,
    "nane": 8, "tisa": 9, "kumi": 10,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
    "kumi": 10, "ishirini": 20, "thelathini": 30, "arobaini": 40, "hamsini": 50, "sitini": 60,
    "sabini": 70, "themanini": 80, "tisini": 90,
}  # fmt: skip
_ZERO_PHRASES = frozenset({"none", "nobody", "no one", "nil", "hakuna", "hakuna mtu"})
# Words around a number that do not change it: "4 stars", "about 12 people", "watu kumi".
_NUMBER_FILLERS = frozenset((
    "stars", "star", "nyota", "people", "persons", "person", "learners", "participants", "watu",
    "mtu", "wanafunzi", "about", "around", "roughly", "approximately", "approx", "takriban",
    "only", "just", "tu", "came", "attended", "walikuja", "walihudhuria", "i", "think", "give",
    "it", "rating", "score", "alama", "points",
))  # fmt: skip
_STARS = frozenset("⭐🌟★")
_THOUSANDS = re.compile(r"(?<=\d)[,\s](?=\d{3}\b)")
_OUT_OF = re.compile(r"(-?\d+)\s*(?:/|out of|of|kati ya)\s*\d+")
_INTEGER = re.compile(r"-?\d+(?:[.,]\d+)?")


def _words_to_int(words: list[str]) -> int | None:
    """Read a number written in English or Swahili words: 'four', 'twenty one', 'kumi na mbili'."""
    if len(words) == 1:
        return _UNITS.get(words[0], _TENS.get(words[0]))
    if words and words[0] in _TENS:
        rest = words[2:] if len(words) == 3 and words[1] in ("na", "and") else words[1:]
        if len(rest) == 1 and 1 <= _UNITS.get(rest[0], 0) <= 9:
            return _TENS[words[0]] + _UNITS[rest[0]]
    return None


def _read_number(text: str) -> int | None:
    """Find the one whole number a reply gives, in digits, words or stars."""
    folded = _THOUSANDS.sub("", _fold(text))
    folded = _OUT_OF.sub(r"\1", folded)
    digits = _INTEGER.findall(folded)
    if digits:
        # "3-4", "4.5", "3 or 4": a range, a fraction or two numbers is not one whole number.
        if len(set(digits)) != 1 or not re.fullmatch(r"-?\d+", digits[0]):
            return None
        return int(digits[0])
    words = [w for w in _words(folded) if w not in _NUMBER_FILLERS]
    if " ".join(words) in _ZERO_PHRASES:
        return 0
    if words:
        return _words_to_int(words)
    return sum(1 for ch in folded if ch in _STARS) or None


@dataclass(frozen=True)
class Number(Parser):
    """Accept one whole number between ``lo`` and ``hi`` inclusive."""

    lo: int
    hi: int

    def parse(self, text: str, ctx: ParseContext) -> Parsed:
        """Parse a number reply."""
        value = _read_number(text)
        if value is None:
            return refuse(HINT_NUMBER)
        if not self.lo <= value <= self.hi:
            return refuse(HINT_NUMBER_RANGE, lo=self.lo, hi=self.hi)
        return accept(value)


def number(lo: int, hi: int) -> Number:
    """Expect a whole number in [lo, hi]: '4', '4/5', '4 stars', 'four', 'nne', '⭐⭐⭐⭐'."""
    return Number(lo, hi)


# --- choices --------------------------------------------------------------------------------

_OPTION_NUMBER = re.compile(r"^(?:#|no\.?|number|namba|option|chaguo)?\s*(\d+)\s*[.)]?$")
# A fuzzy match must be close and clearly better than the runner-up, or we ask again.
_CHOICE_MIN_SCORE = 85
_CHOICE_MIN_LEAD = 10
_CHOICE_MIN_FUZZY_LENGTH = 4  # "lit" or "pyt" is too little to pick a circle by

Options = Sequence[str] | Callable[[ParseContext], Sequence[str]]


def _pick_option(reply: str, options: Sequence[str]) -> int | None:
    """Return the 0-based index of the option a reply names, or None if unclear."""
    folded = _fold(reply).strip()
    if match := _OPTION_NUMBER.match(folded):
        index = int(match.group(1)) - 1
        return index if 0 <= index < len(options) else None
    wanted = default_process(folded)
    if not wanted:
        return None
    exact = [i for i, option in enumerate(options) if default_process(option) == wanted]
    if exact:
        return exact[0] if len(exact) == 1 else None
    spelled = _words_to_int(_words(folded))
    if spelled is not None:
        return spelled - 1 if 1 <= spelled <= len(options) else None
    if len(wanted) < _CHOICE_MIN_FUZZY_LENGTH:
        return None
    ranked = process.extract(
        wanted, list(options), scorer=fuzz.WRatio, processor=default_process, limit=2
    )
    if not ranked or ranked[0][1] < _CHOICE_MIN_SCORE:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < _CHOICE_MIN_LEAD:
        return None
    return ranked[0][2]


@dataclass(frozen=True)
class Choice(Parser):
    """Accept one of a list of options, by its number or its (nearly) exact text; a command word
    that is not one of them leaves the dialog, as at a confirmation."""

    options: Options

    def parse(self, text: str, ctx: ParseContext) -> Parsed:
        """Parse a choice reply into the option's index; a command that names none leaves."""
        options = self.options(ctx) if callable(self.options) else self.options
        index = _pick_option(text, options)
        if index is not None:
            return accept(index)
        if split_command(text)[0] in _router_words():
            return leave()
        return refuse(HINT_CHOICE, count=len(options))


def choice(options: Options) -> Choice:
    """Expect one of ``options`` (or of the options a callable gives for this context)."""
    return Choice(options if callable(options) else tuple(options))


# --- a summary to confirm or change ---------------------------------------------------------

_LINE_NUMBER = re.compile(
    r"^(?:(?:change|edit|fix|badilisha|rekebisha)\s+)?"
    r"(?:(?:line|mstari|number|namba|nambari|no\.?|#)\s*)?(\d+)\s*[.)]?$"
)


@dataclass(frozen=True)
class YesNoOrLine(YesNo):
    """Accept a yes or a no, or the number of a summary line to change: what that line stands for
    in ``lines``."""

    lines: tuple[Any, ...] = ()

    def parse(self, text: str, ctx: ParseContext) -> Parsed:
        """Parse the reply to a numbered summary: YES, NO, or a line's number."""
        folded = _fold(text).strip(" .!")
        match = _LINE_NUMBER.match(folded)
        line = int(match.group(1)) if match else _words_to_int(_words(folded))
        if line is not None:
            if 1 <= line <= len(self.lines):
                return accept(self.lines[line - 1])
            return refuse(HINT_YES_NO_LINE, count=len(self.lines))
        # "Yes 2", "3 and 5": a yes/no beside a number, or two numbers, could mean either.
        if any(ch.isdigit() for ch in folded):
            return refuse(HINT_YES_NO_LINE, count=len(self.lines))
        answer = parse_yes_no(text)
        if answer is None:
            return refuse(HINT_YES_NO_LINE, count=len(self.lines))
        return accept(answer)


def yes_no_or_line(lines: Sequence[Any]) -> YesNoOrLine:
    """Expect YES, NO, or the number of one of ``lines`` (its value is that line)."""
    return YesNoOrLine(lines=tuple(lines))


# --- lengths and counts ---------------------------------------------------------------------

_HOUR_WORDS = frozenset(("h", "hr", "hrs", "hour", "hours", "saa", "masaa", "lisaa"))
_MINUTE_WORDS = frozenset(("m", "min", "mins", "minute", "minutes", "dk", "dak", "dakika"))
# Hours agree with "masaa" in Swahili: "masaa mawili" is two hours, "lisaa limoja" one.
_HOUR_COUNTS = {"limoja": 1, "mawili": 2, "matatu": 3, "manne": 4, "matano": 5}
_DURATION_MARKS = {
    "half": "½", "nusu": "½", "quarter": "¼", "robo": "¼", "and": "+", "na": "+", "&": "+",
    "kasoro": "-",
}  # fmt: skip
_DURATION_FILLERS = frozenset((
    "each", "per", "every", "meeting", "meetings", "session", "sessions", "kila", "mkutano",
    "about", "around", "roughly", "approximately", "approx", "takriban", "only", "just", "tu",
    "for", "kwa", "long",
))  # fmt: skip
_DURATION_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+|[^\w\s]")
# Each shape a length is said in (N a number, h hours, m minutes, ½ half, ¼ quarter, + and,
# - less), English order first ("1 hour 30"), then Swahili, the unit before the number.
_DURATION_SHAPES: list[tuple[re.Pattern[str], Callable[[list[Fraction]], Fraction | None]]] = [
    (re.compile(r"Nm|mN"), lambda n: n[0]),
    (re.compile(r"Nh|hN"), lambda n: 60 * n[0]),
    (re.compile(r"Nh\+?Nm?|hN\+?mN"), lambda n: 60 * n[0] + n[1] if n[1] < 60 else None),
    (re.compile(r"N\+½h|Nh\+½|hN\+½"), lambda n: 60 * n[0] + 30),
    (re.compile(r"hN\+¼"), lambda n: 60 * n[0] + 15),
    (re.compile(r"hN-¼"), lambda n: 60 * n[0] - 15),
    (re.compile(r"½Nh"), lambda n: Fraction(30) if n[0] == 1 else None),  # half an hour
    (re.compile(r"½h"), lambda n: Fraction(30)),
]


def _duration_tokens(text: str) -> tuple[str, list[Fraction]] | None:
    """Spell a reply as a shape ("Nh+½") and its numbers, or None if a word is not a length."""
    folded = re.sub(r"(\d),(\d)", r"\1.\2", _fold(text))  # "1,5 hours" is one and a half
    folded = re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", " ", folded)  # "forty-five"
    tokens = [tok for tok in _DURATION_TOKEN.findall(folded) if tok not in ".,!"]
    shape, numbers, i = "", [], 0
    while i < len(tokens):
        token, following = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else ""
        if token[0].isdigit():
            shape, i = shape + "N", i + 1
            numbers.append(Fraction(token))
            continue
        for size in (3, 2, 1):  # "kumi na tano", "forty five", "two"
            spelled = _words_to_int(tokens[i : i + size])
            if spelled is None and size == 1:
                spelled = _HOUR_COUNTS.get(token)
            if spelled is not None:
                shape, i = shape + "N", i + size
                numbers.append(Fraction(spelled))
                break
        else:
            if token in ("a", "an") and (following in _HOUR_WORDS | _MINUTE_WORDS):
                shape += "N"  # "an hour"
                numbers.append(Fraction(1))
            elif token == "kasorobo":
                shape += "-¼"
            elif token in _HOUR_WORDS:
                shape += "h"
            elif token in _MINUTE_WORDS:
                shape += "m"
            elif token in _DURATION_MARKS:
                shape += _DURATION_MARKS[token]
            elif not (token in _DURATION_FILLERS or token in ("a", "an") and following):
                return None
            i += 1
    return shape, numbers


@dataclass(frozen=True)
class DurationMinutes(Parser):
    """Accept a length of time in minutes or hours; return whole minutes between lo and hi."""

    lo: int
    hi: int

    def parse(self, text: str, ctx: ParseContext) -> Parsed:
        """Parse how long something lasts: '90', '90 min', '2 hours', 'saa mbili', 'dakika 90'."""
        read = _duration_tokens(text)
        if read is None:
            return refuse(HINT_DURATION)
        shape, numbers = read
        if shape == "N":
            # A bare number is minutes, as asked; one too small for minutes may mean hours.
            if numbers[0].denominator != 1 or numbers[0] < self.lo:
                return refuse(HINT_DURATION)
            minutes: Fraction | None = numbers[0]
        else:
            said = [how for pattern, how in _DURATION_SHAPES if pattern.fullmatch(shape)]
            minutes = said[0](numbers) if said else None
        if minutes is None or minutes.denominator != 1:
            return refuse(HINT_DURATION)
        if not self.lo <= minutes <= self.hi:
            return refuse(HINT_DURATION_RANGE, lo=self.lo, hi=self.hi)
        return accept(int(minutes))


def duration_minutes(lo: int, hi: int) -> DurationMinutes:
    """Expect a length in minutes or hours: '90', '2 hours', '1.5 hrs', 'saa mbili', 'dakika 90'."""
    return DurationMinutes(lo, hi)


# "For 8 weeks", "wiki nane": the unit and its preposition say nothing the question did not.
_WEEK_WORDS = re.compile(r"\b(?:weeks?|wks?|wiki|for|kwa)\b")


@dataclass(frozen=True)
class Weeks(Parser):
    """Accept a number of weeks, with or without the word: '8', '8 weeks', 'wiki nane'."""

    inner: Number

    def parse(self, text: str, ctx: ParseContext) -> Parsed:
        """Parse a number of weeks."""
        return self.inner.parse(_WEEK_WORDS.sub(" ", _fold(text)), ctx)


def weeks(lo: int, hi: int) -> Weeks:
    """Expect a whole number of weeks in [lo, hi]: '8', 'eight weeks', 'wiki 8', 'wiki nane'."""
    return Weeks(Number(lo, hi))


# --- dates and times ------------------------------------------------------------------------

# Swahili hours are counted from sunrise: "saa moja" (hour one) is 7 o'clock, "saa kumi na
# mbili jioni" (hour twelve, evening) is 18:00. The part of the day picks morning or evening.
_SWAHILI_HOURS = {
    "moja": 1, "mbili": 2, "tatu": 3, "nne": 4, "tano": 5, "sita": 6, "saba": 7, "nane": 8,
    "tisa": 9, "kumi": 10, "kumi na moja": 11, "kumi na mbili": 12,
}  # fmt: skip
_DAY_PARTS = {
    "alfajiri": range(4, 7),
    "asubuhi": range(5, 12),
    "mchana": range(11, 17),
    "jioni": range(16, 21),
    "usiku": (*range(19, 24), *range(0, 6)),
}
_SWAHILI_TIME = re.compile(
    r"(?:\bsaa\s+(?P<word>kumi\s+na\s+(?:moja|mbili)|"
    + "|".join(sorted(_SWAHILI_HOURS, key=len, reverse=True))
    + r")\b|(?:\bsaa\s+)?\b(?P<digits>\d{1,2})(?::(?P<minutes>\d{2}))?\b(?!\s*(?:am|pm|[:/.-]\d)))"
    r"(?:\s+(?P<fraction>na\s+nusu|na\s+robo|kasoro\s+robo|kasorobo))?"
    r"(?:\s+(?P<part>alfajiri|asubuhi|mchana|jioni|usiku))?"
)
_SWAHILI_WORDS = [
    (r"\bkesho\s*kutwa\b", "day after tomorrow"),
    (r"\bkesho\b", "tomorrow"),
    (r"\bleo\b", "today"),
    (r"\bjana\b", "yesterday"),
    (r"\bwiki\s+ijayo\b", "next week"),
    (r"\bjumatatu\b", "monday"),
    (r"\bjumanne\b", "tuesday"),
    (r"\bjumatano\b", "wednesday"),
    (r"\balhamisi\b", "thursday"),
    (r"\bijumaa\b", "friday"),
    (r"\bjumamosi\b", "saturday"),
    (r"\bjumapili\b", "sunday"),
    (r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\s+ijayo\b", r"next \1"),
    (r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\s+hii\b", r"\1"),
    (r"\bjanuari\b", "january"),
    (r"\bfebruari\b", "february"),
    (r"\bmachi\b", "march"),
    (r"\baprili\b", "april"),
    (r"\bmei\b", "may"),
    (r"\bjuni\b", "june"),
    (r"\bjulai\b", "july"),
    (r"\bagosti\b", "august"),
    (r"\bseptemba\b", "september"),
    (r"\boktoba\b", "october"),
    (r"\bnovemba\b", "november"),
    (r"\bdesemba\b", "december"),
    (r"\basubuhi\b", "morning"),
    (r"\bmchana\b", "afternoon"),
    (r"\bjioni\b", "evening"),
    (r"\busiku\b", "night"),
    (r"\b(?:tarehe|saa)\b", " "),
]
# Courtesy words dateparser does not know and would fail on: "next Tuesday 6pm please".
_DATE_FILLERS = re.compile(
    r"\b(?:please|pls|plz|thanks|thank you|asante|tafadhali|starting|from|kuanzia)\b"
)
_DATE_ABBREVIATIONS = [(r"\btmrw?\b", "tomorrow"), (r"\btonight\b", "today")]
# dateparser reads a lone "6" or "12" as a day of this month; insist on a real date word/shape.
_DATE_LIKE = re.compile(
    r"\b(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday)?\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)\b"
    r"|\b(?:january|february|march|april|june|july|august|september|october|november|december)\b"
    r"|\b(?:today|tomorrow|tonight|yesterday)\b|\bnext\s+week\b|\bin\s+\d+\s+(?:days?|weeks?)\b"
    r"|\b\d{1,2}[/-]\d{1,2}(?:[/-]\d{2,4})?\b|\b\d{4}-\d{1,2}-\d{1,2}|\b\d{1,2}\.\d{1,2}\.\d{2,4}\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)\b"
)


def _swahili_clock(hour: int, minutes: int, part: str | None, swahili: bool) -> int | None:
    """Return minutes after midnight for an hour read the Swahili way (or the Western way)."""
    if not swahili:
        if part is None or hour > 12:
            return hour * 60 + minutes if hour < 24 else None
        readings = [hour % 12, hour % 12 + 12]
    elif part is None:
        # Without a part of the day, the Swahili hours 1–12 are the daylight hours 07–18.
        return ((hour + 6) % 24) * 60 + minutes
    else:
        base = (hour + 6) % 12
        readings = [base, base + 12]
    fitting = [h for h in readings if h in _DAY_PARTS[part]]
    return fitting[0] * 60 + minutes if fitting else None


def _swahili_time_to_clock(match: re.Match[str]) -> str:
    """Rewrite one Swahili time ("saa 12 jioni") as a 24-hour clock time ("18:00")."""
    part = match.group("part")
    said_saa = match.group(0).lstrip().startswith("saa")
    if match.group("word"):
        hour = _SWAHILI_HOURS[re.sub(r"\s+", " ", match.group("word"))]
    else:
        hour = int(match.group("digits"))
        # A bare number is a time only when "saa" or a part of the day says so ("tuesday 6").
        if not (said_saa or part):
            return match.group(0)
    minutes = int(match.group("minutes") or 0)
    clock = None
    if hour <= 12:
        clock = _swahili_clock(hour, minutes, part, swahili=True)
        if clock is None and part:
            # "saa 2 mchana" means 14:00 to people who mix English hours with Swahili words.
            clock = _swahili_clock(hour, minutes, part, swahili=False)
    elif hour < 24 and part is None:
        clock = hour * 60 + minutes
    if clock is None:
        return match.group(0)
    fraction = re.sub(r"\s+", " ", match.group("fraction") or "")
    clock += {"na nusu": 30, "na robo": 15, "kasoro robo": -15, "kasorobo": -15}.get(fraction, 0)
    clock %= 24 * 60
    return f" {clock // 60:02d}:{clock % 60:02d} "


def _to_dateparser_english(text: str) -> str:
    """Rewrite Swahili dates and times, and common shorthands, into words dateparser reads."""
    text = re.sub(r"\s+", " ", _fold(text)).strip(" .!,")
    text = _SWAHILI_TIME.sub(_swahili_time_to_clock, text)
    for pattern, replacement in _SWAHILI_WORDS + _DATE_ABBREVIATIONS:
        text = re.sub(pattern, replacement, text)
    text = _DATE_FILLERS.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip(" ,")


@dataclass(frozen=True)
class DateTime(Parser):
    """Accept a local date and time of day; return it as an aware datetime in UTC."""

    future_only: bool = True
    languages: tuple[str, ...] = ("en", "sw")

    def parse(self, text: str, ctx: ParseContext) -> Parsed:
        """Parse a date-and-time reply in the person's timezone."""
        english = _to_dateparser_english(text)
        if not _DATE_LIKE.search(english):
            return refuse(HINT_DATE)
        current = ctx.current_time()
        local_now = current.astimezone(ZoneInfo(ctx.timezone)).replace(tzinfo=None)
        settings = {
            "TIMEZONE": ctx.timezone,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now,
            # Kenya writes 12/3 for 12 March; the United States writes it for 3 December.
            "DATE_ORDER": "MDY" if ctx.timezone.startswith("America/") else "DMY",
            # The period tells a date with a time of day ("time") from a bare date ("day").
            "RETURN_TIME_AS_PERIOD": True,
        }
        data = DateDataParser(languages=list(self.languages), settings=settings).get_date_data(
            english
        )
        if data.date_obj is None:
            return refuse(HINT_DATE)
        if data.period != "time":
            return refuse(HINT_NEED_TIME)
        when = data.date_obj.astimezone(UTC)
        if self.future_only and when <= current:
            return refuse(HINT_DATE_PAST)
        return accept(when)


def date_time(future_only: bool = True, languages: Sequence[str] = ("en", "sw")) -> DateTime:
    """Expect a date with a time of day: 'next Tuesday 6pm', '12/3 18:00', 'kesho saa 12 jioni'."""
    return DateTime(future_only=future_only, languages=tuple(languages))


# --- free text ------------------------------------------------------------------------------

# Bidirectional overrides can disguise what a name or a message says when shown to others.
_INVISIBLE_FORMATTING = frozenset(
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)


def _clean_text(text: str) -> str:
    """Drop control and direction-override characters, keeping line breaks and tabs."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(
        ch
        for ch in text
        if ch in "\n\t" or (unicodedata.category(ch) != "Cc" and ch not in _INVISIBLE_FORMATTING)
    ).strip()


@dataclass(frozen=True)
class Text(Parser):
    """Accept free text between ``min_len`` and ``max_len`` characters, cleaned and stripped."""

    min_len: int = 1
    max_len: int = 300

    def parse(self, text: str, ctx: ParseContext) -> Parsed:
        """Parse a free-text reply."""
        cleaned = _clean_text(text)
        if len(cleaned) < max(self.min_len, 1):
            return refuse(HINT_TEXT_EMPTY, min=self.min_len)
        if len(cleaned) > self.max_len:
            return refuse(HINT_TEXT_TOO_LONG, max=self.max_len)
        return accept(cleaned)


def text(min_len: int = 1, max_len: int = 300) -> Text:
    """Expect free text of at most ``max_len`` characters."""
    return Text(min_len=min_len, max_len=max_len)


# --- optional answers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Skippable(Parser):
    """Let the person skip a question with a skip word; otherwise defer to the inner parser."""

    inner: Parser
    skip_words: tuple[str, ...] = ("skip", "ruka")

    def parse(self, text: str, ctx: ParseContext) -> Parsed:
        """Parse a reply that may be a skip word."""
        if " ".join(_words(_fold(text))) in {w.casefold() for w in self.skip_words}:
            return accept(None)
        return self.inner.parse(text, ctx)


def optional(parser: Parser, skip_words: Sequence[str] = ("skip", "ruka")) -> Skippable:
    """Expect what ``parser`` expects, or SKIP / RUKA for no answer (value None)."""
    return Skippable(parser, tuple(skip_words))


# Words that take the default a question offers (or none, for an optional answer).
DEFAULT_WORDS = frozenset({"ok", "sawa", "default", "same", "skip", "ruka", "none", "hakuna"})


@dataclass(frozen=True)
class OrDefault(Parser):
    """Take OK / SAWA for the default the question offers; otherwise defer to the inner parser."""

    inner: Parser
    default: Any
    words: frozenset[str] = DEFAULT_WORDS

    def parse(self, text: str, ctx: ParseContext) -> Parsed:
        """Parse a reply that may accept the offered default."""
        if " ".join(_words(_fold(text))) in self.words:
            return accept(self.default)
        return self.inner.parse(text, ctx)


def or_default(parser: Parser, default: Any, words: Sequence[str] = DEFAULT_WORDS) -> OrDefault:
    """Expect what ``parser`` expects, or OK / SAWA / SKIP (or ``words``) for ``default``."""
    return OrDefault(parser, default, frozenset(words))


# Ways to say a question's limit does not apply: "Is there a limit on learners?" "No limit."
NO_LIMIT_WORDS = frozenset({
    "no", "nope", "hapana", "none", "no limit", "no limits", "nolimit", "unlimited",
    "limitless", "no max", "no maximum", "hakuna", "hakuna kikomo", "hamna", "hamna kikomo",
    "bila kikomo", "hakuna limit", "bila limit",
})  # fmt: skip


def limit(lo: int, hi: int) -> OrDefault:
    """Expect a largest number in [lo, hi], or NO LIMIT / HAKUNA / SKIP for none (value None)."""
    return or_default(number(lo, hi), None, DEFAULT_WORDS | NO_LIMIT_WORDS)
