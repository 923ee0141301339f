"""Operators: the people who sign in to the web console, and the teams each may see."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.columns import instant

SIGN_IN_LINK_LIFETIME = timedelta(minutes=30)


class Operator(SQLModel, table=True):
    """Someone who runs the bot for one or more teams; `all_teams` sees every team."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    # An argon2 hash (console/auth.py), or none for an operator who signs in by link only.
    password_hash: str | None = Field(default=None, max_length=255)
    all_teams: bool = False
    language: str = Field(default="en", max_length=8)
    created_at: datetime = instant(default_now=True)
    last_sign_in_at: datetime | None = instant()


class OperatorTeam(SQLModel, table=True):
    """A team an operator who is not for all teams may see."""

    __table_args__ = (UniqueConstraint("operator_id", "team_id"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operator.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)


class SignInLink(SQLModel, table=True):
    """A one-time sign-in link, stored as the hash of its token."""

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operator.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = instant(default_now=True)
    expires_at: datetime = instant(nullable=False)
    used_at: datetime | None = instant()


def new_link_token() -> tuple[str, str]:
    """A fresh token for a sign-in link and the hash we keep of it."""
    token = secrets.token_urlsafe(24)
    return token, link_token_hash(token)


def link_token_hash(token: str) -> str:
    """What we store of a link's token: a database dump must not sign anyone in."""
    return hashlib.sha256(token.encode()).hexdigest()
