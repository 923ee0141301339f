"""Alembic runs migrations against the same database the app uses (DATABASE_URL or SQLite)."""

from alembic import context
from sqlmodel import SQLModel

import models  # noqa: F401  (registers the tables for autogenerate)
from bot.db import get_engine

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    """Migrate with a live connection; SQLite needs batch mode to alter tables."""
    with get_engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
