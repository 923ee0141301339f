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
    expires_at: datetime = instant(nullable=False)
    created_at: datetime = instant(default_now=True)
    updated_at: datetime = instant(default_now=True)
