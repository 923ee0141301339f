"""connect codes, and contact addresses long enough for WhatsApp's business-scoped user ids

Revision ID: 8e3f4a5b6c7d
Revises: 7d2e3f4a5b6c
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.db

revision: str = "8e3f4a5b6c7d"
down_revision: str | None = "7d2e3f4a5b6c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connectcode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by_contact_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["used_by_contact_id"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("connectcode", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connectcode_person_id"), ["person_id"], unique=False)
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.alter_column(
            "address",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
            type_=sqlmodel.sql.sqltypes.AutoString(length=160),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.alter_column(
            "address",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=160),
            type_=sqlmodel.sql.sqltypes.AutoString(length=64),
            existing_nullable=False,
        )
    with op.batch_alter_table("connectcode", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connectcode_person_id"))
    op.drop_table("connectcode")
