"""rsvp summaries for facilitators

Revision ID: 525ce2efecc0
Revises: 3a73c06749b3
Create Date: 2026-11-22 22:17:04.935928
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.db

revision: str = '525ce2efecc0'
down_revision: str | None = '3a73c06749b3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rsvp_summary_sent_at', bot.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_meeting_rsvp_summary_due', ['rsvp_summary_sent_at', 'starts_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_rsvp_summary_due')
        batch_op.drop_column('rsvp_summary_sent_at')

