"""the simulator's made-up contacts and group chats, and its sandbox team

Revision ID: b16c7d8e9f0a
Revises: a05b6c7d8e9f
Create Date: 2026-12-07 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b16c7d8e9f0a"
down_revision: str | None = "a05b6c7d8e9f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("team", schema=None) as batch_op:
        # Every team there is already is a real one.
        batch_op.add_column(
            sa.Column("sandbox", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("simulator_team_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_contact_simulator_team_id"), ["simulator_team_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_contact_simulator_team_id_team", "team", ["simulator_team_id"], ["id"]
        )
    with op.batch_alter_table("groupchat", schema=None) as batch_op:
        batch_op.add_column(sa.Column("simulator_team_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_groupchat_simulator_team_id"), ["simulator_team_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_groupchat_simulator_team_id_team", "team", ["simulator_team_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("groupchat", schema=None) as batch_op:
        batch_op.drop_constraint("fk_groupchat_simulator_team_id_team", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_groupchat_simulator_team_id"))
        batch_op.drop_column("simulator_team_id")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_constraint("fk_contact_simulator_team_id_team", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_contact_simulator_team_id"))
        batch_op.drop_column("simulator_team_id")
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_column("sandbox")
