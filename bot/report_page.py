"""The public report page: a circle's report as a small, mobile-friendly HTML page behind an
unguessable address, with its chart; figures and anonymous words only, never a name."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, Response, abort, render_template
from sqlmodel import select

from bot.clock import now
from bot.db import session_scope
from bot.i18n import t
from handlers import circle_report
from models.circles import Circle

report_pages = Blueprint("report_pages", __name__, template_folder="templates")
# The address is the only key: keep search engines and caches from spreading it.
PAGE_COMMENTS = 10  # the page has room for more learners' words than a message
PRIVATE_HEADERS = {"X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer"}


def _report(token: str) -> circle_report.Report:
    with session_scope() as session:
        circle_id = session.exec(select(Circle.id).where(Circle.report_token == token)).first()
        if circle_id is None:
            abort(404)
        return circle_report.gather(session, [circle_id], now())[circle_id]


@report_pages.get("/reports/<token>")
def page(token: str):
    """The report, in the circle's language."""
    report = _report(token)
    language = report.circle.language
    spread = Counter(report.goals)
    html = render_template(
        "circle_report.html",
        language=language,
        report=report,
        lines=circle_report.full(report, language)[:1],
        attendance=[
            (circle_report.meeting_day(report, starts, language), came, yes)
            for starts, yes, came in report.meetings
        ],
        rating=circle_report.average(report.ratings) if report.ratings else None,
        goals=[(score, spread[score]) for score in range(5, 0, -1)],
        most_goals=max(spread.values(), default=0),
        comments=report.comments[:PAGE_COMMENTS],
        words=report.facilitator_words[:PAGE_COMMENTS],
        text=lambda key, **values: t(key, language, **values),
    )
    return Response(html, mimetype="text/html", headers=PRIVATE_HEADERS)


@report_pages.get("/reports/<token>/chart.png")
def chart(token: str):
    """The attendance chart of the report."""
    report = _report(token)
    spec = circle_report.chart(report, report.circle.language)
    if spec is None:
        abort(404)
    from bot.chart import attendance_png  # matplotlib loads on the first chart, not at start

    return Response(attendance_png(spec), mimetype="image/png", headers=PRIVATE_HEADERS)
