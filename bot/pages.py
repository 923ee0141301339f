"""Long texts as several messages: split at line ends, each message within its channel's limit."""

from __future__ import annotations

from bot.channels.base import SMS, TELEGRAM
from bot.sms import segments

TELEGRAM_LIMIT = 4096  # UTF-16 code units per message
TWILIO_LIMIT = 1600  # characters per message body, SMS or WhatsApp
SMS_SEGMENTS = 4  # a long SMS costs per segment: four is a digest page, not a pamphlet


def fits(text: str, channel: str, sms_segments: int = SMS_SEGMENTS) -> bool:
    """Whether one message on `channel` can carry the text whole."""
    if channel == TELEGRAM:
        return len(text.encode("utf-16-le")) // 2 <= TELEGRAM_LIMIT
    if channel == SMS and segments(text) > sms_segments:
        return False
    return len(text) <= TWILIO_LIMIT


def split(lines: list[str], channel: str, sms_segments: int = SMS_SEGMENTS) -> list[str]:
    """Join the lines into as few messages as fit; a line is only broken (between words) when
    it alone is too long for one message."""
    pages: list[str] = []
    page: list[str] = []
    for line in lines:
        for piece in _pieces(line, channel, sms_segments):
            if page and not fits("\n".join([*page, piece]), channel, sms_segments):
                pages.append("\n".join(page))
                page = []
            page.append(piece)
    if page:
        pages.append("\n".join(page))
    # A blank line between sections is no way to start or end a message.
    return [page.strip("\n") for page in pages if page.strip()]


def _pieces(line: str, channel: str, sms_segments: int) -> list[str]:
    """The line, or its words regrouped into pieces that each fit one message."""
    if fits(line, channel, sms_segments):
        return [line]
    pieces, piece = [], ""
    for word in line.split(" "):
        candidate = f"{piece} {word}" if piece else word
        if fits(candidate, channel, sms_segments):
            piece = candidate
            continue
        if piece:
            pieces.append(piece)
        # A single word longer than a message (a pasted link) is cut where it must be.
        while not fits(word, channel, sms_segments):
            cut = _longest_prefix(word, channel, sms_segments)
            pieces.append(word[:cut])
            word = word[cut:]
        piece = word
    if piece:
        pieces.append(piece)
    return pieces


def _longest_prefix(word: str, channel: str, sms_segments: int) -> int:
    low, high = 1, len(word)
    while low < high:  # the longest prefix that fits, by bisection
        middle = (low + high + 1) // 2
        if fits(word[:middle], channel, sms_segments):
            low = middle
        else:
            high = middle - 1
    return low
