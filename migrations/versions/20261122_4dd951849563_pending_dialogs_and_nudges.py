"""pending dialogs and nudges

Revision ID: 4dd951849563
Revises: 525ce2efecc0
Create Date: 2026-11-22 23:34:06.993635
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.db

revision: str = '4dd951849563'
down_revision: str | None = '525ce2efecc0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pendingdialog',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('flow', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('pendingdialog', schema=None) as batch_op:
        batch_op.create_index('ix_pending_dialog_waiting', ['started_at', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pendingdialog_contact_id'), ['contact_id'], unique=False)

    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nudged_at', bot.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_column('nudged_at')

    with op.batch_alter_table('pendingdialog', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pendingdialog_contact_id'))
        batch_op.drop_index('ix_pending_dialog_waiting')

    op.drop_table('pendingdialog')
