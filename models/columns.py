"""Column helpers shared by the tables."""

from datetime import datetime

from sqlmodel import Field

from bot.clock import now
from bot.db import UTCDateTime


def instant(*, nullable: bool = True, index: bool = False, default_now: bool = False) -> datetime:
    """A timezone-aware UTC datetime column."""
    if default_now:
        return Field(default_factory=now, sa_type=UTCDateTime, nullable=False, index=index)
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)
