"""The console's front page: the outbox by status, the queues, the last tick and the workers."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import render_template
from rq import Queue, Worker
from sqlalchemy import func
from sqlmodel import select

from bot import queue
from bot.clock import real
from bot.db import session_scope
from console import console
from console.auth import signed_in
from console.scope import messages_visible
from jobs import tick
from models.message import (
    DELIVERED,
    FAILED,
    OUT,
    QUEUED,
    RETRY,
    SENDING,
    SENT,
    SUPPRESSED,
    UNDELIVERED,
    UNKNOWN,
    Message,
)

log = logging.getLogger(__name__)

# The outbox's states in the order a message goes through them, then the ones that went wrong.
STATUSES = (QUEUED, RETRY, SENDING, SENT, DELIVERED, FAILED, UNDELIVERED, UNKNOWN, SUPPRESSED)
TROUBLE = (FAILED, UNDELIVERED, UNKNOWN)


def outbox_counts() -> dict[str, int]:
    """Outbound messages the operator may see, by status: one query."""
    with session_scope() as db:
        rows = db.exec(
            select(Message.status, func.count())
            .where(Message.direction == OUT, messages_visible(db))
            .group_by(Message.status)
        ).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: count for status, count in rows})
    return counts


def queues() -> dict:
    """Jobs waiting per queue, scheduled and failed, and the workers with their heartbeats."""
    connection = queue.connection()
    # New messages signalled by the webhooks, ahead of every queue (bot/worker.py).
    waiting = [{"name": "inbox", "waiting": connection.llen(queue.INBOX), "scheduled": 0,
                "failed": 0}]  # fmt: skip
    for name in queue.QUEUES:
        jobs = Queue(name, connection=connection)
        waiting.append(
            {"name": name, "waiting": jobs.count,
             "scheduled": jobs.scheduled_job_registry.count,
             "failed": jobs.failed_job_registry.count}
        )  # fmt: skip
    workers = [
        {"name": worker.name, "state": worker.get_state(),
         "queues": ", ".join(worker.queue_names()),
         "heartbeat": worker.last_heartbeat, "ago": _seconds_since(worker.last_heartbeat)}
        for worker in Worker.all(connection=connection)
    ]  # fmt: skip
    return {"queues": waiting, "workers": sorted(workers, key=lambda w: w["name"])}


def _seconds_since(instant: datetime | None) -> int | None:
    # Heartbeats are the machine's time, as the workers stamp them: never a simulated one.
    if instant is None:
        return None
    return max(0, int((real() - instant.astimezone(real().tzinfo)).total_seconds()))


@console.get("/")
@signed_in
def home():
    """Counts per status, with the troubles first; the queues, the last tick and the workers."""
    counts = outbox_counts()
    try:
        health, last_tick = queues(), tick.last()
    except Exception:  # Redis down: the page still shows the outbox, and says so
        log.warning("console: Redis did not answer", exc_info=True)
        health, last_tick = None, None
    return render_template(
        "console/home.html", active="home", counts=counts, trouble=TROUBLE,
        health=health, last_tick=last_tick, tick_ago=_tick_ago(last_tick),
    )  # fmt: skip


def _tick_ago(last_tick: dict | None) -> int | None:
    if not last_tick:
        return None
    return _seconds_since(datetime.fromisoformat(last_tick["at"]))
