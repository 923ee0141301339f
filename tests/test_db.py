"""Storage: aware UTC datetimes on both backends, SQLite pragmas, migrations in step with models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.db import make_engine, session_scope
from models.people import Contact, Person


def test_datetimes_come_back_aware_in_utc(settings):
    nairobi = timezone(timedelta(hours=3))
    written = datetime(2026, 12, 1, 18, 0, tzinfo=nairobi)
    with session_scope() as session:
        session.add(Person(name="Amina", created_at=written))
    with session_scope() as session:
        person = session.exec(select(Person)).one()
    assert person.created_at == written
    assert person.created_at.utcoffset() == timedelta(0)
    assert person.created_at.hour == 15


def test_comparisons_in_sql_respect_the_instant(settings):
    with session_scope() as session:
        session.add(Person(name="early", created_at=datetime(2026, 1, 1, 10, tzinfo=UTC)))
        session.add(Person(name="late", created_at=datetime(2026, 1, 1, 12, tzinfo=UTC)))
    cutoff = datetime(2026, 1, 1, 13, tzinfo=timezone(timedelta(hours=2)))  # 11:00 UTC
    with session_scope() as session:
        names = session.exec(select(Person.name).where(Person.created_at < cutoff)).all()
    assert names == ["early"]


def test_a_naive_datetime_is_refused(settings):
    with pytest.raises(Exception, match="naive"), session_scope() as session:
        session.add(Person(name="x", created_at=datetime(2026, 1, 1)))


def test_the_embedded_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'circlebot.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        # Long enough for a queue of writers, short enough that a webhook answers (5xx at
        # worst) well inside the 15 s that Twilio waits.
        assert 1000 <= connection.execute(text("PRAGMA busy_timeout")).scalar() <= 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_foreign_keys_are_enforced(settings):
    with pytest.raises(IntegrityError), session_scope() as session:
        session.add(Contact(person_id=999999, channel="sms", address="+15550001"))


def test_the_migrations_match_the_models(settings):
    from alembic import command
    from alembic.config import Config

    from bot.config import ROOT

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    command.check(config)  # raises if autogenerate would find a difference
