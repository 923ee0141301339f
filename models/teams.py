"""Teams, their members, their linked group chats and one-time link codes."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.columns import instant

ORGANIZER = "organizer"
FACILITATOR = "facilitator"


class Team(SQLModel, table=True):
    """A library network or city that runs circles together."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    slug: str = Field(max_length=64, unique=True)
    timezone: str = Field(max_length=64)
    language: str = Field(default="en", max_length=8)
    digest_weekday: int = 0  # Monday, as in datetime.weekday()
    digest_hour: int = 8
    digest_minute: int = 0
    invite_code: str = Field(max_length=16, unique=True)
    open_signup: bool = True
    created_at: datetime = instant(default_now=True)


class TeamMember(SQLModel, table=True):
    """A person's role in a team: organizer or facilitator."""

    __table_args__ = (UniqueConstraint("team_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=16)


class GroupChat(SQLModel, table=True):
    """A group chat the bot is in; linked to a team, it gets the digest."""

    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    # Telegram chat ids exceed 32 bits and are negative for groups: kept as text.
    chat_id: str = Field(max_length=32)
    title: str | None = Field(default=None, max_length=255)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    linked_at: datetime | None = instant()
    linked_by: int | None = Field(default=None, foreign_key="person.id")


class LinkCode(SQLModel, table=True):
    """A one-time code, valid 24 hours, that links a group chat to a team."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    code: str = Field(max_length=16, unique=True)
    expires_at: datetime = instant(nullable=False)
    used_at: datetime | None = instant()
