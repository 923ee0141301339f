"""Send bulk messages (reminders, digests, announcements) many to a job: the rows are read once,
each is claimed just before its provider call, and the sent ones are recorded together.

The guarantees are send_message's: a row is sent only by whoever claims it, never after its
contact stopped, never twice. A row is `sending` only from just before its call, so a worker
that dies mid-chunk leaves the rows it never reached `queued`, and only a row whose call may
have gone out becomes `unknown`. A running batch stamps its heartbeat in Redis, so that
recovery tells a dead batch from a slow one in a minute or two (jobs.tick.recover_outbox).
A batch also yields the worker after a few seconds, so that replies never wait behind it.
"""

from __future__ import annotations

import logging
from collections import Counter

from rq import get_current_job
from sqlalchemy import Connection, String, bindparam, case, exists, func, or_, select, update

from bot import clock, outbox, queue, throttle
from bot.clock import now
from bot.config import get_settings
from bot.db import get_engine, session_scope
from jobs import send_message
from models.message import OUT, SENDABLE, SENDING, SENT, SUPPRESSED, Message
from models.people import Contact
from models.teams import GroupChat

log = logging.getLogger(__name__)

MOST_PER_CHUNK = 10  # rows sent between two records of what was sent, at most
CHUNK_SECONDS = 5  # a chunk is as many sends as the slowest sender's rate allows in this time
BATCH_SECONDS = 10  # then the rest of the batch goes back on the queue, behind any replies


class Heartbeat:
    """The running batch job's sign of life for recovery: the machine's instant in Redis."""

    def __init__(self, job_id: str | None) -> None:
        self.key = outbox.BATCH_ALIVE.format(job_id) if job_id else None
        self.stamped: float | None = None

    def beat(self) -> None:
        """Stamp the batch alive, unless it was stamped less than a beat ago."""
        if self.key is None:
            return  # run outside RQ: no job for recovery to judge
        if self.stamped is not None and clock.elapsed() - self.stamped < outbox.BATCH_BEAT_SECONDS:
            return
        # Judged on the machine's clock, like claims; the key outlives any run of the job.
        queue.connection().set(self.key, clock.real().timestamp(), ex=outbox.BATCH_JOB_TIMEOUT)
        self.stamped = clock.elapsed()


def run(message_ids: list[int]) -> None:
    """Send each still-due message of the batch once, in id order, for BATCH_SECONDS."""
    settings = get_settings()
    job = get_current_job()
    heartbeat = Heartbeat(job.id if job else None)
    heartbeat.beat()
    with session_scope() as session:
        rows = session.execute(
            select(Message, Contact, GroupChat)
            .outerjoin(Contact, Contact.id == Message.contact_id)
            .outerjoin(GroupChat, GroupChat.id == Message.group_chat_id)
            .where(Message.id.in_(message_ids), Message.direction == OUT,
                   Message.status.in_(SENDABLE))
            .order_by(Message.id)
        ).all()  # fmt: skip
        session.expunge_all()
    if not rows:
        return
    limits = {m.id: send_message.buckets(m, c, settings, g) for m, c, g in rows}
    # By sender (a row's first bucket): a Telegram group's own rate is paced within its batch.
    senders: dict[str, list[int]] = {}
    for message, _, _ in rows:
        senders.setdefault(limits[message.id][0][0], []).append(message.id)
    if len(senders) > 1:
        # One sender a batch: a chunk waits for its slowest rate, and a long code's 1/s would
        # hold back Telegram's 30 and WhatsApp's 80 sent beside it.
        outbox.enqueue_batches_by_sender(list(senders.values()))
        return
    slowest = min(rate for row_limits in limits.values() for _, rate in row_limits)
    size = max(1, min(MOST_PER_CHUNK, int(slowest * CHUNK_SECONDS)))
    deadline = clock.elapsed() + BATCH_SECONDS
    # One connection for the claims, each committed alone: a claim a row costs little then.
    with get_engine().connect() as claims:
        for start in range(0, len(rows), size):
            if start and clock.elapsed() > deadline:  # a chunk at least, so the batch moves on
                outbox.enqueue_batches([m.id for m, _, _ in rows[start:]])
                return
            chunk = rows[start : start + size]
            if not _send_chunk(chunk, settings, heartbeat, claims, limits):
                return  # a long backlog on a sender: the rest stay due and tick re-enqueues them


def send_rows(rows: list, settings) -> None:
    """Send rows already read with their contact and group (the replies a handling just wrote)
    as a batch sends a chunk: rate, claim, call, record."""
    with get_engine().connect() as claims:
        _send_chunk(rows, settings, Heartbeat(None), claims)


def _send_chunk(
    chunk: list, settings, heartbeat: Heartbeat, claims: Connection, limits: dict | None = None
) -> bool:
    """Take the chunk's rate, claim and send its rows one by one, and record what was sent;
    False when the rate would keep us waiting too long. `limits`: each row's, if known."""
    # Before the claims: a contact who stops while we wait for the rate is still caught.
    wanted = Counter(
        limit
        for m, c, g in chunk
        for limit in (limits[m.id] if limits else send_message.buckets(m, c, settings, g))
    )
    for (bucket, rate), count in wanted.items():
        heartbeat.beat()
        if not throttle.take(bucket, rate, count=count):
            return False
    unclaimed: list[int] = []
    sent: list[tuple[int, str, str | None]] = []
    try:
        for message, contact, group in chunk:
            heartbeat.beat()
            sender, prepared, problem = _prepare(message, contact, group, settings)
            if not _claim(claims, message.id):
                unclaimed.append(message.id)  # claimed elsewhere, not due, or its contact stopped
                continue
            if problem:
                send_message.fail(message.id, problem)
                continue
            result = sender.send(prepared, settings)
            if result.outcome == "sent":
                sent.append((message.id, result.provider_id, prepared.template_sid))
            else:
                send_message.record(message.id, result, settings)
    finally:
        if sent:
            _record_sent(claims, sent)
    _suppress_stopped(unclaimed)
    return True


def _prepare(message: Message, contact, group, settings):
    """Build what the row's channel is handed, before the claim: (sender, outbound, problem),
    where a problem says why the row cannot be sent."""
    try:
        prepared, problem = send_message.outbound(message, contact, group, settings)
    except Exception as error:  # one bad row (a chart that cannot be drawn) must not stop the rest
        log.exception("message %s could not be prepared", message.id)
        return None, None, f"send error: {error!r}"
    sender, unconfigured = send_message.sender_of(message, contact, settings, group)
    return sender, prepared, problem or unconfigured


def _stopped():
    return exists().where(Contact.id == Message.contact_id, Contact.opted_out_at.is_not(None))


# Built once: a batch runs it for every row, and building it would cost more than running it.
_CLAIM = (
    update(Message)
    .where(Message.id == bindparam("message_id"), Message.status.in_(SENDABLE),
           or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= bindparam("at")),
           or_(Message.purpose == outbox.STOP_CONFIRMATION, ~_stopped()))
    .values(status=SENDING, claimed_at=bindparam("at"), attempts=Message.attempts + 1)
)  # fmt: skip


def _claim(claims: Connection, message_id: int) -> bool:
    """Move the row to `sending` if it is still due and its contact has not stopped: the hand-off
    to its provider, committed just before the call, so a row never handed over stays `queued`."""
    # A claim's age tells a dead worker: judged on the machine's clock.
    claimed = claims.execute(_CLAIM, {"message_id": message_id, "at": clock.real()})
    claims.commit()
    return claimed.rowcount == 1


def _suppress_stopped(message_ids: list[int]) -> None:
    """Settle the rows left unclaimed because their contact stopped: they never go."""
    if not message_ids:
        return
    with session_scope() as session:
        session.execute(
            update(Message)
            .where(Message.id.in_(message_ids), Message.status.in_(SENDABLE),
                   Message.purpose != outbox.STOP_CONFIRMATION, _stopped())
            .values(status=SUPPRESSED, error="the contact stopped messages")
            .execution_options(synchronize_session=False)
        )  # fmt: skip


# Built once, run for many rows at a time (executemany). A delivery callback that came first
# keeps its status and error; a row without a template keeps the one it has.
_FIRST_RECORD = Message.status == SENDING
_RECORD_SENT = (
    update(Message)
    .where(Message.id == bindparam("message_id"))
    .values(
        provider_id=bindparam("provider_id"),
        template=func.coalesce(bindparam("template", type_=String), Message.template),
        sent_at=bindparam("sent_at"),
        error=case((_FIRST_RECORD, None), else_=Message.error),
        status=case((_FIRST_RECORD, SENT), else_=Message.status),
    )
)


def _record_sent(claims: Connection, sent: list[tuple[int, str, str | None]]) -> None:
    """Write the sent rows in one round of statements, committed together."""
    at = now()
    claims.execute(
        _RECORD_SENT,
        [
            {"message_id": message_id, "provider_id": provider_id, "template": template,
             "sent_at": at}
            for message_id, provider_id, template in sent
        ],
    )  # fmt: skip
    claims.commit()
