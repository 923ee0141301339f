"""A day before a reminder goes out, its facilitators see it and can EDIT it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import outbox, queue
from bot.i18n import t
from bot.when import day_time
from jobs.meetings import claim_due, facilitator_rows
from jobs.reminders import reminder_text
from models.circles import Meeting

AHEAD = timedelta(hours=24)


def sweep(session: Session, at: datetime, queued: Counter) -> None:
    """Claim meetings whose reminder goes out within a day and show it to the facilitators."""
    meetings = claim_due(
        session,
        Meeting.preview_sent_at,
        at,
        Meeting.reminder_sent_at.is_(None),
        Meeting.reminder_due_at > at,
        Meeting.reminder_due_at <= at + AHEAD,
        order_by=Meeting.reminder_due_at,
    )
    if not meetings:
        return

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
