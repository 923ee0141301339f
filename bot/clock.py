"""The one clock: everything that needs the time asks here.

Three kinds of time, never mixed in one decision:
- `now()` is the product's instant: when a reminder is due, a dialog lapses, a code expires, a
  person may try again. `simulated(at)` sets it for a tick or a chat run as of another instant
  (`flask tick --at`, `flask chat --at`); tests move it with time-machine.
- `real()` is the machine's instant, never simulated: whether a claimed send is stale, when a
  provider may be asked again. A simulated tick must not judge a worker's send dead.
- `elapsed()` counts seconds on a monotonic clock: how long a batch has run, how long to wait.
Provider sending rates are paced on the Redis server's own clock inside the throttle's script
(`bot/throttle.py`): one clock that every worker on every machine shares and that no simulated
instant and no fake clock in a test can move.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class _Simulation:
    at: datetime
    started: float  # elapsed() when the simulation began
    running: bool


_simulation: ContextVar[_Simulation | None] = ContextVar("circlebot_simulation", default=None)


def real() -> datetime:
    """Return the machine's current instant, timezone-aware in UTC, whatever is simulated."""
    return datetime.now(UTC)


def elapsed() -> float:
    """Return seconds on a monotonic clock, for durations within one process."""
    return time.monotonic()


def now() -> datetime:
    """Return the product's current instant, timezone-aware in UTC: the simulated one if set."""
    simulation = _simulation.get()
    if simulation is None:
        return real()
    if not simulation.running:
        return simulation.at
    return simulation.at + timedelta(seconds=elapsed() - simulation.started)


def is_simulated() -> bool:
    """Whether `now()` is a simulated instant here."""
    return _simulation.get() is not None


def aware(instant: datetime) -> datetime:
    """Read a naive instant as UTC; convert an aware one to UTC."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


@contextmanager
def simulated(at: datetime, *, running: bool = False) -> Iterator[None]:
    """Make `now()` return `at` inside the block (running on from it when `running`)."""
    token = _simulation.set(_Simulation(aware(at), elapsed(), running))
    try:
        yield
    finally:
        _simulation.reset(token)
