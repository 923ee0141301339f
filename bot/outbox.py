"""The outbox: outbound rows written with the effects that caused them, send jobs after commit."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from functools import cache

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from bot import queue
from bot.channels.base import SMS
from bot.clock import now
from bot.sms import to_gsm7
from models.message import OUT, QUEUED, Message
from models.people import Contact
from models.teams import GroupChat

log = logging.getLogger(__name__)

STOP_CONFIRMATION = "stop_confirm"  # the one message a contact gets as it stops
# A session whose info holds a list under this key collects its replies' ids there after commit
# instead of enqueueing them: handle_inbound sends them at once, saving a trip through Redis.
SEND_INLINE = "send_inline"
# With it, a dict under this key gets each such reply's row with its contact and group by id, so
# that the sender need not read again what the handling has in hand.
INLINE_ROWS = "inline_rows"


# Replies to a person go ahead of bulk sends; this tells recovery which queue a row belongs on.
REPLY_PURPOSES = frozenset({"reply", STOP_CONFIRMATION})


def queue_for(purpose: str) -> str:
    """The queue a message of this purpose is sent from."""
    return queue.HIGH if purpose in REPLY_PURPOSES else queue.LOW


def send_job_id(message_id: int, attempts: int) -> str:
    """The RQ job id of one send attempt, so recovery can tell whether it is still queued."""
    return f"send-{message_id}-{attempts}"


# Bulk rows go to the workers this many to a job (jobs.send_batch): a job's own cost in Redis
# is then shared by many messages. Each row's batch is noted under BATCH_OF for recovery.
BATCH_SIZE = 100
BATCH_OF = "circlebot:batch-of:{}"
BATCH_NOTE_SECONDS = 2 * 24 * 3600
BATCH_JOB_TIMEOUT = 300  # RQ's limit for a batch job: a batch yields after seconds anyway
# A running batch stamps the machine's instant under BATCH_ALIVE every BATCH_BEAT_SECONDS. A
# batch whose worker was killed stays "started" in RQ for up to a quarter of an hour (until its
# cleanup), so recovery judges a started batch dead once its stamp is BATCH_DEAD_AFTER old.
# Between two stamps a batch waits at most a beat plus one provider call (10 s timeout) or one
# rate wait (30 s).
BATCH_ALIVE = "circlebot:batch-alive:{}"
BATCH_BEAT_SECONDS = 15
BATCH_DEAD_AFTER = timedelta(seconds=60)


def enqueue_batches(message_ids: list[int], pipe=None, *, at_front: bool = False) -> None:
    """Put bulk rows on the low queue, BATCH_SIZE to a job, noting each row's job for recovery;
    `at_front`: ahead of the queue's other jobs."""
    own = pipe is None
    pipe = queue.connection().pipeline() if own else pipe
    for start in range(0, len(message_ids), BATCH_SIZE):
        batch = message_ids[start : start + BATCH_SIZE]
        # A random tail tells a batch handed on from the one that handed it on.
        job_id = f"send-batch-{batch[0]}-{len(batch)}-{secrets.token_hex(6)}"
        queue.queue(queue.LOW).enqueue(
            queue.SEND_BATCH, batch, job_id=job_id, job_timeout=BATCH_JOB_TIMEOUT,
            result_ttl=300, failure_ttl=7 * 24 * 3600, pipeline=pipe, at_front=at_front,
        )  # fmt: skip
        for message_id in batch:
            pipe.set(BATCH_OF.format(message_id), job_id, ex=BATCH_NOTE_SECONDS)
    if own:
        pipe.execute()


def enqueue_batches_by_sender(groups: list[list[int]]) -> None:
    """Put each sender's rows in batches of their own, in one round trip to Redis, ahead of the
    queue: they were due before the batches still behind it."""
    with queue.connection().pipeline() as pipe:
        for message_ids in groups:
            enqueue_batches(message_ids, pipe, at_front=True)
        pipe.execute()


def sms_body(body: str) -> str:
    """The text as an SMS goes: look-alike quotes, dashes and spaces, even in names and in what
    people wrote, in plain GSM-7, so that a curly apostrophe does not cut a segment to 70."""
    return to_gsm7(body)


def _pending(session: Session) -> list[tuple[str, int]]:
    return session.info.setdefault("outbox", [])


def to_contact(
    session: Session,
    contact: Contact,
    body: str,
    *,
    purpose: str = "reply",
    dedupe_key: str | None = None,
    queue_name: str = queue.HIGH,
    media: list | None = None,
    buttons: dict | None = None,
) -> Message:
    """Queue a message to a contact (`buttons`: answers to tap); it is sent once the transaction
    commits."""
    message = Message(
        contact_id=contact.id, channel=contact.channel, media=media or [], buttons=buttons
    )
    return _queue(session, message, body, purpose, dedupe_key, queue_name, contact=contact)


def to_group(
    session: Session,
    group: GroupChat,
    body: str,
    *,
    purpose: str = "reply",
    dedupe_key: str | None = None,
    queue_name: str = queue.HIGH,
    media: list | None = None,
    thread_id: int | None = None,
) -> Message:
    """Queue a message to a group chat (`media` may hold a chart to draw; `thread_id` a forum
    topic); it is sent once the transaction commits."""
    message = Message(
        group_chat_id=group.id, channel=group.channel, media=media or [], thread_id=thread_id
    )
    return _queue(session, message, body, purpose, dedupe_key, queue_name, group=group)


def _queue(
    session: Session,
    message: Message,
    body: str,
    purpose: str,
    dedupe_key: str | None,
    queue_name: str,
    *,
    contact: Contact | None = None,
    group: GroupChat | None = None,
) -> Message:
    message.direction, message.status = OUT, QUEUED
    body = sms_body(body) if message.channel == SMS else body
    message.body, message.purpose, message.dedupe_key = body, purpose, dedupe_key
    session.add(message)
    session.flush()
    _pending(session).append((queue_name, message.id))
    rows = session.info.get(INLINE_ROWS)
    if rows is not None and queue_name == queue.HIGH:
        rows[message.id] = (message, contact, group)
    return message


def queue_once(session: Session, rows: list[dict], *, queue_name: str = queue.LOW) -> list[int]:
    """Insert many outbound rows at once, skipping any whose dedupe key already exists.

    Sweeps call this so that a tick running twice, or two ticks at once, queue nothing twice.
    Each row is a dict of Message columns; returns the ids actually inserted.
    """
    if not rows:
        return []
    at = now()
    values = [
        {
            "direction": OUT,
            "status": QUEUED,
            "created_at": at,
            "attempts": 0,
            "media": [],
            "buttons": None,
        }  # fmt: skip
        | row
        | ({"body": sms_body(row["body"])} if row.get("channel") == SMS else {})
        for row in rows
    ]
    # One statement compiled once, run for every row (executemany, which SQLAlchemy sends in
    # pages of many rows): a VALUES list of thousands would be compiled anew each time.
    statement = _insert_once(session.get_bind().dialect.name)
    ids = list(session.connection().execute(statement, _uniform(values)).scalars())
    _pending(session).extend((queue_name, message_id) for message_id in ids)
    return ids


INSERT_PAGE = 5000  # rows a statement: about a dozen values each, well under 65,535 parameters


@cache
def _insert_once(dialect: str):
    """INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, built once per dialect."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(Message.__table__)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Message.__table__.c.id)
        .execution_options(insertmanyvalues_page_size=INSERT_PAGE)
    )


def _uniform(values: list[dict]) -> list[dict]:
    """The rows with the same columns each, as one executemany needs: a column some rows leave
    out takes its default in them."""
    columns = set().union(*values)
    filled = {}
    for name in columns:
        default = Message.__table__.c[name].default
        filled[name] = default.arg if default is not None and default.is_scalar else None
    return [filled | row for row in values]


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    """Enqueue the send jobs of rows that are now committed; tick recovers any lost here."""
    pending = session.info.pop("outbox", None)
    if not pending:
        return
    inline = session.info.get(SEND_INLINE)
    if inline is not None:
        inline.extend(message_id for name, message_id in pending if name == queue.HIGH)
        pending = [(name, message_id) for name, message_id in pending if name != queue.HIGH]
        if not pending:
            return
    single = [(name, message_id) for name, message_id in pending if name != queue.LOW]
    bulk = [message_id for name, message_id in pending if name == queue.LOW]
    try:
        with queue.connection().pipeline() as pipe:
            for queue_name, message_id in single:
                queue.queue(queue_name).enqueue(
                    queue.SEND_MESSAGE,
                    message_id,
                    job_id=send_job_id(message_id, 0),
                    result_ttl=300,
                    failure_ttl=7 * 24 * 3600,
                    pipeline=pipe,
                )
            enqueue_batches(bulk, pipe)
            pipe.execute()
    except Exception:  # Redis down: the rows are safe in the database and tick re-enqueues them
        log.exception("could not enqueue %d sends; tick will", len(pending))


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("outbox", None)
