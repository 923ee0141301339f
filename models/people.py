"""People and the channel addresses they reach us from."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.columns import instant

CHANNELS = ("sms", "whatsapp", "telegram")


class Person(SQLModel, table=True):
    """Someone we talk to; roles come from signups, facilitations and team memberships."""

    id: int | None = Field(default=None, primary_key=True)
    name: str | None = Field(default=None, max_length=100)
    language: str = Field(default="en", max_length=8)
    created_at: datetime = instant(default_now=True)
    anonymized_at: datetime | None = instant()


class Contact(SQLModel, table=True):
    """One channel address of a person, e.g. `sms:+254712345678`; it is their identity."""

    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=64)
    opted_out_at: datetime | None = instant()
    last_inbound_at: datetime | None = instant()
    # The provider (twilio, africastalking) their last direct message came through: an SMS
    # reply goes back through it, as the person answers the number they texted.
    last_provider: str | None = Field(default=None, max_length=16)
    # Africa's Talking's linkId on that message, echoed by our reply to it (jobs.send_message).
    last_link_id: str | None = Field(default=None, max_length=64)

    @property
    def handle(self) -> str:
        """The written form operators use: `sms:+15550001`."""
        return f"{self.channel}:{self.address}"
