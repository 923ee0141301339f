"""Handle a contact's new messages in arrival order, one at a time, each exactly once."""

from __future__ import annotations

import logging
from contextlib import suppress

from redis.exceptions import LockError
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot import outbox, queue
from bot.channels import telegram
from bot.channels.base import TELEGRAM
from bot.clock import now
from bot.config import get_settings
from bot.db import session_scope
from bot.dispatch import dispatch
from bot.i18n import t
from jobs import send_message
from models.conversation import ACTIVE, Conversation
from models.message import HANDLED, HANDLING_FAILED, IN, OUT, RECEIVED, Message
from models.people import Contact, Person
from models.teams import GroupChat

log = logging.getLogger(__name__)

LOCK_SECONDS = 120
WAIT_FOR_LOCK_SECONDS = 60


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
        while (message_id := _next(contact_id)) is not None:
            # A long backlog must not outlive the lock and let a second worker in.
            lock.extend(LOCK_SECONDS, replace_ttl=True)
            _handle(message_id)
    finally:
        # The lock may have expired while we worked; the row claims kept us exact anyway.
        with suppress(LockError):
            lock.release()


def _next(contact_id: int) -> int | None:
    with session_scope() as session:
        return session.exec(
            select(Message.id)
            .where(
                Message.contact_id == contact_id,
                Message.direction == IN,
                Message.status == RECEIVED,
            )
            .order_by(Message.id)
            .limit(1)
        ).first()


def _handle(message_id: int) -> None:
    """Claim the message and dispatch it; its effects, replies and claim commit together."""
    replies: list[int] = []
    try:
        with session_scope() as session:
            session.info[outbox.SEND_INLINE] = replies
            claimed = session.execute(
                update(Message)
                .where(Message.id == message_id, Message.status == RECEIVED)
                .values(status=HANDLED, handled_at=now())
            ).rowcount
            if claimed != 1:
                return
            message = session.get(Message, message_id)
            tap = _telegram_tap(session, message)
            dispatch(session, message)
        if tap is not None:
            telegram.acknowledge(*tap, get_settings())
        _send_now(replies)
    except OperationalError:
        raise  # the database is away for a moment: the message stays received; RQ retries
    except Exception as error:
        log.exception("handling message %s failed", message_id)
        _apologize(message_id, error)


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


def _send_now(message_ids: list[int]) -> None:
    """Send the replies right away; one that fails here stays queued and tick recovers it."""
    for message_id in message_ids:
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
