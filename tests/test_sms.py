"""SMS segment counting against known vectors."""

import pytest

from bot.sms import is_gsm7, segments, to_gsm7


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


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("O’Neil", "O'Neil"),
        ("‘quoted’ “twice” «guillemets»", '\'quoted\' "twice" "guillemets"'),
        ("6–8pm — bring notes…", "6-8pm - bring notes..."),
        ("Nakuru\u00a0Library\u202fHall\u2009B", "Nakuru Library Hall B"),
        ("soft\u00adhyphen\u200b", "softhyphen"),
        ("Zoë Ćosić", "Zoe Cosic"),
        ("José Müller à Ça, Ñandú", "José Müller à Ça, Ñandu"),  # ú alone is not GSM-7
        ("See you 👍", "See you 👍"),  # no twin: stays, and goes as UCS-2
    ],
)
def test_to_gsm7_replaces_phone_look_alikes(typed, sent):
    assert to_gsm7(typed) == sent


def test_a_curly_apostrophe_no_longer_costs_a_second_segment():
    text = "a" * 150 + " O’Neil’s"
    assert segments(text) == 3
    assert segments(to_gsm7(text)) == 1
