"""Every message in and out: the inbox, the outbox and the record of delivery."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.columns import instant

IN = "in"
OUT = "out"

# Outbound states. Final ones never change again except sent -> delivered/undelivered/failed.
QUEUED = "queued"
SENDING = "sending"  # handed to its provider: claimed just before the call, until recorded
RETRY = "retry"
SENT = "sent"
DELIVERED = "delivered"
UNDELIVERED = "undelivered"
FAILED = "failed"
UNKNOWN = "unknown"  # the worker died mid-call: we cannot know, so we never resend
SUPPRESSED = "suppressed"  # the contact stopped before it went out
FINAL = frozenset({DELIVERED, UNDELIVERED, FAILED, UNKNOWN, SUPPRESSED})
SENDABLE = (QUEUED, RETRY)

# Inbound states.
RECEIVED = "received"
HANDLED = "handled"
HANDLING_FAILED = "error"  # a bug met this message: the person got an apology, no retry


class Message(SQLModel, table=True):
    """One message; outbound rows are the outbox, claimed atomically by the sender."""

    __table_args__ = (
        UniqueConstraint("direction", "channel", "provider_id"),
        Index("ix_message_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_message_contact_direction_status", "contact_id", "direction", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    direction: str = Field(max_length=3)
    channel: str = Field(max_length=16)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    group_chat_id: int | None = Field(default=None, foreign_key="groupchat.id", index=True)
    # The meeting a reminder (or notice) is about: a reply to it is read as that meeting's RSVP.
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    body: str = Field(default="", max_length=20000)
    # A question's answers to tap (bot.buttons): each channel shows them its own way, or not.
    buttons: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    # A tapped answer: the id of the question it answers, whatever channel it came by. No
    # foreign key: the id comes from the tap, and a forged one must be stored and refused, not
    # fail the webhook.
    reply_to_id: int | None = None
    # A Telegram forum topic: a reply goes to the topic the person wrote in.
    thread_id: int | None = Field(default=None, sa_type=BigInteger)
    media: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    template: str | None = Field(default=None, max_length=64)
    purpose: str = Field(default="reply", max_length=32)
    dedupe_key: str | None = Field(default=None, max_length=128, unique=True)
    provider_id: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=16)
    error: str | None = Field(default=None, max_length=500)
    attempts: int = 0
    next_attempt_at: datetime | None = instant()
    claimed_at: datetime | None = instant()
    created_at: datetime = instant(default_now=True, index=True)
    sent_at: datetime | None = instant()
    handled_at: datetime | None = instant()
