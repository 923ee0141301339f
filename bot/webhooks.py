"""Webhooks: verify, parse, record (deduplicated on the provider id), enqueue, answer 200 fast."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, request
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot import queue
from bot.channels import telegram, twilio
from bot.channels.base import TELEGRAM, ChatEvent, Inbound
from bot.config import get_settings
from bot.db import get_engine, session_scope
from bot.identity import contact_for
from models.message import FINAL, HANDLED, IN, OUT, RECEIVED, Message
from models.teams import GroupChat

log = logging.getLogger(__name__)
webhooks = Blueprint("webhooks", __name__)

HANDLE_JOB = "jobs.handle_inbound.run"
MAX_BODY = 20000  # far above any provider's limit; a longer body is an attack or a bug
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


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
    inbound = twilio.parse(form)
    if inbound is None:
        abort(400)
    contact_id = _record(inbound)
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
    with session_scope() as session:
        session.execute(
            update(Message)
            .where(
                Message.direction == OUT,
                Message.provider_id == status.provider_id,
                Message.status.not_in(FINAL),
            )
            .values(status=status.status, error=status.error)
        )
    return _twiml()


@webhooks.post("/webhooks/telegram")
def telegram_update() -> Response:
    """A Telegram update: a message, a command, or a change to a group the bot is in."""
    settings = get_settings()
    if not telegram.verify(request.headers.get("X-Telegram-Bot-Api-Secret-Token"), settings):
        abort(403)
    payload = request.get_json(silent=True)
    try:
        parsed = telegram.parse(payload, settings.telegram_bot_username)
    except ValueError:
        abort(400)
    if isinstance(parsed, Inbound):
        contact_id = _record(parsed)
        if contact_id is not None:
            _enqueue(contact_id)
    elif isinstance(parsed, ChatEvent):
        _record_chat_event(parsed)
    return Response("", status=200)


def _record(inbound: Inbound) -> int | None:
    """Store the message once; a provider's retry of the same id is a no-op (returns None)."""
    try:
        with session_scope() as session:
            contact = contact_for(
                session, inbound.channel, inbound.address, language=_language(inbound)
            )
            group = _group(session, inbound) if inbound.chat_id else None
            session.add(
                Message(
                    direction=IN,
                    channel=inbound.channel,
                    contact_id=contact.id,
                    group_chat_id=group.id if group else None,
                    body=_clean(inbound.text)[:MAX_BODY],
                    media=[{"url": m.url, "type": m.content_type} for m in inbound.media],
                    provider_id=inbound.provider_id,
                    status=RECEIVED,
                    created_at=inbound.received_at,
                )
            )
            if not inbound.chat_id:
                # Group posts don't open WhatsApp's window; direct messages do.
                contact.last_inbound_at = inbound.received_at
                session.add(contact)
            return contact.id
    except IntegrityError:
        return None  # the provider retried a message we already have


def _clean(text: str) -> str:
    """Drop NUL characters: PostgreSQL text cannot hold them, and no person types them."""
    return text.replace("\x00", "")


def _language(inbound: Inbound) -> str | None:
    hint = (inbound.language_hint or "")[:2].lower()
    return hint if hint in ("en", "sw") else None


def _group(session: Session, inbound: Inbound) -> GroupChat:
    group = session.exec(
        select(GroupChat).where(
            GroupChat.channel == inbound.channel, GroupChat.chat_id == inbound.chat_id
        )
    ).first()
    title = _clean(inbound.chat_title or "")[:255] or None
    if group is None:
        group = GroupChat(channel=inbound.channel, chat_id=inbound.chat_id, title=title)
        session.add(group)
        session.flush()
    elif title and group.title != title:
        group.title = title
    return group


def _record_chat_event(event: ChatEvent) -> None:
    """Apply a group change once: the bot removed unlinks it; a migration moves the link."""
    try:
        with session_scope() as session:
            session.add(
                Message(
                    direction=IN,
                    channel=event.channel,
                    body=f"[{event.kind}]",
                    provider_id=event.provider_id,
                    purpose="chat_event",
                    status=HANDLED,
                    handled_at=event.received_at,
                    created_at=event.received_at,
                )
            )
            session.flush()
            group = session.exec(
                select(GroupChat).where(
                    GroupChat.channel == TELEGRAM, GroupChat.chat_id == event.chat_id
                )
            ).first()
            if event.kind == "bot_removed" and group is not None:
                group.team_id, group.linked_at, group.linked_by = None, None, None
            elif event.kind == "migrated" and group is not None and event.new_chat_id:
                _migrate(session, group, event.new_chat_id)
    except IntegrityError:
        return


def _migrate(session: Session, group: GroupChat, new_chat_id: str) -> None:
    """A group became a supergroup: its link follows it to the new chat id."""
    newer = session.exec(
        select(GroupChat).where(GroupChat.channel == TELEGRAM, GroupChat.chat_id == new_chat_id)
    ).first()
    if newer is None:
        group.chat_id = new_chat_id
        return
    if group.team_id and not newer.team_id:
        newer.team_id, newer.linked_at, newer.linked_by = (
            group.team_id,
            group.linked_at,
            group.linked_by,
        )
    group.team_id, group.linked_at, group.linked_by = None, None, None


def _enqueue(contact_id: int) -> None:
    try:
        queue.enqueue(queue.HIGH, HANDLE_JOB, contact_id)
    except Exception:  # Redis down: the message is stored and tick will enqueue it
        log.warning("could not enqueue handling for contact %s", contact_id)


health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> dict:
    """The process is up."""
    return {"ok": True}


@health.get("/readyz")
def readyz() -> tuple[dict, int]:
    """The database and Redis answer."""
    checks = {}
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"error: {type(error).__name__}"
    try:
        queue.connection().ping()
        checks["redis"] = "ok"
    except Exception as error:
        checks["redis"] = f"error: {type(error).__name__}"
    ok = all(value == "ok" for value in checks.values())
    return {"ok": ok, **checks}, 200 if ok else 503
