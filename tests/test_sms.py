"""SMS segment counting against known vectors."""

import pytest

from bot.sms import is_gsm7, segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        ("a" * 159 + "[", 2),
        ("ж" * 70, 1),
        ("ж" * 71, 2),
        ("ж" * 134, 2),
        ("ж" * 135, 3),
        ("👍" * 35, 1),  # an emoji is two UTF-16 units
        ("👍" * 36, 2),
        ("a" * 69 + "’", 1),  # a curly quote forces UCS-2
        ("a" * 70 + "’", 2),
    ],
)
def test_segments(text, expected):
    assert segments(text) == expected


def test_swahili_and_english_are_gsm7_but_emoji_and_curly_quotes_are_not():
    assert is_gsm7("Habari! Jibu NDIYO au HAPANA.")
    assert not is_gsm7("Yes 👍")
    assert not is_gsm7("It’s on")
