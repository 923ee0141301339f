"""After a circle's last meeting: each learner's survey an hour later, each facilitator's a day
later; once per person, waiting behind any dialog they are in."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from bot.identity import reachable_contacts
from conversations import prompts, surveys
from handlers.notify import facilitators
from models.circles import Circle, Signup
from models.feedback import FACILITATOR, LEARNER, SurveyResponse

LEARNER_AFTER = timedelta(hours=1)
FACILITATOR_AFTER = timedelta(days=1)
# A circle that ended longer ago than this when tick first sees it (the bot was down, or it
# ended before surveys existed) is not surveyed: the answers would mean little by then.
LATEST = timedelta(days=14)
WAIT = timedelta(days=3)  # a survey waiting behind another dialog is dropped after this
BATCH = 500  # circles per sweep and tick
INSERT_CHUNK = 2000


def _claim(session: Session, stamp, after: timedelta, at: datetime) -> dict[int, str]:
    """Stamp the finished circles due for this survey; returns their names by id."""
    due = (
        select(Circle.id)
        .where(Circle.status == "finished", stamp.is_(None), Circle.ended_at <= at - after,
               Circle.ended_at > at - LATEST)
        .order_by(Circle.ended_at)
        .limit(BATCH)
    )  # fmt: skip
    return dict(
        session.execute(
            update(Circle)
            .where(Circle.id.in_(due), stamp.is_(None))
            .values({stamp.key: at})
            .returning(Circle.id, Circle.name)
            .execution_options(synchronize_session=False)
        ).all()
    )


def learner_sweep(session: Session, at: datetime, queued: Counter) -> None:
    """Ask each active learner of the circles that ended an hour ago how far they got."""
    circles = _claim(session, Circle.learner_survey_at, LEARNER_AFTER, at)
    if not circles:
        return
    signups = session.execute(
        select(Signup.circle_id, Signup.person_id, Signup.goal)
        .where(Signup.circle_id.in_(list(circles)), Signup.left_at.is_(None))
    ).all()  # fmt: skip
    asked = [(row.circle_id, row.person_id, {"goal": row.goal or ""}) for row in signups]
    queued["survey:learner"] += _ask(session, circles, asked, LEARNER, surveys.LEARNER_SURVEY, at)


def facilitator_sweep(session: Session, at: datetime, queued: Counter) -> None:
    """Ask each facilitator of the circles that ended a day ago about the circle."""
    circles = _claim(session, Circle.facilitator_survey_at, FACILITATOR_AFTER, at)
    if not circles:
        return
    asked = [
        (circle_id, person.id, {}) for circle_id, person in facilitators(session, list(circles))
    ]
    queued["survey:facilitator"] += _ask(
        session, circles, asked, FACILITATOR, surveys.FACILITATOR_SURVEY, at
    )


def _ask(session, circles: dict, asked: list, role: str, flow, at: datetime) -> int:
    """Make each person's (empty) response row and queue their survey dialog; someone we
    cannot write to (stopped, or no contact) is not counted as asked."""
    contacts = reachable_contacts(session, list({person_id for _, person_id, _ in asked}))
    asked = [row for row in asked if row[1] in contacts]
    if not asked:
        return 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # In chunks, to stay under PostgreSQL's 65,535 parameters however many are asked.
    for start in range(0, len(asked), INSERT_CHUNK):
        session.execute(
            insert(SurveyResponse)
            .values([{"circle_id": c, "person_id": p, "role": role, "created_at": at}
                     for c, p, _ in asked[start : start + INSERT_CHUNK]])
            .on_conflict_do_nothing(index_elements=["circle_id", "person_id", "role"])
        )  # fmt: skip
    return prompts.defer(
        session,
        [
            {
                "contact_id": contacts[person_id].id,
                "flow": flow.name,
                "data": {"circle_id": circle_id, "circle": circles[circle_id], **extra},
                "dedupe_key": f"survey:{role}:{circle_id}:{person_id}",
                "created_at": at,
                "expires_at": at + WAIT,
            }
            for circle_id, person_id, extra in asked
        ],
    )
