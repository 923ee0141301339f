"""Before each meeting, its facilitators learn who is coming: yes, no, and no answer."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import case, func, update
from sqlmodel import Session, select

from bot import outbox, queue
from bot.i18n import t
from bot.identity import reachable_contacts
from bot.when import day_time
from handlers.notify import facilitators
from models.circles import SCHEDULED, SIGNUP_OPEN, Circle, Meeting, Rsvp, Signup

LEAD = timedelta(hours=3)  # late enough that most answers are in, early enough to plan
BATCH = 2000


def sweep(session: Session, at: datetime, queued: Counter) -> None:
    """Claim meetings starting within LEAD and send each facilitator the RSVP counts."""
    due = session.execute(
        select(Meeting.id, Meeting.circle_id, Meeting.starts_at, Circle.name, Circle.timezone)
        .join(Circle, Circle.id == Meeting.circle_id)
        .where(
            Meeting.rsvp_summary_sent_at.is_(None),
            Meeting.starts_at > at,
            Meeting.starts_at <= at + LEAD,
            Meeting.status == SCHEDULED,
            Circle.status.in_(SIGNUP_OPEN),
        )
        .limit(BATCH)
    ).all()
    if not due:
        return
    claimed = set(
        session.execute(
            update(Meeting)
            .where(Meeting.id.in_([m.id for m in due]), Meeting.rsvp_summary_sent_at.is_(None))
            .values(rsvp_summary_sent_at=at)
            .returning(Meeting.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    meetings = {m.circle_id: m for m in due if m.id in claimed}
    if not meetings:
        return
    counts = _counts(session, meetings)
    pairs = facilitators(session, list(meetings))
    contacts = reachable_contacts(session, list({person.id for _, person in pairs}))
    rows = []
    for circle_id, person in pairs:
        contact = contacts.get(person.id)
        if contact is None:
            continue
        meeting = meetings[circle_id]
        learners, yes, no = counts.get(circle_id, (0, 0, 0))
        body = t(
            "rsvp.summary",
            person.language,
            circle=meeting.name,
            when=day_time(meeting.starts_at, meeting.timezone, person.language),
            yes=yes,
            no=no,
            silent=learners - yes - no,
        )
        rows.append(
            {
                "channel": contact.channel,
                "contact_id": contact.id,
                "meeting_id": meeting.id,
                "body": body,
                "purpose": "rsvp_summary",
                "dedupe_key": f"rsvp-summary:{meeting.id}:{contact.id}",
            }
        )
    outbox.queue_once(session, rows, queue_name=queue.LOW)
    queued["rsvp_summary"] += len(rows)


def _counts(session: Session, meetings: dict) -> dict[int, tuple[int, int, int]]:
    """(active learners, yes, no) per circle, for these meetings, in one query."""
    meeting_ids = [m.id for m in meetings.values()]
    rows = session.execute(
        select(
            Signup.circle_id,
            func.count(Signup.id),
            func.sum(case((Rsvp.attending.is_(True), 1), else_=0)),
            func.sum(case((Rsvp.attending.is_(False), 1), else_=0)),
        )
        .outerjoin(Rsvp, (Rsvp.signup_id == Signup.id) & Rsvp.meeting_id.in_(meeting_ids))
        .where(Signup.circle_id.in_(list(meetings)), Signup.left_at.is_(None))
        .group_by(Signup.circle_id)
    ).all()
    return {circle_id: (n, yes or 0, no or 0) for circle_id, n, yes, no in rows}
