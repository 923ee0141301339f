"""Send bulk messages (reminders, digests, announcements) many to a job: the rows are read once,
each is claimed just before it goes, a few at a time, and the sent ones are recorded together.

The guarantees are send_message's: a row is sent only by whoever claims it, never after its
contact stopped, and a worker that dies mid-chunk leaves its claimed rows to become `unknown`.
A batch also yields the worker after a few seconds, so that replies never wait behind it.
"""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy import case, exists, or_, select, update

from bot import clock, outbox, throttle
from bot.channels import sender_for
from bot.clock import now
from bot.config import get_settings
from bot.db import session_scope
from jobs import send_message
from models.message import OUT, QUEUED, SENDABLE, SENDING, SENT, SUPPRESSED, Message
from models.people import Contact
from models.teams import GroupChat

log = logging.getLogger(__name__)

MOST_PER_CLAIM = 10  # rows claimed in one statement, at most
CHUNK_SECONDS = 5  # a chunk is as many sends as the slowest sender's rate allows in this time
BATCH_SECONDS = 10  # then the rest of the batch goes back on the queue, behind any replies


def run(message_ids: list[int]) -> None:
    """Send each still-due message of the batch once, in id order, for BATCH_SECONDS."""
    settings = get_settings()
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
    slowest = min(rate for m, _, _ in rows for _, rate in send_message.buckets(m, settings))
    size = max(1, min(MOST_PER_CLAIM, int(slowest * CHUNK_SECONDS)))
    deadline = clock.elapsed() + BATCH_SECONDS
    for start in range(0, len(rows), size):
        if start and clock.elapsed() > deadline:  # a chunk at least, so the batch moves on
            outbox.enqueue_batches([m.id for m, _, _ in rows[start:]])
            return
        if not _send_chunk(rows[start : start + size], settings):
            return  # a long backlog on a sender: the rest stay due and tick re-enqueues them


def _send_chunk(chunk: list, settings) -> bool:
    """Take the chunk's rate, claim its rows, send them and record what was sent; False when
    the rate would keep us waiting too long."""
    # Before the claim: a contact who stops while we wait for the rate is still caught.
    wanted = Counter(limit for m, _, _ in chunk for limit in send_message.buckets(m, settings))
    if not all(throttle.take(b, rate, count=n) for (b, rate), n in wanted.items()):
        return False
    claimed = _claim([m.id for m, _, _ in chunk])
    _suppress_stopped([m.id for m, _, _ in chunk if m.id not in claimed])
    unsent = set(claimed)
    sent: list[tuple[int, str, str | None]] = []
    try:
        for message, contact, group in chunk:
            if message.id not in claimed:
                continue  # claimed elsewhere, not due, or suppressed just now
            # From here on it may reach the provider: never given back, at worst `unknown`.
            unsent.discard(message.id)
            try:
                outcome = _send(message, contact, group, settings)
            except Exception as error:  # one bad row must not strand the others claimed
                log.exception("message %s could not be prepared", message.id)
                send_message.fail(message.id, f"send error: {error!r}")
                outcome = None
            if outcome is None:
                continue
            result, template = outcome
            if result.outcome == "sent":
                sent.append((message.id, result.provider_id, template))
            else:
                send_message.record(message.id, result, settings)
    except BaseException:
        # Give back what was claimed and not handed to a provider: it was never sent.
        _release(list(unsent))
        raise
    finally:
        if sent:
            _record_sent(sent)
    return True


def _send(message: Message, contact, group, settings):
    """Hand one claimed row to its channel: (result, template used), or None when it cannot
    be sent (recorded as failed, with the reason)."""
    sender = sender_for(message.channel, settings)
    outbound, problem = send_message.outbound(message, contact, group, settings)
    if sender is None or problem:
        send_message.fail(message.id, problem or f"{message.channel} is not configured")
        return None
    return sender.send(outbound, settings), outbound.template_sid


def _stopped():
    return exists().where(Contact.id == Message.contact_id, Contact.opted_out_at.is_not(None))


def _claim(message_ids: list[int]) -> set[int]:
    """Move the rows still due, whose contacts have not stopped, to `sending`."""
    at = clock.real()  # a claim's age tells a dead worker: judged on the machine's clock
    with session_scope() as session:
        return set(
            session.execute(
                update(Message)
                .where(Message.id.in_(message_ids), Message.status.in_(SENDABLE),
                       or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= at),
                       or_(Message.purpose == outbox.STOP_CONFIRMATION, ~_stopped()))
                .values(status=SENDING, claimed_at=at, attempts=Message.attempts + 1)
                .returning(Message.id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )  # fmt: skip


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


def _release(message_ids: list[int]) -> None:
    """Give claimed rows back, unsent, as they were."""
    if not message_ids:
        return
    with session_scope() as session:
        session.execute(
            update(Message)
            .where(Message.id.in_(message_ids), Message.status == SENDING)
            .values(status=QUEUED, claimed_at=None, attempts=Message.attempts - 1)
            .execution_options(synchronize_session=False)
        )


def _record_sent(sent: list[tuple[int, str, str | None]]) -> None:
    """Write the sent rows in one statement; a delivery callback that came first keeps its
    status and error."""
    provider_ids = {message_id: provider_id for message_id, provider_id, _ in sent}
    templates = {message_id: template for message_id, _, template in sent if template}
    first = Message.status == SENDING
    with session_scope() as session:
        session.execute(
            update(Message)
            .where(Message.id.in_(list(provider_ids)))
            .values(
                provider_id=case(provider_ids, value=Message.id),
                template=case(templates, value=Message.id, else_=Message.template)
                if templates
                else Message.template,
                sent_at=now(),
                error=case((first, None), else_=Message.error),
                status=case((first, SENT), else_=Message.status),
            )
            .execution_options(synchronize_session=False)
        )
