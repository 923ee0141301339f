"""Circles, who facilitates them, who signed up, their meetings and RSVPs."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Index, UniqueConstraint, delete, func
from sqlmodel import Field, Session, SQLModel, select

from models.codes import unique_code
from models.columns import instant
from models.teams import FACILITATOR, Team, add_member

CIRCLE_STATUSES = ("draft", "open", "running", "finished", "cancelled")
SIGNUP_OPEN = ("open", "running")  # a circle takes new learners until it finishes
SCHEDULED = "scheduled"


class Circle(SQLModel, table=True):
    """A learning circle: a course studied together, weekly, at one venue."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    name: str = Field(max_length=120)
    course: str = Field(max_length=200)
    venue: str = Field(max_length=200)
    city: str = Field(max_length=100)
    timezone: str = Field(max_length=64)
    language: str = Field(default="en", max_length=8)
    # weekday, start_time and first_date: the first scheduled meeting's, in local wall-clock
    # time, which the weekly ones repeat; they follow a moved or cancelled first meeting.
    weekday: int  # as in date.weekday()
    start_time: time
    duration_min: int = 90
    first_date: date
    weeks: int = 6
    join_code: str = Field(max_length=16, unique=True)
    signup_limit: int | None = None
    status: str = Field(default="open", max_length=16, index=True)
    reminder_lead_hours: int = 48
    created_at: datetime = instant(default_now=True)
    # The end of its last meeting, stamped by tick when the circle finishes; the surveys and
    # the report are timed from it, and each is stamped when it goes.
    ended_at: datetime | None = instant(index=True)
    learner_survey_at: datetime | None = instant()
    facilitator_survey_at: datetime | None = instant()
    report_sent_at: datetime | None = instant()
    # The public report page's address: unguessable, made when the report is first sent.
    report_token: str | None = Field(default=None, max_length=32, unique=True, index=True)


class Facilitation(SQLModel, table=True):
    """A person facilitates a circle."""

    __table_args__ = (UniqueConstraint("circle_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circle.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)


class Signup(SQLModel, table=True):
    """A learner's place in a circle, with the goal they came for."""

    __table_args__ = (UniqueConstraint("circle_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circle.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    goal: str | None = Field(default=None, max_length=300)
    joined_at: datetime = instant(default_now=True)
    left_at: datetime | None = instant()


class Meeting(SQLModel, table=True):
    """One weekly meeting of a circle, in UTC; its local time never drifts across DST."""

    __table_args__ = (
        UniqueConstraint("circle_id", "number"),
        Index("ix_meeting_status_starts_at", "status", "starts_at"),
        Index("ix_meeting_status_ends_at", "status", "ends_at"),
        Index("ix_meeting_reminder_due", "reminder_sent_at", "reminder_due_at"),
        Index("ix_meeting_rsvp_summary_due", "rsvp_summary_sent_at", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circle.id", index=True)
    number: int
    starts_at: datetime = instant(nullable=False)
    ends_at: datetime = instant(nullable=False)
    status: str = Field(default=SCHEDULED, max_length=16)
    reminder_text: str | None = Field(default=None, max_length=1000)
    # When the learners' reminder goes out: the lead time before the start, but never before
    # the previous meeting has ended. Kept on the row so the due-query is one indexed range.
    reminder_due_at: datetime | None = instant()
    reminder_sent_at: datetime | None = instant()
    preview_sent_at: datetime | None = instant()
    rsvp_summary_sent_at: datetime | None = instant()
    prompted_at: datetime | None = instant()


class Rsvp(SQLModel, table=True):
    """A learner's yes or no for one meeting."""

    __table_args__ = (UniqueConstraint("meeting_id", "signup_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    signup_id: int = Field(foreign_key="signup.id", index=True)
    attending: bool
    answered_at: datetime = instant(default_now=True)


def forget_answers_to_come(session: Session, signup: Signup, at: datetime) -> None:
    """Drop a rejoining learner's answers for meetings still to come: joining again reuses
    their signup, and what they said before leaving is no answer now. Past ones stay."""
    upcoming = select(Meeting.id).where(
        Meeting.circle_id == signup.circle_id, Meeting.starts_at > at
    )
    session.execute(delete(Rsvp).where(Rsvp.signup_id == signup.id, Rsvp.meeting_id.in_(upcoming)))


def meeting_times(
    first_date: date, start_time: time, weeks: int, duration_min: int, timezone: str
) -> list[tuple[datetime, datetime]]:
    """Weekly (start, end) instants in UTC that keep the same local wall-clock time across DST."""
    zone = ZoneInfo(timezone)
    times = []
    for week in range(weeks):
        local = datetime.combine(first_date + timedelta(weeks=week), start_time, tzinfo=zone)
        # zoneinfo reads a wall-clock time skipped by a DST jump with the offset before the
        # jump, so it lands after the jump, as clocks move; a repeated hour takes its first.
        starts = local.astimezone(UTC)
        times.append((starts, starts + timedelta(minutes=duration_min)))
    return times


def create_circle(
    session: Session,
    team: Team | None,
    facilitator_id: int,
    *,
    name: str,
    course: str,
    venue: str,
    city: str,
    first: datetime,
    weeks: int = 6,
    duration: int = 90,
    timezone: str | None = None,
    limit: int | None = None,
    status: str = "open",
) -> Circle:
    """Create a circle, its facilitation and its weekly meetings; `first` is local wall-clock."""
    timezone = timezone or (team.timezone if team else "UTC")
    circle = Circle(
        team_id=team.id if team else None,
        name=name,
        course=course,
        venue=venue,
        city=city,
        timezone=timezone,
        language=team.language if team else "en",
        weekday=first.weekday(),
        start_time=first.time(),
        duration_min=duration,
        first_date=first.date(),
        weeks=weeks,
        join_code=unique_code(session, Circle.join_code, 4),
        signup_limit=limit,
        status=status,
    )
    session.add(circle)
    session.flush()
    session.add(Facilitation(circle_id=circle.id, person_id=facilitator_id))
    if team is not None:
        add_member(session, team.id, facilitator_id, FACILITATOR)
    times = meeting_times(circle.first_date, circle.start_time, weeks, duration, timezone)
    meetings = [
        Meeting(circle_id=circle.id, number=number, starts_at=starts, ends_at=ends)
        for number, (starts, ends) in enumerate(times, start=1)
    ]
    schedule_reminders(meetings, circle.reminder_lead_hours)
    session.add_all(meetings)
    session.flush()
    return circle


def schedule_reminders(meetings: list[Meeting], lead_hours: int) -> None:
    """Time each reminder still to go: `lead_hours` before its meeting, after earlier ones end."""
    for meeting in meetings:
        if meeting.status == SCHEDULED and meeting.reminder_sent_at is None:
            meeting.reminder_due_at = reminder_due(meetings, meeting, meeting.starts_at, lead_hours)


def reminder_due(
    meetings: list[Meeting], meeting: Meeting, starts_at: datetime, lead_hours: int
) -> datetime:
    """When `meeting`'s reminder goes out if it starts at `starts_at`: `lead_hours` before,
    but never before a meeting of the circle that starts earlier has ended."""
    due = starts_at - timedelta(hours=lead_hours)
    # By identity: meetings being created have no ids yet.
    earlier = [m.ends_at for m in meetings
               if m is not meeting and m.status == SCHEDULED and m.starts_at < starts_at]  # fmt: skip
    return max([due, *earlier])


def follow_first_meeting(circle: Circle, meetings: list[Meeting]) -> None:
    """Keep the circle's start on its first scheduled meeting, once that one is moved or called
    off: the open-circle lists show it to people who may join."""
    scheduled = [m.starts_at for m in meetings if m.status == SCHEDULED]
    if not scheduled:
        return
    first = min(scheduled).astimezone(ZoneInfo(circle.timezone))
    circle.first_date, circle.weekday, circle.start_time = (
        first.date(),
        first.weekday(),
        first.time(),
    )


def first_local(circle: Circle) -> datetime:
    """The first meeting's start as an aware local datetime in the circle's timezone."""
    return datetime.combine(circle.first_date, circle.start_time, tzinfo=ZoneInfo(circle.timezone))


def learner_counts(session: Session, circle_ids: list[int]) -> dict[int, int]:
    """Active learners per circle, in one query."""
    if not circle_ids:
        return {}
    rows = session.exec(
        select(Signup.circle_id, func.count())
        .where(Signup.circle_id.in_(circle_ids), Signup.left_at.is_(None))
        .group_by(Signup.circle_id)
    ).all()
    return dict.fromkeys(circle_ids, 0) | dict(rows)


def has_meeting_after(at: datetime):
    """SQL condition: the circle still has a scheduled meeting to come (else it is over)."""
    return (
        select(Meeting.id)
        .where(Meeting.circle_id == Circle.id, Meeting.status == SCHEDULED, Meeting.starts_at > at)
        .exists()
    )
