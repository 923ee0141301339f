"""Handle a contact's new messages in arrival order, one at a time, each exactly once."""

from __future__ import annotations

import logging
from contextlib import suppress

from redis.exceptions import LockError
from sqlalchemy import bindparam, inspect, update
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot import clock, outbox, queue
from bot.channels import telegram
from bot.channels.base import TELEGRAM
from bot.clock import now
from bot.config import get_settings
from bot.db import session_scope
from bot.dispatch import dispatch
from bot.i18n import t
from jobs import send_batch, send_message
from models.conversation import ACTIVE, Conversation
from models.message import HANDLED, HANDLING_FAILED, IN, OUT, RECEIVED, Message
from models.people import Contact, Person
from models.teams import GroupChat

log = logging.getLogger(__name__)

LOCK_SECONDS = 120
WAIT_FOR_LOCK_SECONDS = 60
# Each message starts with at least LOCK_SECONDS - this left of the lock: a Redis call saved
# for most messages, and a long backlog still never outlives the lock.
LOCK_EXTEND_AFTER = 10


def run(contact_id: int) -> None:
    """Take the contact's lock and handle every unhandled message it has."""
    lock = queue.connection().lock(
        f"circlebot:lock:contact:{contact_id}",
        timeout=LOCK_SECONDS,
        blocking_timeout=WAIT_FOR_LOCK_SECONDS,
    )
    if not lock.acquire():
        raise RuntimeError(f"contact {contact_id} is busy; RQ retries this job")
    try:
        extended = clock.elapsed()
        while _handle_next(contact_id):
            # A long backlog must not outlive the lock and let a second worker in.
            if clock.elapsed() - extended > LOCK_EXTEND_AFTER:
                lock.extend(LOCK_SECONDS, replace_ttl=True)
                extended = clock.elapsed()
    finally:
        # The lock may have expired while we worked; the row claims kept us exact anyway.
        with suppress(LockError):
            lock.release()


# The contact's oldest unhandled message, claimed and read in one statement; built once, as
# every handling runs it at least twice (the last time to find nothing left).
_CLAIM_NEXT = (
    update(Message)
    .where(
        Message.id
        == select(Message.id)
        .where(
            Message.contact_id == bindparam("b_contact_id"),
            Message.direction == IN,
            Message.status == RECEIVED,
        )
        .order_by(Message.id)
        .limit(1)
        .scalar_subquery(),
        Message.status == RECEIVED,
    )
    .values(status=HANDLED, handled_at=bindparam("b_at"))
    .returning(Message)
    .execution_options(synchronize_session=False)
)


def _handle_next(contact_id: int) -> bool:
    """Claim the contact's next message and dispatch it; its effects, replies and claim commit
    together. False when none was left."""
    replies: list[int] = []
    rows: dict[int, tuple] = {}
    message_id = None
    try:
        with session_scope() as session:
            session.info[outbox.SEND_INLINE] = replies
            session.info[outbox.INLINE_ROWS] = rows
            message = session.scalars(
                _CLAIM_NEXT, {"b_contact_id": contact_id, "b_at": now()}
            ).first()
            if message is None:
                return False
            message_id = message.id
            tap = _telegram_tap(session, message)
            dispatch(session, message)
        if tap is not None:
            telegram.acknowledge(*tap, get_settings())
        _send_now(replies, rows)
    except OperationalError:
        raise  # the database is away for a moment: the message stays received; RQ retries
    except Exception as error:
        if message_id is None:
            raise
        log.exception("handling message %s failed", message_id)
        _apologize(message_id, error)
    return True


def _telegram_tap(session, message: Message) -> tuple[str, str | None] | None:
    """For a Telegram tap: its callback id and the provider id of the question tapped on."""
    if message.channel != TELEGRAM or not message.provider_id.startswith(telegram.CALLBACK_PREFIX):
        return None
    question = session.get(Message, message.reply_to_id) if message.reply_to_id else None
    # Only the presser's own question loses its keyboard: a forged id must not touch another's.
    own = question is not None and question.direction == OUT
    own = own and question.contact_id == message.contact_id
    return (
        message.provider_id.removeprefix(telegram.CALLBACK_PREFIX),
        question.provider_id if own else None,
    )


def _whole(message: Message, contact: Contact | None, group: GroupChat | None) -> bool:
    if (message.contact_id and contact is None) or (message.group_chat_id and group is None):
        return False
    return all(
        row is None or not inspect(row).expired_attributes for row in (message, contact, group)
    )


def _send_now(message_ids: list[int], written: dict[int, tuple]) -> None:
    """Send the replies right away, from the rows the handling wrote, each claimed just before
    its call; one that fails here stays queued and tick recovers it."""
    # A row the handling expired (an UPDATE it could not apply in memory), or whose contact or
    # group it did not hand over, is read afresh.
    written = {key: row for key, row in written.items() if _whole(*row)}
    rows = [written[message_id] for message_id in message_ids if message_id in written]
    try:
        if rows:
            send_batch.send_rows(rows, get_settings())
    except Exception:
        log.exception("sending replies %s failed; tick will retry them", [m.id for m, *_ in rows])
    for message_id in (m for m in message_ids if m not in written):
        try:
            send_message.run(message_id)
        except Exception:
            log.exception("sending reply %s failed; tick will retry it", message_id)


def _apologize(message_id: int, error: Exception) -> None:
    """Mark the message as failed so it is not retried forever, and tell the person kindly."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None or message.status != RECEIVED:
            return
        message.status, message.handled_at = HANDLING_FAILED, now()
        message.error = f"{type(error).__name__}: {error}"[:500]
        if not message.group_chat_id:
            # A dialog that met the bug would meet it again at every answer until it lapsed: it
            # ends here, so the person's next message starts afresh.
            session.execute(
                update(Conversation)
                .where(Conversation.contact_id == message.contact_id, Conversation.status == ACTIVE)
                .values(status=HANDLING_FAILED, updated_at=now())
            )
        contact = session.get(Contact, message.contact_id)
        person = session.get(Person, contact.person_id)
        sorry = t("error.sorry", person.language)
        if message.group_chat_id:
            outbox.to_group(session, session.get(GroupChat, message.group_chat_id), sorry)
        elif contact.opted_out_at is None:
            outbox.to_contact(session, contact, sorry)
