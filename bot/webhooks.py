"""Webhooks: verify, parse, record (deduplicated on the provider id), enqueue, answer 200 fast."""

from __future__ import annotations

import logging
from functools import cache

from flask import Blueprint, Response, abort, request
from sqlalchemy import String, bindparam, cast, func, literal, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from bot import languages, queue
from bot.channels import africastalking, simulator, telegram, twilio
from bot.channels.base import SMS, WHATSAPP, ChatEvent, Inbound
from bot.clock import now
from bot.config import get_settings
from bot.db import get_engine, session_scope
from bot.identity import new_contact_id
from handlers import chat_events
from jobs import delivery
from models.message import FINAL, HANDLED, IN, OUT, RECEIVED, Message
from models.people import Contact
from models.teams import GroupChat

log = logging.getLogger(__name__)
webhooks = Blueprint("webhooks", __name__)

MAX_BODY = 20000  # far above any provider's limit; a longer body is an attack or a bug
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Africa's Talking's callbacks are unsigned: their URLs carry our secret as ?secret=…, a query
# the Procfile's access log leaves out.
SECRET_PARAMETER = "secret"


@webhooks.errorhandler(SQLAlchemyError)
def _not_stored(error: SQLAlchemyError) -> Response:
    """Answer 503 when the database could not take a callback: the provider's retry (or
    Twilio's fallback URL) brings it again, where a 200 would lose it."""
    # The driver's own words ("database is locked"), not the statement and the person's text.
    log.error("%s not stored, answered 503: %s", request.path, getattr(error, "orig", error))
    return Response("", status=503)


def _twiml() -> Response:
    return Response(EMPTY_TWIML, mimetype="text/xml")


def _public_url() -> str:
    """The URL Twilio signed: our public origin plus the path and query it called."""
    settings = get_settings()
    if settings.trusted_proxies:
        return request.url  # ProxyFix has rebuilt it from the proxies' X-Forwarded-* headers
    query = request.query_string.decode()
    path = request.path + (f"?{query}" if query else "")
    return settings.public_base_url.rstrip("/") + path


def _verified_twilio_form() -> dict[str, str]:
    form = request.form.to_dict(flat=True)
    signature = request.headers.get("X-Twilio-Signature")
    if not twilio.verify(_public_url(), form, signature, get_settings()):
        abort(403)
    return form


@webhooks.post("/webhooks/twilio")
def twilio_inbound() -> Response:
    """An SMS or WhatsApp message from a person."""
    form = _verified_twilio_form()
    if twilio.is_not_incoming(form, get_settings()):
        # Answering it would text a reply to ourselves or to whoever got our message.
        log.warning("ignored a status report or our own message at the incoming URL: %s",
                    form.get("MessageSid"))  # fmt: skip
        return _twiml()
    inbound = twilio.parse(form)
    if inbound is None:
        abort(400)
    contact_id = record(inbound)
    if contact_id is not None:
        _enqueue(contact_id)
    return _twiml()


@webhooks.post("/webhooks/twilio/status")
def twilio_status() -> Response:
    """A delivery report on a message we sent; final states never move back."""
    form = _verified_twilio_form()
    status = twilio.parse_status(form)
    if status is None:
        if not form.get("MessageSid"):
            abort(400)
        return _twiml()
    ours = request.args.get("m", type=int)
    # Our id (signed, in the callback URL) finds the row even before we stored Twilio's id.
    match = (
        (Message.id == ours)
        & ((Message.provider_id == status.provider_id) | Message.provider_id.is_(None))
        if ours
        else Message.provider_id == status.provider_id
    )
    with session_scope() as session:
        session.execute(
            update(Message)
            .where(match, Message.direction == OUT, Message.status.not_in(FINAL))
            .values(status=status.status, error=status.error)
        )
    return _twiml()


def _verified_africastalking_form() -> dict[str, str]:
    if not africastalking.verify(request.args.get(SECRET_PARAMETER), get_settings()):
        abort(403)
    return request.form.to_dict(flat=True)


@webhooks.post("/webhooks/africastalking/sms")
def africastalking_inbound() -> Response:
    """An SMS from a person to our shortcode."""
    inbound = africastalking.parse(_verified_africastalking_form())
    if inbound is None:
        abort(400)
    contact_id = record(inbound)
    if contact_id is not None:
        _enqueue(contact_id)
    return Response("", status=200)


@webhooks.post("/webhooks/africastalking/delivery")
def africastalking_delivery() -> Response:
    """A delivery report on a message we sent (jobs.delivery applies it)."""
    form = _verified_africastalking_form()
    if africastalking.parse_delivery(form) is None:
        if not form.get("id"):
            abort(400)
        return Response("", status=200)
    delivery.apply_africastalking(form)
    return Response("", status=200)


@webhooks.post("/webhooks/telegram")
def telegram_update() -> Response:
    """A Telegram update: a message, a command, or a change to a group the bot is in."""
    settings = get_settings()
    if not telegram.verify(request.headers.get("X-Telegram-Bot-Api-Secret-Token"), settings):
        abort(403)
    try:
        payload = request.get_json(silent=True)
        parsed = telegram.parse(payload, settings.telegram_bot_username)
    except (ValueError, RecursionError) as error:  # garbage, or JSON nested to be an attack
        # Telegram retries anything but a 2xx for a day: an update we cannot read is logged
        # once and acknowledged, never stored.
        log.warning("ignored an update we cannot read: %s", str(error)[:300])
        return Response("", status=200)
    if isinstance(parsed, Inbound):
        contact_id = record(parsed)
        if contact_id is not None:
            _enqueue(contact_id)
    elif isinstance(parsed, ChatEvent):
        _record_chat_event(parsed)
    return Response("", status=200)


def record(inbound: Inbound, *, simulated: bool = False) -> int | None:
    """Store the message once; a provider's retry of the same id stores nothing (None).
    `simulated`: it comes from the console's simulator, from one of its made-up people."""
    # Prepared Core statements on a bare connection: this runs for every webhook, and the ORM's
    # unit of work would cost more than the database itself.
    with get_engine().begin() as connection:
        found = connection.execute(
            _FIND_CONTACT, {"channel": inbound.channel, "address": inbound.address}
        ).first()
        contact_id = found.id if found else None
        if simulated and (found is None or found.simulator_team_id is None):
            # The simulator makes its people before they write: one it did not make (a real
            # person took the address meanwhile) is nobody it may speak for.
            return None
        if not simulated and (found is None or found.simulator_team_id is not None):
            # Only a new address, or one the simulator made up, pays for this statement: a real
            # person at such an address is none of its made-up people, and sees nothing of theirs.
            _set_aside_simulated(connection, inbound.channel, inbound.address)
            contact_id = None
        if contact_id is None:
            contact_id = new_contact_id(
                connection,
                inbound.channel,
                inbound.address,
                languages.first_language(
                    inbound.channel, inbound.address, inbound.text, inbound.language_hint
                ),
            )
        group_id = _group(connection, inbound, simulated) if inbound.chat_id else None
        if inbound.chat_id and group_id is None:
            return None
        stored = _insert_once(
            connection,
            channel=inbound.channel,
            contact_id=contact_id,
            group_chat_id=group_id,
            body=_clean(inbound.text)[:MAX_BODY],
            media=[{"url": m.url, "type": m.content_type} for m in inbound.media],
            provider_id=inbound.provider_id,
            status=RECEIVED,
            created_at=inbound.received_at,
            reply_to_id=inbound.reply_to,
            thread_id=inbound.thread_id,
        )
        if not stored:
            return None
        if not inbound.chat_id:
            # Group posts don't open WhatsApp's window; direct messages do.
            connection.execute(
                _TOUCH_CONTACT,
                {"b_id": contact_id, "b_at": inbound.received_at,
                 "b_provider": inbound.provider, "b_link_id": inbound.link_id},
            )  # fmt: skip
        return contact_id


_FIND_CONTACT = select(Contact.id, Contact.simulator_team_id).where(
    Contact.channel == bindparam("channel"), Contact.address == bindparam("address")
)
# The provider and linkId ride on the touch of the contact, costing no statement of their own.
# A message that names no provider (`flask chat`) keeps the one the person last wrote through.
_TOUCH_CONTACT = (
    update(Contact)
    .where(Contact.id == bindparam("b_id"))
    .values(
        last_inbound_at=bindparam("b_at"),
        last_provider=func.coalesce(bindparam("b_provider", type_=String), Contact.last_provider),
        last_link_id=bindparam("b_link_id"),
    )
)
_MESSAGE_DEFAULTS = {
    "direction": IN, "purpose": "reply", "attempts": 0, "media": [], "contact_id": None,
    "group_chat_id": None, "handled_at": None, "reply_to_id": None, "thread_id": None,
}  # fmt: skip


def _insert_once(connection: Connection, **row) -> bool:
    """Insert an inbound row unless its provider id is already stored; True if inserted."""
    return (
        connection.execute(
            _insert_statement(connection.dialect.name), _MESSAGE_DEFAULTS | row
        ).first()
        is not None
    )


@cache
def _insert_statement(dialect: str):
    """INSERT … ON CONFLICT DO NOTHING on the provider id, built once per dialect."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(Message)
        .on_conflict_do_nothing(index_elements=["direction", "channel", "provider_id"])
        .returning(Message.id)
    )


def _clean(text: str) -> str:
    """Text the database can store: no NUL (PostgreSQL refuses it) and no lone surrogates
    (JSON can carry them, UTF-8 cannot); no person types either."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _group(connection: Connection, inbound: Inbound, simulated: bool = False) -> int | None:
    """The id of the group chat the message was posted in, created on its first message; None
    for the simulator's post in a group it did not make."""
    title = _clean(inbound.chat_title or "")[:255] or None
    where = (GroupChat.channel == inbound.channel) & (GroupChat.chat_id == inbound.chat_id)
    found = connection.execute(
        select(GroupChat.id, GroupChat.title, GroupChat.simulator_team_id).where(where)
    ).first()
    if simulated and (found is None or found.simulator_team_id is None):
        return None
    if found is not None and found.simulator_team_id is not None and not simulated:
        _set_aside_simulated_group(connection, inbound.channel, [inbound.chat_id])
        found = None
    if found is not None:
        if title and found.title != title:
            connection.execute(
                update(GroupChat).where(GroupChat.id == found.id).values(title=title)
            )
        return found.id
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    created = connection.execute(
        insert(GroupChat)
        .values(channel=inbound.channel, chat_id=inbound.chat_id, title=title)
        .on_conflict_do_nothing(index_elements=["channel", "chat_id"])
        .returning(GroupChat.id)
    ).scalar()
    # None: two first messages in a new group raced and the other one created it.
    return created or connection.execute(select(GroupChat.id).where(where)).scalar_one()


def _set_aside_simulated(connection: Connection, channel: str, address: str) -> None:
    """Move the simulator's contacts at this address out of the way of a real person: on SMS
    and WhatsApp both, as one number there is one person (bot.identity)."""
    phone = (SMS, WHATSAPP)
    channels = phone if channel in phone else (channel,)
    moved = literal(simulator.SET_ASIDE_PREFIX) + cast(Contact.id, String) + ":" + Contact.address
    connection.execute(
        update(Contact)
        .where(Contact.channel.in_(channels), Contact.address == address,
               Contact.simulator_team_id.is_not(None))
        .values(address=moved)
    )  # fmt: skip


def _set_aside_simulated_group(connection: Connection, channel: str, chat_ids) -> None:
    """Move the simulator's group chats at these ids out of the way of a real group."""
    moved = (
        literal(simulator.SET_ASIDE_PREFIX) + cast(GroupChat.id, String) + ":" + GroupChat.chat_id
    )
    connection.execute(
        update(GroupChat)
        .where(GroupChat.channel == channel, GroupChat.chat_id.in_(chat_ids),
               GroupChat.simulator_team_id.is_not(None))
        .values(chat_id=func.substr(moved, 1, GroupChat.chat_id.type.length))
    )  # fmt: skip


def _record_chat_event(event: ChatEvent) -> None:
    """Store the event once and apply it to its group chat."""
    with session_scope() as session:
        # Events come only from Telegram: one about a group the simulator made up at this id
        # is the real group's, and must not move or unlink the made-up one.
        chat_ids = [event.chat_id] + ([event.new_chat_id] if event.new_chat_id else [])
        _set_aside_simulated_group(session.connection(), event.channel, chat_ids)
        stored = _insert_once(
            session.connection(),
            channel=event.channel,
            body=f"[{event.kind}]",
            provider_id=event.provider_id,
            purpose="chat_event",
            status=HANDLED,
            handled_at=now(),
            created_at=event.received_at,
        )
        if stored:
            chat_events.apply(session, event)


def _enqueue(contact_id: int) -> None:
    try:
        queue.signal_inbound(contact_id)
    except Exception:  # Redis down: the message is stored and tick will enqueue it
        log.warning("could not enqueue handling for contact %s", contact_id)
