"""Attendance charts: the lines drawn and a valid PNG, never the pixels."""

from __future__ import annotations

import struct
import warnings

from bot.chart import attendance_png, lines

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chart_spec(circles: list[dict], **extra) -> dict:
    return {
        "title": "Attendance, Nakuru Libraries",
        "weeks": ["9 Nov", "16 Nov", "23 Nov", "30 Nov"],
        "labels": {"yes": "Said yes", "came": "Came"},
        "circles": circles,
        **extra,
    }


def circle(name: str, yes: list, came: list) -> dict:
    return {"name": name, "yes": yes, "came": came}


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which every PNG puts first."""
    return struct.unpack(">II", png[16:24])


def test_chart_is_a_png_about_800_by_450():
    png = attendance_png(chart_spec([circle("Python", [3, 4, None, 5], [2, 4, None, 6])]))

    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    width, height = png_size(png)
    assert width > 400 and height > 200


def test_hub_without_circles_still_gets_a_chart_with_its_title():
    png = attendance_png(chart_spec([]))

    assert png.startswith(PNG_SIGNATURE)
    assert lines(chart_spec([])) == []


def test_eight_circles_are_each_drawn():
    circles = [circle(f"Circle {n}", [n, n, n, n], [n, n, None, n]) for n in range(1, 9)]

    assert lines(chart_spec(circles)) == circles


def test_twelve_circles_fold_the_last_five_into_others():
    circles = [circle(f"Circle {n}", [n, n, n, n], [n, n, n, n]) for n in range(1, 13)]

    drawn = lines(chart_spec(circles, others="Vikundi vingine"))

    assert len(drawn) == 8
    assert drawn[:7] == circles[:7]
    assert drawn[7] == {"name": "Vikundi vingine", "yes": [50] * 4, "came": [50] * 4}
    assert attendance_png(chart_spec(circles)).startswith(PNG_SIGNATURE)


def test_folded_week_sums_only_reports_and_stays_a_gap_when_none_met():
    circles = [circle(f"Circle {n}", [1, 1, 1, 1], [1, 1, 1, 1]) for n in range(1, 8)]
    circles += [
        circle("Chess", [2, None, None, 0], [1, None, None, 0]),
        circle("Knitting", [3, 4, None, None], [None, 2, None, None]),
        circle("Poetry", [None, 5, None, 1], [None, None, None, 1]),
    ]

    others = lines(chart_spec(circles))[7]

    assert others == {"name": "Other circles", "yes": [5, 9, None, 1], "came": [1, 2, None, 1]}


def test_non_ascii_circle_names_render_without_missing_glyphs():
    circles = [
        circle("Café ya Kusoma", [3, 4, None, 5], [2, 4, None, 6]),
        circle("Hesabu — Ngʼombe na Shamba", [1, None, 2, 2], [1, None, 2, 1]),
        circle("Programação Básica", [None, None, None, None], [None, None, None, None]),
    ]
    spec = chart_spec(
        circles,
        title="Mahudhurio, Maktaba ya Nakuru",
        labels={"yes": "Walisema ndiyo", "came": "Walikuja"},
    )

    # A glyph the font lacks is only a warning; turn it into a failure.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = attendance_png(spec)

    assert png.startswith(PNG_SIGNATURE)
