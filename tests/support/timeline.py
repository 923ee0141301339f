"""Driving the bot at given instants: a tick, or a message, as of an ISO time."""

from __future__ import annotations

import threading
from datetime import datetime

import time_machine
from sqlalchemy import event

from bot.db import get_engine
from jobs import tick


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def tick_at(iso: str, run_jobs) -> dict:
    """Run one tick as of `iso`, then the jobs it queued; return what it queued."""
    with time_machine.travel(at(iso)):
        result = tick.run()
        run_jobs()
    return result["queued"]


def ticks_at_once(iso: str, count: int, run_jobs) -> None:
    """Run `count` ticks as of `iso` at the same moment on threads, then the jobs they queued."""
    start = threading.Barrier(count)

    def one_tick() -> None:
        start.wait()
        tick.run(at=iso)

    with time_machine.travel(at(iso)):
        threads = [threading.Thread(target=one_tick) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        run_jobs()


def replies_to(person, iso: str, run_jobs, *texts: str) -> list[str]:
    """Send each text as of `iso` (the clock running on); return the replies to them."""
    before = len(person.replies())
    with time_machine.travel(at(iso), tick=True):
        for text in texts:
            person.says(text)
            run_jobs()
    return person.replies()[before:]


def says_at(person, iso: str, text: str, run_jobs) -> str:
    """Send `text` as of `iso`, handle it, and return the last reply."""
    with time_machine.travel(at(iso)):
        person.says(text)
        run_jobs()
    return person.last_reply()


def tick_queries(iso: str) -> int:
    """Run one tick as of `iso` and return how many SQL statements it ran."""
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(get_engine(), "before_cursor_execute", listener)
    try:
        tick.run(at=iso)
    finally:
        event.remove(get_engine(), "before_cursor_execute", listener)
    return len(statements)


def sweep_queries(iso: str, *sweeps) -> int:
    """Run these tick sweeps as of `iso`, each in its own transaction as tick does, and return
    how many SQL statements they ran."""
    from collections import Counter

    from bot.db import session_scope

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(get_engine(), "before_cursor_execute", listener)
    try:
        for sweep in sweeps:
            with session_scope() as session:
                sweep(session, at(iso), Counter())
    finally:
        event.remove(get_engine(), "before_cursor_execute", listener)
    return len(statements)
