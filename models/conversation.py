"""A dialog in progress with one contact."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from models.columns import instant

ACTIVE = "active"


class Conversation(SQLModel, table=True):
    """Where a contact is in a flow, and what they have answered so far."""

    __table_args__ = (
        # At most one active dialog per contact; finished ones stay for the record.
        Index(
            "uq_conversation_active_contact",
            "contact_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_conversation_status_expires_at", "status", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    flow: str = Field(max_length=32)
    step: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=ACTIVE, max_length=16)
    reasks: int = 0
    nudged_at: datetime | None = instant()  # the one reminder of a dialog left unanswered
    expires_at: datetime = instant(nullable=False)
    created_at: datetime = instant(default_now=True)
    updated_at: datetime = instant(default_now=True)


class PendingDialog(SQLModel, table=True):
    """A dialog we begin (a reflection, a survey), waiting until the contact is in no other."""

    __table_args__ = (Index("ix_pending_dialog_waiting", "started_at", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    flow: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dedupe_key: str = Field(max_length=120, unique=True)  # one per person and occasion
    created_at: datetime = instant(default_now=True)
    expires_at: datetime = instant(nullable=False)  # no longer worth asking after this
    started_at: datetime | None = instant()
