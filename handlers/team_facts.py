"""What happened in a team's circles around an instant, read for many teams at once: one query
per kind of fact, however many teams and circles there are."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_
from sqlmodel import Session, select

from handlers import circle_report
from models.circles import SCHEDULED, Circle, Facilitation, Meeting, Rsvp, Signup
from models.feedback import Reflection
from models.people import Person
from models.teams import FACILITATOR, TeamMember

WEEK = timedelta(days=7)
CHART_WEEKS = 4  # the attendance chart looks back this many weeks
LOOK_BACK = CHART_WEEKS * WEEK
STARTING_SOON = 2 * WEEK
REFLECTION_GRACE = timedelta(hours=1)  # a meeting ended this long ago may lack a reflection
SILENT_AFTER = 2  # reminders in a row without an answer make a learner "not replying"
SILENT_WINDOW = 3 * WEEK


@dataclass
class TeamFacts:
    """One team's facts: meetings four weeks back and one ahead, reflections, circles, people."""

    meetings: list = field(default_factory=list)  # rows, oldest first, with `yes`
    reflections: dict[int, list] = field(default_factory=dict)  # by meeting id
    circles: list = field(default_factory=list)  # rows with learners, first_start, last_end
    facilitators: dict[int, list] = field(default_factory=dict)  # (id, name) rows by circle id
    team_facilitators: list = field(default_factory=list)  # (person id, name) of members
    new_learners: list = field(default_factory=list)
    silent_learners: list = field(default_factory=list)
    reports: dict = field(default_factory=dict)  # circle reports sent in the past week, by id


def gather(session: Session, team_ids: list[int], at: datetime) -> dict[int, TeamFacts]:
    """The facts of each team as of `at`, in a fixed number of queries."""
    facts = {team_id: TeamFacts() for team_id in team_ids}
    meetings = _meetings(session, team_ids, at)
    for row in meetings:
        facts[row.team_id].meetings.append(row)
    reflections = _reflections(session, team_ids, at)
    for row in reflections:
        facts[row.team_id].reflections.setdefault(row.meeting_id, []).append(row)
    circles = _circles(session, team_ids, at)
    for row in circles:
        facts[row.team_id].circles.append(row)
    reported = [row for row in circles if row.report_sent_at and row.report_sent_at > at - WEEK]
    for circle_id, report in circle_report.gather(session, [r.id for r in reported], at).items():
        facts[report.circle.team_id].reports[circle_id] = report
    for row in _facilitations(session, team_ids, at):
        facts[row.team_id].facilitators.setdefault(row.circle_id, []).append(row)
    for row in _team_facilitators(session, team_ids):
        facts[row.team_id].team_facilitators.append(row)
    for row in _new_learners(session, team_ids, at):
        facts[row.team_id].new_learners.append(row)
    for row in _silent_learners(session, meetings, at):
        facts[row.team_id].silent_learners.append(row)
    return facts


def _meetings(session: Session, team_ids: list[int], at: datetime) -> list:
    """Scheduled meetings from four weeks back to one week ahead, with their yes count."""
    # Learners who left keep their RSVPs on record, but no longer count as coming.
    yes = func.sum(case((Rsvp.attending.is_(True) & Signup.left_at.is_(None), 1), else_=0))
    return list(
        session.execute(
            select(Meeting.id, Meeting.circle_id, Meeting.starts_at, Meeting.ends_at,
                   Meeting.reminder_sent_at, Circle.name.label("circle"), Circle.timezone,
                   Circle.team_id, func.coalesce(yes, 0).label("yes"))
            .join(Circle, Circle.id == Meeting.circle_id)
            .outerjoin(Rsvp, Rsvp.meeting_id == Meeting.id)
            .outerjoin(Signup, Signup.id == Rsvp.signup_id)
            .where(Circle.team_id.in_(team_ids), Circle.status != "cancelled",
                   Meeting.status == SCHEDULED, Meeting.starts_at >= at - LOOK_BACK,
                   Meeting.starts_at < at + WEEK)
            .group_by(Meeting.id, Meeting.circle_id, Meeting.starts_at, Meeting.ends_at,
                      Meeting.reminder_sent_at, Circle.name, Circle.timezone, Circle.team_id)
            .order_by(Meeting.starts_at, Circle.name)
        ).all()
    )  # fmt: skip


def _reflections(session: Session, team_ids: list[int], at: datetime) -> list:
    """Reflections on the meetings of the last four weeks, with who wrote them."""
    return list(
        session.execute(
            select(Reflection.meeting_id, Reflection.rating, Reflection.attendance,
                   Reflection.went_well, Reflection.to_change, Person.name, Circle.team_id)
            .join(Meeting, Meeting.id == Reflection.meeting_id)
            .join(Circle, Circle.id == Meeting.circle_id)
            .join(Person, Person.id == Reflection.person_id)
            .where(Circle.team_id.in_(team_ids), Meeting.starts_at >= at - LOOK_BACK,
                   Meeting.starts_at < at)
            .order_by(Reflection.id)
        ).all()
    )  # fmt: skip


def _current(team_ids: list[int], at: datetime):
    """The ids of the teams' circles still of interest: not cancelled, and not finished
    longer ago than the look-back (nor reported on before this week)."""
    return select(Circle.id).where(
        Circle.team_id.in_(team_ids),
        Circle.status != "cancelled",
        or_(Circle.ended_at.is_(None), Circle.ended_at >= at - LOOK_BACK,
            Circle.report_sent_at > at - WEEK),
    )  # fmt: skip


def _circles(session: Session, team_ids: list[int], at: datetime) -> list:
    """The current circles, with their learners, first start, next start and last end."""
    current = _current(team_ids, at)
    learners = (
        select(Signup.circle_id, func.count().label("learners"))
        .where(Signup.circle_id.in_(current), Signup.left_at.is_(None))
        .group_by(Signup.circle_id)
        .subquery()
    )
    times = (
        select(Meeting.circle_id, func.min(Meeting.starts_at).label("first_start"),
               func.max(Meeting.ends_at).label("last_end"),
               func.min(case((Meeting.starts_at > at, Meeting.starts_at))).label("next_start"),
               func.count().label("meetings"))
        .where(Meeting.circle_id.in_(current), Meeting.status == SCHEDULED)
        .group_by(Meeting.circle_id)
        .subquery()
    )  # fmt: skip
    return list(
        session.execute(
            select(Circle.id, Circle.name, Circle.join_code, Circle.timezone, Circle.team_id,
                   Circle.status, Circle.report_sent_at,
                   func.coalesce(learners.c.learners, 0).label("learners"),
                   times.c.first_start, times.c.last_end, times.c.next_start, times.c.meetings)
            .outerjoin(learners, learners.c.circle_id == Circle.id)
            .join(times, times.c.circle_id == Circle.id)
            .where(Circle.id.in_(current))
            .order_by(times.c.first_start, Circle.name)
        ).all()
    )  # fmt: skip


def _facilitations(session: Session, team_ids: list[int], at: datetime) -> list:
    return list(
        session.execute(
            select(Facilitation.circle_id, Person.id, Person.name, Circle.team_id)
            .join(Circle, Circle.id == Facilitation.circle_id)
            .join(Person, Person.id == Facilitation.person_id)
            .where(Facilitation.circle_id.in_(_current(team_ids, at)))
            .order_by(Person.name, Person.id)
        ).all()
    )


def _team_facilitators(session: Session, team_ids: list[int]) -> list:
    """The team's facilitators by membership, with or without a circle yet."""
    return list(
        session.execute(
            select(TeamMember.team_id, Person.id, Person.name)
            .join(Person, Person.id == TeamMember.person_id)
            .where(TeamMember.team_id.in_(team_ids), TeamMember.role == FACILITATOR)
            .order_by(Person.name, Person.id)
        ).all()
    )


def _new_learners(session: Session, team_ids: list[int], at: datetime) -> list:
    """Who joined a circle in the last week, with their goal."""
    return list(
        session.execute(
            select(Signup.circle_id, Circle.name.label("circle"), Person.name, Signup.goal,
                   Circle.team_id)
            .join(Circle, Circle.id == Signup.circle_id)
            .join(Person, Person.id == Signup.person_id)
            .where(Circle.team_id.in_(team_ids), Signup.left_at.is_(None),
                   Signup.joined_at > at - WEEK, Signup.joined_at <= at)
            .order_by(Circle.name, Signup.joined_at)
        ).all()
    )  # fmt: skip


def _silent_learners(session: Session, meetings: list, at: datetime) -> list:
    """Learners who answered none of their circle's last two reminders (of three weeks)."""
    reminded: dict[int, list] = defaultdict(list)
    for row in meetings:
        if row.reminder_sent_at and at - SILENT_WINDOW <= row.starts_at <= at:
            reminded[row.circle_id].append(row)
    last = {cid: rows[-SILENT_AFTER:] for cid, rows in reminded.items()
            if len(rows) >= SILENT_AFTER}  # fmt: skip
    meeting_ids = [row.id for rows in last.values() for row in rows]
    answered = func.count(Rsvp.id)
    rows = session.execute(
        select(Signup.circle_id, Circle.name.label("circle"), Person.name, Circle.team_id,
               Signup.joined_at)
        .join(Circle, Circle.id == Signup.circle_id)
        .join(Person, Person.id == Signup.person_id)
        .outerjoin(Rsvp, (Rsvp.signup_id == Signup.id) & Rsvp.meeting_id.in_(meeting_ids))
        .where(Signup.circle_id.in_(list(last)), Signup.left_at.is_(None))
        .group_by(Signup.id, Signup.circle_id, Circle.name, Person.name, Circle.team_id,
                  Signup.joined_at)
        .having(answered == 0)
        .order_by(Circle.name, Person.name)
    ).all()  # fmt: skip
    # Only learners who were there for both reminders can have ignored them.
    return [row for row in rows if row.joined_at < last[row.circle_id][0].reminder_sent_at]
