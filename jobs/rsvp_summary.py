"""Before each meeting, its facilitators learn who is coming: yes, no, and no answer."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import case, func
from sqlmodel import Session, select

from bot import outbox, queue
from bot.i18n import t
from bot.when import day_time
from jobs.meetings import claim_due, facilitator_rows
from models.circles import Meeting, Rsvp, Signup

LEAD = timedelta(hours=3)  # late enough that most answers are in, early enough to plan


def sweep(session: Session, at: datetime, queued: Counter) -> None:
    """Claim meetings starting within LEAD and send each facilitator the RSVP counts."""
    meetings = claim_due(
        session,
        Meeting.rsvp_summary_sent_at,
        at,
        Meeting.starts_at > at,
        Meeting.starts_at <= at + LEAD,
        order_by=Meeting.starts_at,
    )
    if not meetings:
        return
    counts = rsvp_counts(session, meetings)

    def summary(meeting, person) -> str:
        learners, yes, no = counts.get(meeting.circle_id, (0, 0, 0))
        return t(
            "rsvp.summary",
            person.language,
            circle=meeting.name,
            when=day_time(meeting.starts_at, meeting.timezone, person.language),
            yes=yes,
            no=no,
            silent=learners - yes - no,
        )

    # A circle nobody has joined needs no count.
    meetings = {cid: m for cid, m in meetings.items() if counts.get(cid, (0, 0, 0))[0]}
    rows = facilitator_rows(session, meetings, "rsvp_summary", summary)
    outbox.queue_once(session, rows, queue_name=queue.LOW)
    queued["rsvp_summary"] += len(rows)


def rsvp_counts(session: Session, meetings: dict) -> dict[int, tuple[int, int, int]]:
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
