"""Attendance charts as PNG images (matplotlib, Agg backend)."""

from __future__ import annotations

import io
import math

# Figure and FigureCanvasAgg, never pyplot: no global figure registry, so workers can render
# charts side by side on threads without a display.
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

MAX_LINES = 8  # more lines than this and the colours stop telling circles apart
OTHERS = "Other circles"  # only for specs stored without a translated "others" name
COLOURS = colormaps["tab10"].colors
STYLE_KEY = "black"  # not a circle colour: tab10 gives "Other circles" grey
SIZE_INCHES = (8, 4.5)
DPI = 100


def lines(spec: dict) -> list[dict]:
    """The circles as drawn: at most 8, the rest summed into one line."""
    circles = [{"name": c["name"], "yes": c["yes"], "came": c["came"]} for c in spec["circles"]]
    if len(circles) <= MAX_LINES:
        return circles
    shown, folded = circles[: MAX_LINES - 1], circles[MAX_LINES - 1 :]
    others = {
        "name": spec.get("others", OTHERS),
        "yes": _sum_weeks([c["yes"] for c in folded]),
        "came": _sum_weeks([c["came"] for c in folded]),
    }
    return [*shown, others]


def _sum_weeks(series: list[list[int | None]]) -> list[int | None]:
    """Add the circles week by week; a week nobody reported stays None."""
    return [
        None if all(v is None for v in week) else sum(v for v in week if v is not None)
        for week in zip(*series, strict=True)
    ]


def _gaps(values: list[int | None]) -> list[float]:
    """Turn None into NaN, which matplotlib draws as a break in the line."""
    return [math.nan if v is None else v for v in values]


def attendance_png(spec: dict) -> bytes:
    """The attendance chart described by `spec`, as PNG bytes."""
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(spec["title"])

    weeks = range(len(spec["weeks"]))
    drawn = lines(spec)
    for circle, colour in zip(drawn, COLOURS, strict=False):
        ax.plot(weeks, _gaps(circle["came"]), color=colour, marker="o", label=circle["name"])
        # Open markers too: a circle meeting every other week has no two yes-counts to join.
        ax.plot(
            weeks, _gaps(circle["yes"]), color=colour, linestyle="--", marker="o", fillstyle="none"
        )

    ax.set_xticks(weeks, labels=spec["weeks"])
    ax.set_xlim(-0.5, max(len(weeks), 1) - 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    reported = [v for c in drawn for v in (*c["yes"], *c["came"]) if v is not None]
    ax.set_ylim(0, max([1, *reported]) * 1.08)  # headroom so the top marker is not cut in half
    ax.grid(axis="y", alpha=0.3)

    if drawn:
        # "outside" legends get their own room from the layout, so they never cover a week's data.
        fig.legend(loc="outside right upper", frameon=False)
        came = {"color": STYLE_KEY, "marker": "o", "label": spec["labels"]["came"]}
        said_yes = {**came, "linestyle": "--", "fillstyle": "none", "label": spec["labels"]["yes"]}
        styles = [Line2D([], [], **came), Line2D([], [], **said_yes)]
        fig.legend(handles=styles, loc="outside right lower", frameon=False)

    png = io.BytesIO()
    fig.savefig(png, format="png")
    return png.getvalue()
