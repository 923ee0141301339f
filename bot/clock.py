"""The one clock: everything that needs the time of day asks here."""

from datetime import UTC, datetime


def now() -> datetime:
    """Return the current instant, timezone-aware in UTC."""
    return datetime.now(UTC)
