"""Building a small world for a test: teams and circles named by CONTACT handles."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.db import session_scope
from bot.identity import contact_for, parse_handle
from models.circles import Circle, Signup, create_circle
from models.teams import Team, create_team, next_digest_at


def person_id(session: Session, handle: str) -> int:
    """The person behind `sms:+1555…`, created if new."""
    return contact_for(session, *parse_handle(handle)).person_id


# Teams are made as of this instant, whatever the real date, so digests fall on fixed days:
# the first is due on Monday 23 November 2026, at 08:00 in the team's timezone.
MADE_AT = datetime.fromisoformat("2026-11-20T00:00:00+00:00")


def team(session: Session, name: str, timezone: str, organizer: str) -> Team:
    """A team with its first organizer."""
    made = create_team(session, name, timezone, person_id(session, organizer))
    made.digest_due_at = next_digest_at(made, MADE_AT)
    return made


def circle(session: Session, team: Team, facilitator: str, first: datetime, **fields) -> Circle:
    """An open circle with weekly meetings from `first` (local wall-clock time)."""
    values = {"name": "Python", "course": "Python", "venue": "Library", "city": "Nakuru"}
    return create_circle(
        session, team, person_id(session, facilitator), first=first, **(values | fields)
    )


def many_circles(n: int, first: datetime) -> None:
    """`n` one-meeting circles in one team, each with its own facilitator and one learner."""
    with session_scope() as session:
        team_ = team(session, f"Team {n}", "Africa/Nairobi", "sms:+15559990000")
        for index in range(n):
            made = circle(session, team_, f"sms:+1555800{index:04d}", first, weeks=1)
            contact = contact_for(session, "sms", f"+1555700{index:04d}")
            session.add(Signup(circle_id=made.id, person_id=contact.person_id,
                               contact_id=contact.id))  # fmt: skip


def named(session: Session, handle: str, name: str) -> int:
    """The person behind `handle`, given a name; their id."""
    from models.people import Person

    person = person_id(session, handle)
    session.get(Person, person).name = name
    return person


def meetings_of(session: Session, circle: Circle) -> list:
    """The circle's meetings, first to last."""
    from sqlmodel import select

    from models.circles import Meeting

    return list(
        session.exec(
            select(Meeting).where(Meeting.circle_id == circle.id).order_by(Meeting.number)
        ).all()
    )
