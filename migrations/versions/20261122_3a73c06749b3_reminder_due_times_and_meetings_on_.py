"""reminder due times and meetings on messages

Revision ID: 3a73c06749b3
Revises: 52bb76384fb4
Create Date: 2026-11-22 21:58:39.028039
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.db

revision: str = '3a73c06749b3'
down_revision: str | None = '52bb76384fb4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_due_at', bot.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_meeting_reminder_due', ['reminder_sent_at', 'reminder_due_at'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_message_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_foreign_key('fk_message_meeting_id_meeting', 'meeting', ['meeting_id'], ['id'])

    _schedule_existing_reminders()



def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_message_meeting_id_meeting', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_message_meeting_id'))
        batch_op.drop_column('meeting_id')

    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_reminder_due')
        batch_op.drop_column('reminder_due_at')



def _schedule_existing_reminders() -> None:
    """Give meetings created before this revision their reminder time (48 h lead)."""
    from datetime import timedelta

    meeting = sa.table(
        "meeting",
        sa.column("id", sa.Integer),
        sa.column("circle_id", sa.Integer),
        sa.column("starts_at", bot.db.UTCDateTime()),
        sa.column("ends_at", bot.db.UTCDateTime()),
        sa.column("status", sa.String),
        sa.column("reminder_due_at", bot.db.UTCDateTime()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(meeting.c.id, meeting.c.circle_id, meeting.c.starts_at, meeting.c.ends_at)
        .where(meeting.c.status == "scheduled")
        .order_by(meeting.c.circle_id, meeting.c.starts_at)
    ).all()
    previous: dict[int, object] = {}
    for row in rows:
        due = row.starts_at - timedelta(hours=48)
        end = previous.get(row.circle_id)
        bind.execute(
            meeting.update()
            .where(meeting.c.id == row.id)
            .values(reminder_due_at=max(due, end) if end else due)
        )
        previous[row.circle_id] = row.ends_at
