"""Times as people read them: local to the circle, in the reader's language."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime


def day_time(instant: datetime, timezone: str, language: str) -> str:
    """'Tue 1 Dec, 18:00' / 'Jumanne 1 Des, 18:00' in the circle's local time."""
    return format_datetime(instant, "EEE d MMM, HH:mm", tzinfo=ZoneInfo(timezone), locale=language)


def weekday_time(instant: datetime, timezone: str, language: str) -> str:
    """'Tue 18:00': the weekly slot of a circle."""
    return format_datetime(instant, "EEE HH:mm", tzinfo=ZoneInfo(timezone), locale=language)


def day(value: date, language: str) -> str:
    """'1 Dec' / '1 Des'."""
    return format_date(value, "d MMM", locale=language)
