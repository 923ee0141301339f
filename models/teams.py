"""Teams, their members, their linked group chats and one-time link codes."""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from bot.clock import now
from models.codes import unique_code
from models.columns import instant

ORGANIZER = "organizer"
FACILITATOR = "facilitator"
LINK_CODE_LIFETIME = timedelta(hours=24)


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
    # The UTC instant of the next weekly digest; tick claims it by moving it a week on.
    digest_due_at: datetime | None = instant(index=True)
    invite_code: str = Field(max_length=16, unique=True)
    open_signup: bool = True
    # The simulator's own team (bot/sandbox.py): made-up people, circles no real person sees.
    sandbox: bool = False
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
    # A group the console's simulator made up, playing in this team: its messages go to the
    # simulator, never to Telegram.
    simulator_team_id: int | None = Field(default=None, foreign_key="team.id", index=True)


class LinkCode(SQLModel, table=True):
    """A one-time code, valid 24 hours, that links a group chat to a team."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    code: str = Field(max_length=16, unique=True)
    expires_at: datetime = instant(nullable=False)
    used_at: datetime | None = instant()


def team_slug(session: Session, name: str) -> str:
    """A URL-safe name for the team, numbered when taken: nakuru, nakuru-2."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48] or "team"
    slug, n = base, 1
    while session.exec(select(Team.id).where(Team.slug == slug)).first() is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_team(
    session: Session,
    name: str,
    timezone: str,
    organizer_id: int,
    *,
    language: str = "en",
    digest_weekday: int = 0,
    digest_hour: int = 8,
    digest_minute: int = 0,
) -> Team:
    """Create a team with its first organizer and its facilitator invite code."""
    team = Team(
        name=name,
        slug=team_slug(session, name),
        timezone=timezone,
        language=language,
        digest_weekday=digest_weekday,
        digest_hour=digest_hour,
        digest_minute=digest_minute,
        invite_code=unique_code(session, Team.invite_code, 6),
    )
    team.digest_due_at = next_digest_at(team, now())
    session.add(team)
    session.flush()
    session.add(TeamMember(team_id=team.id, person_id=organizer_id, role=ORGANIZER))
    return team


def next_digest_at(team: Team, after: datetime) -> datetime:
    """The first digest instant strictly after `after`: the team's weekday and local time,
    in its timezone, so that 08:00 stays 08:00 across daylight saving changes."""
    zone = ZoneInfo(team.timezone)
    local = after.astimezone(zone)
    day = local.date() + timedelta(days=(team.digest_weekday - local.weekday()) % 7)
    slot = time(team.digest_hour, team.digest_minute)
    while True:
        due = datetime.combine(day, slot, tzinfo=zone).astimezone(UTC)
        if due > after:
            return due
        day += timedelta(days=7)


def create_link_code(session: Session, team_id: int, at: datetime) -> LinkCode:
    """A one-time code, valid 24 hours from `at`, that links a group chat to the team."""
    link = LinkCode(
        team_id=team_id,
        code=unique_code(session, LinkCode.code, 8),
        expires_at=at + LINK_CODE_LIFETIME,
    )
    session.add(link)
    session.flush()
    return link


def add_member(session: Session, team_id: int, person_id: int, role: str) -> None:
    """Make the person a member of the team, unless they already are (in any role)."""
    exists = session.exec(
        select(TeamMember.id).where(
            TeamMember.team_id == team_id, TeamMember.person_id == person_id
        )
    ).first()
    if exists is None:
        session.add(TeamMember(team_id=team_id, person_id=person_id, role=role))
