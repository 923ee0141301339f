"""weekly digest due times

Revision ID: a381a131d0df
Revises: 4dd951849563
Create Date: 2026-11-22 23:44:30.408164
"""

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.db

revision: str = 'a381a131d0df'
down_revision: str | None = '4dd951849563'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_due_at', bot.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_team_digest_due_at'), ['digest_due_at'], unique=False)
    _schedule_existing_teams()


def _schedule_existing_teams() -> None:
    """Give each existing team its next digest instant (local weekday and time, after now)."""
    connection = op.get_bind()
    team = sa.table("team", sa.column("id"), sa.column("timezone"), sa.column("digest_weekday"),
                    sa.column("digest_hour"), sa.column("digest_minute"),
                    sa.column("digest_due_at", bot.db.UTCDateTime(timezone=True)))
    after = datetime.now(UTC)
    for row in connection.execute(sa.select(team)).all():
        zone = ZoneInfo(row.timezone)
        local = after.astimezone(zone)
        day = local.date() + timedelta(days=(row.digest_weekday - local.weekday()) % 7)
        due = datetime.combine(day, time(row.digest_hour, row.digest_minute), tzinfo=zone)
        if due.astimezone(UTC) <= after:
            due = datetime.combine(day + timedelta(days=7), due.timetz())
        connection.execute(
            team.update().where(team.c.id == row.id).values(digest_due_at=due.astimezone(UTC))
        )


def downgrade() -> None:
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_digest_due_at'))
        batch_op.drop_column('digest_due_at')

