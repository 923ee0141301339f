"""The periodic tick: idempotent sweeps, each a due-query plus a claim (DESIGN "Scheduling")."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session

from bot import clock, outbox, queue
from bot.db import session_scope
from conversations import engine, prompts
from jobs import (
    digest,
    lifecycle,
    reconcile,
    reflection_prompts,
    reminder_preview,
    reminders,
    reports,
    retention,
    rsvp_summary,
    surveys,
)
from models.message import IN, OUT, QUEUED, RECEIVED, RETRY, SENDING, UNKNOWN, Message

log = logging.getLogger(__name__)

# A send has a 10 s provider timeout, and a batch records its sent rows a chunk later at most:
# a row still `sending` after this was handed to its provider by a worker that then died.
STUCK_SENDING = timedelta(minutes=5)
# Rows younger than this still have their first job in flight; leave them to it.
RECOVERY_GRACE = timedelta(seconds=30)
RECOVERY_BATCH = 5000

Sweep = Callable[[Session, datetime, Counter], None]


def run(at: str | None = None) -> dict:
    """Run every sweep as of `at` (ISO, default now; no offset means UTC); return what was
    queued, by purpose."""
    instant = clock.aware(datetime.fromisoformat(at)) if at else clock.now()
    queued: Counter = Counter()
    # A tick as of another instant writes everything (created_at, expiry, codes) as of it.
    with clock.simulated(instant) if at else nullcontext():
        for sweep in SWEEPS:
            try:
                with session_scope() as session:
                    sweep(session, instant, queued)
            except Exception:  # one broken sweep must not stop recovery and the others
                log.exception("tick sweep %s failed; it runs again next minute", sweep.__name__)
                queued[f"failed:{sweep.__name__}"] += 1
    result = {"at": instant.isoformat(), "queued": dict(queued)}
    if not at:
        remember(result)
    return result


LAST_TICK = "circlebot:tick:last"  # the console's front page shows it


def remember(result: dict) -> None:
    """Keep the last real tick's instant and what it queued, for operators to see."""
    try:
        queue.connection().set(LAST_TICK, json.dumps(result), ex=7 * 24 * 3600)
    except Exception:  # a tick that ran must not fail for want of its record
        log.warning("could not record the tick", exc_info=True)


def last() -> dict | None:
    """The last real tick: {"at", "queued"}, or None if none ran in the last week."""
    stored = queue.connection().get(LAST_TICK)
    return json.loads(stored) if stored else None


def mark_unknown(session: Session, at: datetime, queued: Counter) -> None:
    """Rows stuck in `sending` become `unknown`: reported, never resent. A row is `sending`
    only once its provider call is about to happen; rows a dead worker never reached are still
    `queued`, and recover_outbox sends them."""
    # Staleness is the machine's matter: a tick as of next week must not judge a send dead.
    stuck = session.execute(
        update(Message)
        .where(Message.status == SENDING, Message.claimed_at < clock.real() - STUCK_SENDING)
        .values(status=UNKNOWN, error="the worker stopped during the send; not resent")
        .returning(Message.id)
    ).all()
    if stuck:
        log.warning("messages left in sending, now unknown: %s", [row[0] for row in stuck])
        queued["unknown"] += len(stuck)


def recover_outbox(session: Session, at: datetime, queued: Counter) -> None:
    """Re-enqueue due sends that no live job will run (Redis flushed, a job that crashed early,
    a batch whose worker died, a retry whose time came); a live job for the row is left alone,
    so nothing piles up."""
    rows = session.execute(
        select(Message.id, Message.status, Message.attempts, Message.purpose)
        .where(
            Message.direction == OUT,
            (
                (Message.status == QUEUED) & (Message.created_at <= at - RECOVERY_GRACE)
                | (Message.status == RETRY) & (Message.next_attempt_at <= clock.real())
            ),
        )
        .order_by(Message.id)
        .limit(RECOVERY_BATCH)
    ).all()
    if not rows:
        return
    redis = queue.connection()
    with redis.pipeline() as pipe:
        for row in rows:
            pipe.hget(f"rq:job:{outbox.send_job_id(row.id, row.attempts)}", "status")
            pipe.get(outbox.BATCH_OF.format(row.id))
        answers = [(answer or b"").decode() for answer in pipe.execute()]
    states, batches = answers[0::2], answers[1::2]
    # A bulk row's first attempt belongs to a batch job: that job's state is the row's.
    batch_jobs = sorted({batch for batch in batches if batch})
    with redis.pipeline() as pipe:
        for job_id in batch_jobs:
            pipe.hget(f"rq:job:{job_id}", "status")
            pipe.get(outbox.BATCH_ALIVE.format(job_id))
        answers = pipe.execute()
    live_batches = {
        job_id
        for job_id, state, stamp in zip(batch_jobs, answers[0::2], answers[1::2], strict=True)
        if _batch_alive((state or b"").decode(), stamp)
    }
    # A due retry still waiting in the scheduler is brought forward: the claim keeps it single.
    live = {"queued", "started", "deferred"}
    orphans = [
        row
        for row, state, batch in zip(rows, states, batches, strict=True)
        if state not in live
        and not (state == "scheduled" and row.status == QUEUED)
        and not (row.status == QUEUED and batch in live_batches)
    ]
    with redis.pipeline() as pipe:
        for row in orphans:
            queue.queue(outbox.queue_for(row.purpose)).enqueue(
                queue.SEND_MESSAGE,
                row.id,
                job_id=outbox.send_job_id(row.id, row.attempts),
                result_ttl=300,
                failure_ttl=7 * 24 * 3600,
                pipeline=pipe,
            )
        pipe.execute()
    for row in orphans:
        queued[f"recovered:{row.purpose}"] += 1


def _batch_alive(state: str, stamp: bytes | None) -> bool:
    """Whether a batch job will still send its rows: waiting its turn, or running and stamping
    its heartbeat (a killed worker leaves its batch "started" in RQ for up to a quarter of an
    hour)."""
    if state in ("queued", "deferred"):
        return True
    # Staleness is the machine's matter, as for claims. A batch judged dead too soon costs only
    # work: each of its rows is still claimed, and so sent, once.
    dead_before = (clock.real() - outbox.BATCH_DEAD_AFTER).timestamp()
    return state == "started" and stamp is not None and float(stamp) >= dead_before


def recover_inbox(session: Session, at: datetime, queued: Counter) -> None:
    """Re-enqueue handling for contacts whose received messages wait longer than they should."""
    contacts = session.execute(
        select(Message.contact_id, func.count())
        .where(
            Message.direction == IN,
            Message.status == RECEIVED,
            Message.contact_id.is_not(None),
            Message.created_at <= at - RECOVERY_GRACE,
        )
        .group_by(Message.contact_id)
    ).all()
    for contact_id, count in contacts:
        queue.enqueue(queue.HIGH, queue.HANDLE_INBOUND, contact_id)
        queued["recovered:inbound"] += count


def expire_dialogs(session: Session, at: datetime, queued: Counter) -> None:
    """Close dialogs idle past their expiry."""
    expired = engine.expire_idle(session, at)
    if expired:
        queued["expired_dialogs"] += expired


# Explicit and ordered; the journeys add their sweeps (reminders, prompts, digests) here.
SWEEPS: list[Sweep] = [
    mark_unknown,
    lifecycle.sweep,
    reminder_preview.sweep,
    reminders.sweep,
    rsvp_summary.sweep,
    reflection_prompts.sweep,
    surveys.learner_sweep,
    surveys.facilitator_sweep,
    # Before the digest, so that a report sent this minute is in it.
    reports.sweep,
    digest.sweep,
    recover_outbox,
    # Before recovery: what the providers kept and our webhooks missed is stored, then handled.
    reconcile.sweep,
    retention.sweep,
    recover_inbox,
    expire_dialogs,
    prompts.nudge_idle,
    # After expiry, so that someone whose dialog just lapsed is free for the one waiting.
    prompts.start_free,
]
