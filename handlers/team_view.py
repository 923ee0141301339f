"""What organizers read about their team, in their language: this week's meetings, reflections,
circles, facilitators, and the weekly digest with its chart."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.channels.base import TELEGRAM
from bot.i18n import t
from bot.pages import split
from bot.when import day, day_time
from handlers.team_facts import (
    CHART_WEEKS,
    REFLECTION_GRACE,
    STARTING_SOON,
    WEEK,
    TeamFacts,
)
from models.teams import Team

FEEDBACK_DAYS = timedelta(days=14)


def week(facts: TeamFacts, at: datetime, language: str) -> list[str]:
    """The meetings of the next 7 days: day, time, circle, facilitators, yes count."""
    lines = [
        t("view.week_line", language, when=day_time(m.starts_at, m.timezone, language),
          circle=m.circle, facilitators=_names(facts, m.circle_id, language), yes=m.yes)
        for m in facts.meetings if at < m.starts_at <= at + WEEK
    ]  # fmt: skip
    return [t("view.week_title", language), *lines] if lines else []


def reflections(facts: TeamFacts, at: datetime, language: str, since: timedelta = WEEK):
    """The reflections on meetings that started in the window before `at`."""
    lines = []
    for meeting in facts.meetings:
        if not at - since <= meeting.starts_at < at:
            continue
        for r in facts.reflections.get(meeting.id, []):
            lines.append(
                t("view.reflection_line", language, circle=meeting.circle,
                  when=day_time(meeting.starts_at, meeting.timezone, language),
                  rating=r.rating, came=r.attendance, plus=r.went_well or "-",
                  delta=r.to_change or "-")
            )  # fmt: skip
    return lines


def week_view(facts: TeamFacts, team: Team, at: datetime, language: str) -> list[str]:
    """WEEK and /week: the next 7 days' meetings, or that there are none."""
    return week(facts, at, language) or [t("view.week_none", language)]


def circles(facts: TeamFacts, team: Team, at: datetime, language: str) -> list[str]:
    """The team's circles still meeting: code, learners, next meeting."""
    lines = [
        t("view.circle_line", language, circle=c.name, code=c.join_code, count=c.learners,
          when=day_time(c.next_start, c.timezone, language))
        for c in facts.circles if c.next_start is not None
    ]  # fmt: skip
    if not lines:
        return [t("view.circles_none", language)]
    return [t("view.circles_title", language, team=team.name), *lines]


def facilitators(facts: TeamFacts, team: Team, at: datetime, language: str) -> list[str]:
    """Each facilitator with the circles they run (still meeting), members without one too."""
    running = {c.id: c.name for c in facts.circles if c.next_start is not None}
    names: dict[int, str] = {}
    circles_by: dict[int, list[str]] = {}
    for circle_id, rows in facts.facilitators.items():
        for row in rows:
            names[row.id] = _name(row.name, language)
            if circle_id in running:
                circles_by.setdefault(row.id, []).append(running[circle_id])
    for row in facts.team_facilitators:
        names.setdefault(row.id, _name(row.name, language))
    if not names:
        return [t("view.facilitators_none", language)]
    lines = [
        t("view.facilitator_line", language, name=names[person],
          circles=", ".join(sorted(circles_by[person])))
        if person in circles_by
        else t("view.facilitator_no_circle", language, name=names[person])
        for person in sorted(names, key=lambda person: names[person].casefold())
    ]  # fmt: skip
    return [t("view.facilitators_title", language, team=team.name), *lines]


def feedback(facts: TeamFacts, team: Team, at: datetime, language: str) -> list[str]:
    """Reflections of the last two weeks."""
    lines = reflections(facts, at, language, since=FEEDBACK_DAYS)
    if not lines:
        return [t("view.feedback_none", language)]
    return [t("view.feedback_title", language), *lines]


def digest(facts: TeamFacts, team: Team, at: datetime, language: str) -> list[str]:
    """The weekly digest's lines, empty sections left out; one line when nothing happened."""
    sections = [
        week(facts, at, language),
        _titled("view.reflections_title", reflections(facts, at, language), language),
        _titled("digest.new_title", _new_learners(facts, language), language),
        _titled("digest.starting_title", _starting(facts, at, language), language),
        _titled("digest.wrapped_title", _wrapped(facts, at, language), language),
        _titled("digest.follow_title", _follow_up(facts, at, language), language),
    ]
    sections = [section for section in sections if section]
    if not sections:
        return [t("digest.quiet", language, team=team.name)]
    local = at.astimezone(ZoneInfo(team.timezone)).date()
    lines = [t("digest.header", language, team=team.name, date=day(local, language))]
    for section in sections:
        lines += ["", *section]
    return lines


def chart(facts: TeamFacts, team: Team, at: datetime, language: str) -> dict | None:
    """The attendance chart's data: per circle and week, yes-RSVPs and reported attendance."""
    starts = [at - WEEK * (CHART_WEEKS - index) for index in range(CHART_WEEKS)]
    zone = ZoneInfo(team.timezone)
    series: dict[int, dict] = {}  # by circle id: two circles may share a name
    for meeting in facts.meetings:
        if not starts[0] <= meeting.starts_at < at:
            continue
        week_index = int((meeting.starts_at - starts[0]) / WEEK)
        line = series.setdefault(
            meeting.circle_id,
            {"name": meeting.circle, "yes": [None] * CHART_WEEKS, "came": [None] * CHART_WEEKS},
        )
        line["yes"][week_index] = (line["yes"][week_index] or 0) + meeting.yes
        reported = [r.attendance for r in facts.reflections.get(meeting.id, [])
                    if r.attendance is not None]  # fmt: skip
        if reported:  # two facilitators' counts of one meeting: the larger is nearer the truth
            line["came"][week_index] = (line["came"][week_index] or 0) + max(reported)
    if not series:
        return None
    return {
        "title": t("digest.chart_title", language, team=team.name),
        "weeks": [day(start.astimezone(zone).date(), language) for start in starts],
        "labels": {
            "yes": t("digest.chart_yes", language),
            "came": t("digest.chart_came", language),
        },
        "others": t("digest.chart_others", language),
        "circles": list(series.values()),
    }


def digest_pages(facts: TeamFacts, team: Team, at: datetime, language: str, channel: str) -> list:
    """The digest as (text, media) messages for one channel: split at its limits, the chart
    (where the channel shows images) with the first."""
    texts = split(digest(facts, team, at, language), channel)
    spec = chart(facts, team, at, language) if channel == TELEGRAM else None
    media = [[{"chart": spec}] if spec and index == 0 else [] for index in range(len(texts))]
    return list(zip(texts, media, strict=True))


def _titled(key: str, lines: list[str], language: str) -> list[str]:
    return [t(key, language), *lines] if lines else []


def _name(name: str | None, language: str) -> str:
    return name or t("view.no_name", language)


def _names(facts: TeamFacts, circle_id: int, language: str) -> str:
    """A circle's facilitators, by name."""
    rows = facts.facilitators.get(circle_id, [])
    return ", ".join(_name(row.name, language) for row in rows) or "-"


def _new_learners(facts: TeamFacts, language: str) -> list[str]:
    unnamed = t("learner.unnamed", language)
    return [
        t("digest.new_line", language, circle=row.circle, name=row.name or unnamed,
          goal=row.goal or "-")
        for row in facts.new_learners
    ]  # fmt: skip


def _starting(facts: TeamFacts, at: datetime, language: str) -> list[str]:
    return [
        t("digest.starting_line", language, circle=c.name, count=c.learners,
          when=day_time(c.first_start, c.timezone, language))
        for c in facts.circles if at < c.first_start <= at + STARTING_SOON
    ]  # fmt: skip


def _wrapped(facts: TeamFacts, at: datetime, language: str) -> list[str]:
    """Circles whose last meeting ended in the past week, with average reported attendance,
    and those whose report came out this week, with its summary and link."""
    lines = []
    for circle in facts.circles:
        report = facts.reports.get(circle.id)
        if not (at - WEEK < circle.last_end <= at or report):
            continue
        counts = [
            max(r.attendance for r in rows)
            for meeting in facts.meetings if meeting.circle_id == circle.id
            if (rows := [r for r in facts.reflections.get(meeting.id, [])
                         if r.attendance is not None])
        ]  # fmt: skip
        if report:  # the report counts every meeting, even those older than four weeks
            counts = report.came
        if counts:
            line = t("digest.wrapped_line", language, circle=circle.name,
                     meetings=circle.meetings, came=round(sum(counts) / len(counts)))  # fmt: skip
        else:
            line = t("digest.wrapped_unreported", language, circle=circle.name,
                     meetings=circle.meetings)  # fmt: skip
        if report and report.goals:
            line += " " + t("report.short_goals", language, met=report.met,
                            answered=len(report.goals))  # fmt: skip
        if report and report.url:
            line += " " + t("report.link", language, url=report.url)
        lines.append(line)
    return lines


def _follow_up(facts: TeamFacts, at: datetime, language: str) -> list[str]:
    """Meetings without a reflection, circles near their start without learners, and learners
    who stopped answering reminders."""
    lines = [
        t("digest.follow_reflection", language, circle=m.circle,
          when=day_time(m.starts_at, m.timezone, language),
          facilitators=_names(facts, m.circle_id, language))
        for m in facts.meetings
        if at - WEEK <= m.starts_at and m.ends_at + REFLECTION_GRACE <= at
        and not facts.reflections.get(m.id)
    ]  # fmt: skip
    lines += [
        t("digest.follow_empty", language, circle=c.name,
          when=day_time(c.first_start, c.timezone, language))
        for c in facts.circles if at < c.first_start <= at + WEEK and not c.learners
    ]  # fmt: skip
    unnamed = t("learner.unnamed", language)
    lines += [
        t("digest.follow_silent", language, name=row.name or unnamed, circle=row.circle)
        for row in facts.silent_learners
    ]
    return lines
