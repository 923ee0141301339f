"""buttons, tapped answers and forum topics

Revision ID: 6c1d2e3f4a5b
Revises: 400c6b9b3226
Create Date: 2026-12-02 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '6c1d2e3f4a5b'
down_revision: str | None = '400c6b9b3226'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buttons', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('reply_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('thread_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('thread_id')
        batch_op.drop_column('reply_to_id')
        batch_op.drop_column('buttons')
