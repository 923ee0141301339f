"""What operators see of the outbox: who missed out and why, and re-sending what they choose."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import select

from bot import outbox, queue
from bot.db import session_scope
from models.message import FAILED, OUT, QUEUED, UNDELIVERED, UNKNOWN, Message
from models.people import Contact, Person
from models.teams import GroupChat

# The states an operator may send again: nothing will send them otherwise.
RESENDABLE = (FAILED, UNKNOWN, UNDELIVERED)
LIST_LIMIT = 500


def missed(statuses: tuple[str, ...], since: datetime | None = None) -> list[dict]:
    """The outbound messages in these states, newest first, with whom they were for and why."""
    query = (
        select(Message, Contact, Person.name, GroupChat)
        .outerjoin(Contact, Contact.id == Message.contact_id)
        .outerjoin(Person, Person.id == Contact.person_id)
        .outerjoin(GroupChat, GroupChat.id == Message.group_chat_id)
        .where(Message.direction == OUT, Message.status.in_(statuses))
        .order_by(Message.id.desc())
        .limit(LIST_LIMIT)
    )
    if since is not None:
        query = query.where(Message.created_at >= since)
    with session_scope() as session:
        rows = session.exec(query).all()
        return [_row(message, contact, name, group) for message, contact, name, group in rows]


def _row(message: Message, contact: Contact | None, name: str | None, group) -> dict:
    if group is not None:
        to = f"telegram-group:{group.chat_id}"
        name = group.title
    else:
        to = f"{contact.channel}:{contact.address}" if contact else None
    return {
        "id": message.id,
        "status": message.status,
        "to": to,
        "name": name,
        "purpose": message.purpose,
        "error": message.error,
        "provider_id": message.provider_id,
        "attempts": message.attempts,
        "created_at": message.created_at.isoformat(),
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "body": message.body,
    }


def resend(message_ids: list[int]) -> dict[str, list[int]]:
    """Queue these failed, unknown or undelivered messages again; the others are left alone.

    A row goes back to `queued` as it is, with its dedupe key, so it can never be doubled by a
    second copy; the send re-checks STOP as every send does.
    """
    with session_scope() as session:
        again = session.execute(
            update(Message)
            .where(
                Message.id.in_(message_ids),
                Message.direction == OUT,
                Message.status.in_(RESENDABLE),
            )
            .values(status=QUEUED, next_attempt_at=None, claimed_at=None)
            .returning(Message.id, Message.attempts, Message.purpose)
            .execution_options(synchronize_session=False)
        ).all()
    with queue.connection().pipeline() as pipe:
        for message_id, attempts, purpose in again:
            queue.queue(outbox.queue_for(purpose)).enqueue(
                queue.SEND_MESSAGE,
                message_id,
                # The usual id, so that recovery sees this job and leaves the row to it.
                job_id=outbox.send_job_id(message_id, attempts),
                result_ttl=300,
                failure_ttl=7 * 24 * 3600,
                pipeline=pipe,
            )
        pipe.execute()
    queued = sorted(message_id for message_id, _, _ in again)
    return {"resent": queued, "left": sorted(set(message_ids) - set(queued))}
