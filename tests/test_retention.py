"""Retention: learners are anonymized 90 days after their last circle ended, and every message
body older than that is blanked, by a sweep whose cost does not grow with the data (PRODUCT
"Schedules", issue 13)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, update
from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for, find_contact
from jobs import retention
from models.circles import Circle, Rsvp, Signup
from models.message import IN, Message
from models.people import Contact, Person
from tests.support import world
from tests.support.timeline import at, sweep_queries, tick_at

NOW = datetime.fromisoformat("2026-11-22T09:00:00+00:00")
ENDED = datetime.fromisoformat("2026-12-01T16:30:00+00:00")  # Python's one meeting, over
LEARNER, STAYING, FACILITATOR = "+254711000001", "+254711000002", "+254700000002"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def days_after_end(days: int) -> str:
    return (ENDED + timedelta(days=days, minutes=1)).isoformat()


def make_world() -> None:
    """Python (one meeting, 1 Dec) had Amina and Baraka; Baraka is also in Excel, which starts
    in January. Pat facilitates both."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+254700000001")
        python = world.circle(session, team, f"sms:{FACILITATOR}", datetime(2026, 12, 1, 18, 0),
                              weeks=1)  # fmt: skip
        excel = world.circle(session, team, f"sms:{FACILITATOR}", datetime(2027, 1, 5, 18, 0),
                             name="Excel")  # fmt: skip
        for number, name, circles in ((LEARNER, "Amina", [python]),
                                      (STAYING, "Baraka", [python, excel])):  # fmt: skip
            contact = contact_for(session, "sms", number)
            session.get(Person, contact.person_id).name = name
            for circle in circles:
                session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                                   contact_id=contact.id, goal=f"{name}'s goal"))  # fmt: skip


def person(number: str) -> tuple[str | None, list[str | None]] | None:
    """The name and goals of whoever is at this number, if anyone."""
    with session_scope() as session:
        contact = find_contact(session, "sms", number)
        if contact is None:
            return None
        goals = session.exec(select(Signup.goal).where(Signup.person_id == contact.person_id))
        return session.get(Person, contact.person_id).name, list(goals)


def bodies() -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(Message.body).order_by(Message.id)))


def test_learners_are_anonymized_90_days_after_their_last_circle_ends(sms_user, run_jobs):
    make_world()
    amina = sms_user(LEARNER)
    amina.says("NEXT")
    run_jobs()
    tick_at("2026-12-01T16:31:00+00:00", run_jobs)  # Python is over
    with session_scope() as session:
        assert session.exec(select(Circle.ended_at).where(Circle.name == "Python")).one() == ENDED
        said_yes = session.exec(select(func.count()).select_from(Rsvp)).one()

    tick_at(days_after_end(89), run_jobs)
    assert person(LEARNER) == ("Amina", ["Amina's goal"])
    # Her NEXT and its answer came ten days before the end: past the period already.
    with session_scope() as session:
        old = session.exec(select(Message.body).where(Message.created_at < ENDED)).all()
        newer = session.exec(select(Message.body).where(Message.created_at >= ENDED)).all()
    assert old and set(old) == {""}
    assert newer and all(newer)  # the surveys and prompts that followed the end

    tick_at(days_after_end(91), run_jobs)
    assert person(LEARNER) is None  # her address is erased: someone writing from it is new
    assert person(STAYING) == ("Baraka", ["Baraka's goal", "Baraka's goal"])  # Excel is to come
    with session_scope() as session:
        # Only Amina: Pat facilitates, Baraka has a circle to come.
        [amina_row] = session.exec(select(Person).where(Person.anonymized_at.is_not(None))).all()
        assert amina_row.name is None
        goals = session.exec(select(Signup.goal).where(Signup.person_id == amina_row.id)).all()
        assert goals == [None]
        assert session.exec(select(func.count()).select_from(Rsvp)).one() == said_yes
        [address] = session.exec(
            select(Contact.address).where(Contact.person_id == amina_row.id)
        ).all()
        assert address.startswith("forgotten:")
    assert not any("Amina" in body for body in bodies())


def test_anonymizing_sends_nothing_to_the_learners(sms_user, run_jobs):
    make_world()
    with session_scope() as session:
        session.execute(update(Circle).values(status="finished", ended_at=ENDED))
    tick_at(days_after_end(91), run_jobs)
    assert sms_user(LEARNER).replies() == sms_user(STAYING).replies() == []
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(Person)
                            .where(Person.anonymized_at.is_not(None))).one() == 2  # fmt: skip


def test_a_second_run_finds_nothing_to_do(settings):
    make_world()
    with session_scope() as session:
        session.execute(update(Circle).values(status="finished", ended_at=ENDED))
    instant = at(days_after_end(91))
    runs = []
    for _ in range(2):
        queued: Counter = Counter()
        with session_scope() as session:
            retention.retain(session, instant, queued)
        runs.append(dict(queued))
    assert runs == [{"anonymized": 2}, {}]


def test_once_an_hour_and_cheap_between(settings):
    iso = days_after_end(91)
    first = sweep_queries(iso, retention.sweep)
    # Later in the same hour only the one look for FORGET's waiting addresses runs (and, on
    # SQLite, the BEGIN of its transaction).
    assert sweep_queries(iso, retention.sweep) <= 2 < first


def old_learners(n: int, first: datetime) -> None:
    """`n` finished one-meeting circles, each with a named learner who wrote twice."""
    world.many_circles(n, first)
    with session_scope() as session:
        session.execute(
            update(Circle).where(Circle.status != "finished")
            .values(status="finished", ended_at=first.replace(tzinfo=ENDED.tzinfo))
        )  # fmt: skip
        session.execute(update(Person).where(Person.name.is_(None)).values(name="Learner"))
        learners = session.exec(select(Signup.contact_id)).all()
        session.add_all(
            Message(direction=IN, channel="sms", contact_id=contact_id, body="JOIN and hello",
                    status="handled", created_at=first.replace(tzinfo=ENDED.tzinfo))
            for contact_id in learners for _ in range(2)
        )  # fmt: skip


def test_the_sweep_runs_the_same_statements_for_10_or_1000_people(settings):
    old_learners(10, datetime(2026, 12, 1, 18, 0))
    small = sweep_queries(days_after_end(91), retention.retain)
    old_learners(1000, datetime(2026, 12, 8, 18, 0))
    large = sweep_queries(days_after_end(98), retention.retain)
    with session_scope() as session:
        assert (
            session.exec(
                select(func.count()).select_from(Person).where(Person.anonymized_at.is_not(None))
            ).one()
            == 1010
        )
        assert session.exec(select(func.count()).select_from(Message)
                            .where(Message.body != "")).one() == 0  # fmt: skip
    assert large == small
