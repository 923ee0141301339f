"""Send bulk messages (reminders, digests, announcements) many to a job: the rows are read once,
each is claimed just before it goes, a few at a time, and the sent ones are recorded together.

The guarantees are send_message's: a row is sent only by whoever claims it, never after its
contact stopped, and a worker that dies mid-batch leaves its claimed rows to become `unknown`.
"""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy import case, exists, or_, select, update

from bot import outbox, throttle
from bot.channels import sender_for
from bot.clock import now
from bot.config import get_settings
from bot.db import session_scope
from jobs import send_message
from models.message import OUT, SENDABLE, SENDING, SENT, Message
from models.people import Contact
from models.teams import GroupChat

log = logging.getLogger(__name__)

# Rows are claimed ten at a time, just before they go: few statements, and a contact who stops
# meanwhile is caught as soon as by the single path. Sent rows are written 25 to a statement.
CLAIM_EVERY = 10
RECORD_EVERY = 25


def run(message_ids: list[int]) -> None:
    """Send each still-due message of the batch once, in id order."""
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
    sent: list[tuple[int, str, str | None]] = []
    try:
        for start in range(0, len(rows), CLAIM_EVERY):
            chunk = rows[start : start + CLAIM_EVERY]
            # The chunk's sends counted against each sender's rate at once, one call each,
            # before the claim: a contact who stops while we wait for the rate is still caught.
            wanted = Counter(
                limit
                for message, _, _ in chunk
                for limit in send_message.buckets(message, settings)
            )
            if not all(throttle.take(b, rate, count=n) for (b, rate), n in wanted.items()):
                return  # a long backlog on a sender: the rest stay due; tick re-enqueues them
            claimed = _claim([message.id for message, _, _ in chunk])
            for message, contact, group in chunk:
                if message.id not in claimed:
                    # Claimed elsewhere, not due, or its contact just stopped: the single
                    # path reads it afresh and settles it the way it always does.
                    send_message.run(message.id)
                    continue
                try:
                    outcome = _send(message, contact, group, settings)
                except Exception as error:  # one bad row must not strand the others claimed
                    log.exception("message %s could not be prepared", message.id)
                    send_message.fail(message.id, f"send error: {error!r}")
                    continue
                if outcome is None:
                    continue
                result, template = outcome
                if result.outcome == "sent":
                    sent.append((message.id, result.provider_id, template))
                    if len(sent) >= RECORD_EVERY:
                        _record_sent(sent)
                        sent = []
                else:
                    send_message.record(message.id, result, settings)
    finally:
        if sent:
            _record_sent(sent)


def _send(message: Message, contact, group, settings):
    """Hand one claimed row to its channel: (result, template used), or None when it cannot
    be sent (recorded as failed, with the reason)."""
    sender = sender_for(message.channel, settings)
    outbound, problem = send_message.outbound(message, contact, group, settings)
    if sender is None or problem:
        send_message.fail(message.id, problem or f"{message.channel} is not configured")
        return None
    return sender.send(outbound, settings), outbound.template_sid


def _claim(message_ids: list[int]) -> set[int]:
    """Move the rows still due, whose contacts have not stopped, to `sending`."""
    at = now()
    stopped = exists().where(Contact.id == Message.contact_id, Contact.opted_out_at.is_not(None))
    with session_scope() as session:
        return set(
            session.execute(
                update(Message)
                .where(Message.id.in_(message_ids), Message.status.in_(SENDABLE),
                       or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= at),
                       or_(Message.purpose == outbox.STOP_CONFIRMATION, ~stopped))
                .values(status=SENDING, claimed_at=at, attempts=Message.attempts + 1)
                .returning(Message.id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )  # fmt: skip


def _record_sent(sent: list[tuple[int, str, str | None]]) -> None:
    """Write the provider ids of sent rows in one statement; a delivery callback that came
    first keeps its later status."""
    provider_ids = {message_id: provider_id for message_id, provider_id, _ in sent}
    templates = {message_id: template for message_id, _, template in sent if template}
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
                error=None,
                status=case((Message.status == SENDING, SENT), else_=Message.status),
            )
            .execution_options(synchronize_session=False)
        )
