"""What the meeting sweeps share: claiming due meetings and writing to their facilitators."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from bot.identity import reachable_contacts
from handlers.notify import facilitators
from models.circles import SCHEDULED, SIGNUP_OPEN, Circle, Meeting
from models.people import Person

BATCH = 2000  # meetings per sweep and tick; a backlog drains over the next ticks
# What the sweeps' texts need of a meeting and its circle.
FIELDS = (
    Meeting.id, Meeting.circle_id, Meeting.starts_at, Meeting.reminder_due_at,
    Meeting.reminder_text, Circle.name, Circle.venue, Circle.timezone,
)  # fmt: skip


def claim_due(
    session: Session, stamp, at: datetime, *conditions, order_by, circles=SIGNUP_OPEN
) -> dict:
    """Find the scheduled meetings of circles in `circles` (statuses) that meet `conditions`
    and have no `stamp` yet, claim them by setting it, and return them by circle id."""
    due = session.execute(
        select(*FIELDS)
        .join(Circle, Circle.id == Meeting.circle_id)
        .where(stamp.is_(None), Meeting.status == SCHEDULED, Circle.status.in_(circles),
               *conditions)
        .order_by(order_by)
        .limit(BATCH)
    ).all()  # fmt: skip
    due = one_per_circle(due)
    if not due:
        return {}
    claimed = claim(session, stamp, [meeting.id for meeting in due], at)
    return {meeting.circle_id: meeting for meeting in due if meeting.id in claimed}


def one_per_circle(due: list) -> list:
    """The first due meeting of each circle; a later one waits for the next tick (the sweeps
    address learners by circle, so two meetings of one circle must not share a tick)."""
    first: dict[int, object] = {}
    for meeting in due:
        first.setdefault(meeting.circle_id, meeting)
    return list(first.values())


def claim(session: Session, column, meeting_ids: list[int], at: datetime) -> set[int]:
    """Stamp `column` on the meetings still without it; a tick running beside this one gets
    none of them, so nothing is sent twice."""
    return set(
        session.execute(
            update(Meeting)
            .where(Meeting.id.in_(meeting_ids), column.is_(None))
            .values({column.key: at})
            .returning(Meeting.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )


def facilitator_rows(
    session: Session, meetings: dict, purpose: str, body: Callable[[object, Person], str]
) -> list[dict]:
    """One outbox row per facilitator of each meeting's circle (`meetings` by circle id)."""
    pairs = facilitators(session, list(meetings))
    contacts = reachable_contacts(session, list({person.id for _, person in pairs}))
    rows = []
    for circle_id, person in pairs:
        contact = contacts.get(person.id)
        if contact is None:
            continue
        meeting = meetings[circle_id]
        rows.append(
            {
                "channel": contact.channel,
                "contact_id": contact.id,
                "meeting_id": meeting.id,
                "body": body(meeting, person),
                "purpose": purpose,
                "dedupe_key": f"{purpose}:{meeting.id}:{contact.id}",
            }
        )
    return rows
