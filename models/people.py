"""People and the channel addresses they reach us from."""

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.codes import new_code
from models.columns import instant

CHANNELS = ("sms", "whatsapp", "telegram")
CONNECT_CODE_LIFETIME = timedelta(minutes=15)
CONNECT_CODE_LENGTH = 6  # 27**6, some 387 million codes, against a few tries per contact


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
    # A WhatsApp user who hides their number writes from a business-scoped id ("US." and up to
    # 128 letters and digits, "US.ENT." for a parent one), not an E.164 number.
    address: str = Field(max_length=160)
    opted_out_at: datetime | None = instant()
    last_inbound_at: datetime | None = instant()
    # The provider (twilio, africastalking) their last direct message came through: an SMS
    # reply goes back through it, as the person answers the number they texted.
    last_provider: str | None = Field(default=None, max_length=16)
    # Africa's Talking's linkId on that message, echoed by our reply to it (jobs.send_message).
    last_link_id: str | None = Field(default=None, max_length=64)
    # A made-up person of the console's simulator, playing in this team (its sandbox, or a
    # real team an operator chose): their messages go to the simulator, never to a phone.
    simulator_team_id: int | None = Field(default=None, foreign_key="team.id", index=True)

    @property
    def handle(self) -> str:
        """The written form operators use: `sms:+15550001`."""
        return f"{self.channel}:{self.address}"


class ConnectCode(SQLModel, table=True):
    """A one-time code that attaches a new contact to the person who asked for it (CONNECT)."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    # Where it was asked for: the code is told there, and only there.
    contact_id: int = Field(foreign_key="contact.id")
    # A hash, not the code: a database dump must not let anyone attach themselves to a person.
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = instant(default_now=True)
    expires_at: datetime = instant(nullable=False)
    used_at: datetime | None = instant()
    used_by_contact_id: int | None = Field(default=None, foreign_key="contact.id")

    @staticmethod
    def digest(code: str) -> str:
        """The stored form of a code: sha256 of it in capitals, as people type it either way."""
        return hashlib.sha256(code.strip().upper().encode()).hexdigest()

    @classmethod
    def issue(cls, person_id: int, contact_id: int, at: datetime) -> tuple["ConnectCode", str]:
        """A new code for this person, told on `contact_id`: the row to add, and the code."""
        code = new_code(CONNECT_CODE_LENGTH)
        row = cls(
            person_id=person_id, contact_id=contact_id, code_hash=cls.digest(code),
            created_at=at, expires_at=at + CONNECT_CODE_LIFETIME,
        )  # fmt: skip
        return row, code
