"""A circle's status follows its meetings: open until the first begins, running until the last
has ended, then finished (the surveys and the report are timed from that end)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlmodel import Session

from models.circles import SCHEDULED, SIGNUP_OPEN, Circle, Meeting

RUNNING, FINISHED, CANCELLED = "running", "finished", "cancelled"


def _meeting(*conditions):
    return exists().where(Meeting.circle_id == Circle.id, Meeting.status == SCHEDULED, *conditions)


def sweep(session: Session, at: datetime, queued: Counter) -> None:
    """Move circles along: open → running → finished; every meeting called off → cancelled."""
    started = session.execute(
        update(Circle)
        .where(Circle.status == "open", _meeting(Meeting.starts_at <= at))
        .values(status=RUNNING)
        .execution_options(synchronize_session=False)
    ).rowcount
    last_end = (
        select(func.max(Meeting.ends_at))
        .where(Meeting.circle_id == Circle.id, Meeting.status == SCHEDULED)
        .scalar_subquery()
    )
    finished = session.execute(
        update(Circle)
        .where(Circle.status.in_(SIGNUP_OPEN), _meeting(), ~_meeting(Meeting.ends_at > at))
        .values(status=FINISHED, ended_at=last_end)
        .execution_options(synchronize_session=False)
    ).rowcount
    cancelled = session.execute(
        update(Circle)
        .where(Circle.status.in_(SIGNUP_OPEN), ~_meeting(),
               exists().where(Meeting.circle_id == Circle.id))
        .values(status=CANCELLED)
        .execution_options(synchronize_session=False)
    ).rowcount  # fmt: skip
    for name, count in (("running", started), ("finished", finished), ("cancelled", cancelled)):
        if count:
            queued[f"circles_{name}"] += count
