"""surveys, reports and the circle lifecycle

Revision ID: 400c6b9b3226
Revises: a381a131d0df
Create Date: 2026-11-22 23:59:21.294750
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.db

revision: str = '400c6b9b3226'
down_revision: str | None = 'a381a131d0df'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('circle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', bot.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('learner_survey_at', bot.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('facilitator_survey_at', bot.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('report_sent_at', bot.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('report_token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_circle_ended_at'), ['ended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_circle_report_token'), ['report_token'], unique=True)

    with op.batch_alter_table('surveyresponse', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rating', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('surprised', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column('advice', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column('run_again', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('completed_at', bot.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('surveyresponse', schema=None) as batch_op:
        batch_op.drop_column('completed_at')
        batch_op.drop_column('run_again')
        batch_op.drop_column('advice')
        batch_op.drop_column('surprised')
        batch_op.drop_column('rating')

    with op.batch_alter_table('circle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_circle_report_token'))
        batch_op.drop_index(batch_op.f('ix_circle_ended_at'))
        batch_op.drop_column('report_token')
        batch_op.drop_column('report_sent_at')
        batch_op.drop_column('facilitator_survey_at')
        batch_op.drop_column('learner_survey_at')
        batch_op.drop_column('ended_at')

