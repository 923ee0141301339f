"""A day before a reminder goes out, its facilitators see it and can EDIT it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot import outbox, queue
from bot.i18n import t
from bot.when import day_time
from jobs.meetings import claim, facilitator_rows, one_per_circle
from jobs.reminders import reminder_text
from models.circles import SCHEDULED, SIGNUP_OPEN, Circle, Meeting

AHEAD = timedelta(hours=24)
BATCH = 2000


def sweep(session: Session, at: datetime, queued: Counter) -> None:
    """Claim meetings whose reminder goes out within a day and show it to the facilitators."""
    due = session.execute(
        select(
            Meeting.id,
            Meeting.circle_id,
            Meeting.starts_at,
            Meeting.reminder_due_at,
            Meeting.reminder_text,
            Circle.name,
            Circle.venue,
            Circle.timezone,
        )  # fmt: skip
        .join(Circle, Circle.id == Meeting.circle_id)
        .where(
            Meeting.preview_sent_at.is_(None),
            Meeting.reminder_sent_at.is_(None),
            Meeting.reminder_due_at > at,
            Meeting.reminder_due_at <= at + AHEAD,
            Meeting.status == SCHEDULED,
            Circle.status.in_(SIGNUP_OPEN),
        )
        .order_by(Meeting.reminder_due_at)
        .limit(BATCH)
    ).all()
    due = one_per_circle(due)
    if not due:
        return
    claimed = claim(session, Meeting.preview_sent_at, [m.id for m in due], at)
    meetings = {m.circle_id: m for m in due if m.id in claimed}

    def preview(meeting, person) -> str:
        return t(
            "edit.preview",
            person.language,
            circle=meeting.name,
            when=day_time(meeting.reminder_due_at, meeting.timezone, person.language),
            text=reminder_text(meeting, person.language),
        )

    rows = facilitator_rows(session, meetings, "reminder_preview", preview)
    outbox.queue_once(session, rows, queue_name=queue.LOW)
    queued["reminder_preview"] += len(rows)
