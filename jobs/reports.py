"""The circle report: once every survey is answered, or a week after the last meeting, to the
facilitators in full (with its chart on Telegram) and to the learners in short."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import case, exists, literal, or_, update
from sqlmodel import Session, select

from bot import outbox, queue
from bot.channels.base import TELEGRAM
from bot.identity import reachable_contacts
from bot.pages import split
from handlers import circle_report
from handlers.notify import facilitators
from models.circles import Circle, Signup
from models.feedback import SurveyResponse
from models.people import Person

AFTER = timedelta(days=7)  # the report goes at the latest this long after the last meeting
LATEST = timedelta(days=30)  # older circles (ended before reports existed) get none
BATCH = 500


def sweep(session: Session, at: datetime, queued: Counter) -> None:
    """Claim the finished circles whose report is due and queue it to everyone once."""
    unanswered = exists().where(
        SurveyResponse.circle_id == Circle.id, SurveyResponse.completed_at.is_(None)
    )
    due = session.execute(
        select(Circle.id)
        .where(Circle.status == "finished", Circle.report_sent_at.is_(None),
               Circle.learner_survey_at.is_not(None), Circle.facilitator_survey_at.is_not(None),
               Circle.ended_at > at - LATEST,
               or_(Circle.ended_at <= at - AFTER, ~unanswered))
        .limit(BATCH)
    ).scalars().all()  # fmt: skip
    if not due:
        return
    column_type = Circle.__table__.c.report_token.type
    tokens = {circle_id: literal(secrets.token_urlsafe(16), column_type) for circle_id in due}
    claimed = list(
        session.execute(
            update(Circle)
            .where(Circle.id.in_(due), Circle.report_sent_at.is_(None))
            .values(report_sent_at=at, report_token=case(tokens, value=Circle.id))
            .returning(Circle.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    if claimed:
        rows = report_rows(session, claimed, at)
        outbox.queue_once(session, rows, queue_name=queue.LOW)
        queued["report"] += len(rows)


def report_rows(session: Session, circle_ids: list[int], at: datetime) -> list[dict]:
    """Outbox rows of each circle's report: facilitators get it whole, paged for their channel,
    the chart first on Telegram; learners get the short version."""
    reports = circle_report.gather(session, circle_ids, at)
    pairs = facilitators(session, circle_ids)
    learners = session.execute(
        select(Signup.circle_id, Person)
        .join(Person, Person.id == Signup.person_id)
        .where(Signup.circle_id.in_(circle_ids), Signup.left_at.is_(None))
    ).all()  # fmt: skip
    people = [person for _, person in pairs] + [person for _, person in learners]
    contacts = reachable_contacts(session, list({person.id for person in people}))
    rows = []

    def add(circle_id: int, contact, body: str, media: list, number: int) -> None:
        rows.append(
            {"channel": contact.channel, "contact_id": contact.id, "body": body, "media": media,
             "purpose": "report", "dedupe_key": f"report:{circle_id}:{contact.id}:{number}"}
        )  # fmt: skip

    for circle_id, person in pairs:
        contact = contacts.get(person.id)
        if contact is None:
            continue
        report = reports[circle_id]
        pages = split(circle_report.full(report, person.language), contact.channel)
        spec = circle_report.chart(report, person.language) if contact.channel == TELEGRAM else None
        for number, body in enumerate(pages, start=1):
            add(circle_id, contact, body, [{"chart": spec}] if spec and number == 1 else [], number)
    for circle_id, person in learners:
        contact = contacts.get(person.id)
        if contact is not None:
            report = reports[circle_id]
            spec = (
                circle_report.chart(report, person.language)
                if contact.channel == TELEGRAM
                else None
            )
            body = circle_report.short(report, person.language)
            add(circle_id, contact, body, [{"chart": spec}] if spec else [], 1)
    return rows
