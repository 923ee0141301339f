"""A circle's report: attendance per meeting, ratings, goals met, learners' words (anonymous)
and the facilitators' — read for many circles at once, told in full, in short, or as a chart."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlmodel import Session, select

from bot.config import get_settings
from bot.i18n import t
from bot.when import day
from models.circles import SCHEDULED, Circle, Meeting, Rsvp, Signup
from models.feedback import FACILITATOR, LEARNER, Reflection, SurveyResponse

COMMENTS = 3  # a few learners' words: enough to hear them, too few to single anyone out
GOAL_MET = 4  # 4 or 5 out of 5: the learner reached their goal


@dataclass
class Report:
    """What one circle's report says, gathered from its meetings, reflections and surveys."""

    circle: object  # a row: id, name, course, venue, city, timezone, language, report_token
    meetings: list = field(default_factory=list)  # (starts_at, yes, came or None), in order
    ratings: list[int] = field(default_factory=list)
    goals: list[int] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    facilitator_words: list[str] = field(default_factory=list)
    facilitator_ratings: list[int] = field(default_factory=list)
    run_again: list[bool] = field(default_factory=list)

    @property
    def came(self) -> list[int]:
        return [came for _, _, came in self.meetings if came is not None]

    @property
    def met(self) -> int:
        return sum(goal >= GOAL_MET for goal in self.goals)

    @property
    def url(self) -> str | None:
        token = self.circle.report_token
        return f"{get_settings().public_base_url.rstrip('/')}/reports/{token}" if token else None


def gather(session: Session, circle_ids: list[int], at: datetime) -> dict[int, Report]:
    """The report of each circle as of `at` (meetings begun by then), in four queries."""
    circles = session.execute(
        select(Circle.id, Circle.name, Circle.course, Circle.venue, Circle.city, Circle.timezone,
               Circle.language, Circle.team_id, Circle.report_token)
        .where(Circle.id.in_(circle_ids))
    ).all()  # fmt: skip
    reports = {circle.id: Report(circle) for circle in circles}
    # Learners who left keep their RSVPs on record, but no longer count as coming.
    said_yes = Rsvp.attending.is_(True) & Signup.left_at.is_(None)
    yes = func.coalesce(func.sum(case((said_yes, 1), else_=0)), 0)
    meetings = session.execute(
        select(Meeting.id, Meeting.circle_id, Meeting.starts_at, yes.label("yes"))
        .outerjoin(Rsvp, Rsvp.meeting_id == Meeting.id)
        .outerjoin(Signup, Signup.id == Rsvp.signup_id)
        .where(Meeting.circle_id.in_(circle_ids), Meeting.status == SCHEDULED,
               Meeting.starts_at <= at)
        .group_by(Meeting.id, Meeting.circle_id, Meeting.starts_at)
        .order_by(Meeting.starts_at)
    ).all()  # fmt: skip
    reflections = session.execute(
        select(Reflection.meeting_id, Reflection.rating, Reflection.attendance)
        .join(Meeting, Meeting.id == Reflection.meeting_id)
        .where(Meeting.circle_id.in_(circle_ids))
    ).all()
    came: dict[int, list[int]] = {}
    for row in reflections:
        if row.attendance is not None:
            came.setdefault(row.meeting_id, []).append(row.attendance)
    circle_of = {row.id: row.circle_id for row in meetings}
    for row in meetings:
        # Two facilitators' counts of one meeting: the larger is nearer the truth.
        counted = max(came[row.id]) if row.id in came else None
        reports[row.circle_id].meetings.append((row.starts_at, row.yes, counted))
    for row in reflections:
        if row.rating is not None and row.meeting_id in circle_of:
            reports[circle_of[row.meeting_id]].ratings.append(row.rating)
    surveys = session.exec(
        select(SurveyResponse)
        .where(SurveyResponse.circle_id.in_(circle_ids))
        .order_by(SurveyResponse.id)
    ).all()
    for answer in surveys:
        report = reports[answer.circle_id]
        if answer.role == LEARNER:
            if answer.goal_met is not None:
                report.goals.append(answer.goal_met)
            report.comments += [text for text in (answer.worked_well, answer.improve) if text]
        elif answer.role == FACILITATOR:
            report.facilitator_words += [text for text in (answer.surprised, answer.advice) if text]
            if answer.rating is not None:
                report.facilitator_ratings.append(answer.rating)
            if answer.run_again is not None:
                report.run_again.append(answer.run_again)
    return reports


def average(values: list[int]) -> str:
    return f"{sum(values) / len(values):.1f}"


def full(report: Report, language: str) -> list[str]:
    """The report as facilitators read it: every figure, the words, and the link."""
    circle, zone = report.circle, report.circle.timezone
    if not report.meetings:
        return [t("report.nothing_yet", language, circle=circle.name)]
    first, last = report.meetings[0][0], report.meetings[-1][0]
    lines = [
        t("report.title", language, circle=circle.name, meetings=len(report.meetings),
          first=_day(first, zone, language), last=_day(last, zone, language)),
        t("report.attendance", language, meetings=", ".join(
            f"{_day(starts, zone, language)} {'-' if came is None else came}/{yes}"
            for starts, yes, came in report.meetings)),
    ]  # fmt: skip
    if report.ratings:
        lines.append(t("report.rating", language, rating=average(report.ratings),
                       count=len(report.ratings)))  # fmt: skip
    if report.goals:
        spread = Counter(report.goals)
        lines.append(
            t("report.goals", language, met=report.met, answered=len(report.goals),
              spread=", ".join(f"{score}: {spread[score]}" for score in range(5, 0, -1)))
        )  # fmt: skip
    else:
        lines.append(t("report.no_goals", language))
    if report.comments:
        lines.append(t("report.learners_said", language, words=_quoted(report.comments)))
    if report.facilitator_words:
        lines.append(t("report.facilitator_said", language,
                       words=_quoted(report.facilitator_words)))  # fmt: skip
    if report.facilitator_ratings and report.run_again:
        lines.append(t("report.facilitators_rated", language,
                       rating=average(report.facilitator_ratings), again=sum(report.run_again),
                       count=len(report.run_again)))  # fmt: skip
    if report.url:
        lines.append(t("report.link", language, url=report.url))
    return lines


def short(report: Report, language: str) -> str:
    """The report as learners read it: a thank-you with the main figures and the link."""
    parts = [t("report.short", language, circle=report.circle.name, meetings=len(report.meetings))]
    if report.came:
        parts.append(
            t("report.short_came", language, came=round(sum(report.came) / len(report.came)))
        )
    if report.goals:
        parts.append(t("report.short_goals", language, met=report.met, answered=len(report.goals)))
    parts.append(t("report.thanks", language))
    if report.url:
        parts.append(t("report.link", language, url=report.url))
    return " ".join(parts)


def chart(report: Report, language: str) -> dict | None:
    """The chart's data: per meeting, yes-RSVPs and reported attendance."""
    if not report.meetings:
        return None
    zone = report.circle.timezone
    return {
        "title": t("report.chart_title", language, circle=report.circle.name),
        "weeks": [_day(starts, zone, language) for starts, _, _ in report.meetings],
        "labels": {
            "yes": t("digest.chart_yes", language),
            "came": t("digest.chart_came", language),
        },
        "circles": [
            {
                "name": report.circle.name,
                "yes": [yes for _, yes, _ in report.meetings],
                "came": [came for _, _, came in report.meetings],
            }
        ],
    }


def _day(instant: datetime, timezone: str, language: str) -> str:
    return day(instant.astimezone(ZoneInfo(timezone)).date(), language)


def meeting_day(report: Report, starts: datetime, language: str) -> str:
    """A meeting's local date, as the report lists it."""
    return _day(starts, report.circle.timezone, language)


def _quoted(words: list[str]) -> str:
    return " / ".join(f'"{text}"' for text in words[:COMMENTS])
