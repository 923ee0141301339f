"""`flask chat`: talk to the bot in a terminal, as a contact or in a Telegram group, and see
every message sent to you as it goes, whichever process sends it (the console outbox)."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TextIO

import click
from sqlalchemy import func, or_
from sqlmodel import select

from bot import clock, queue
from bot.channels import console, telegram
from bot.channels.base import TELEGRAM, Inbound
from bot.config import get_settings, use_settings
from bot.db import session_scope
from bot.identity import parse_handle
from models.message import OUT, QUEUED, SENDING, Message
from models.teams import GroupChat

log = logging.getLogger(__name__)

SETTLE_SECONDS = 3.0  # how long a piped line waits for what a worker still sends to us
SYNC_SECONDS = 2.0  # how long to wait for the window to print what was already published
LISTEN_SECONDS = 0.2  # how often the window's listener looks up to see whether it should stop


@dataclass(frozen=True)
class Speaker:
    """Who types in the chat: a contact, posting in a Telegram group when `group` is set."""

    channel: str
    address: str
    group: str | None = None  # the group's Telegram chat id, negative

    @property
    def contact(self) -> str:
        return f"{self.channel}:{self.address}"

    @property
    def recipients(self) -> tuple[str, ...]:
        """The handles whose messages the window shows, the one it speaks in first."""
        if self.group is None:
            return (self.contact,)
        return (f"{console.TELEGRAM_GROUP}:{self.group}", self.contact)


def speaker(handle: str, member: str | None = None) -> Speaker:
    """Read `--as` and `--from`: a CONTACT alone, or telegram-group:ID with a telegram:ID member."""
    kind, _, chat_id = handle.strip().partition(":")
    if kind.lower() != console.TELEGRAM_GROUP:
        if member is not None:
            raise ValueError("--from is for a Telegram group only: --as telegram-group:-100123")
        try:
            return Speaker(*parse_handle(handle))
        except ValueError as error:
            raise ValueError(f"{error}, or a group: telegram-group:-100123") from error
    if not re.fullmatch(r"-\d{1,20}", chat_id):
        raise ValueError(
            f"a Telegram group is written telegram-group:-100123 (its id is negative), "
            f"not {handle!r}"
        )
    if member is None:
        raise ValueError("say who posts in the group: --from telegram:5001")
    channel, address = parse_handle(member)
    if channel != TELEGRAM:
        raise ValueError(f"a Telegram group's member is written telegram:5001, not {member!r}")
    return Speaker(channel, address, chat_id)


def run(
    who: Speaker,
    lines: Iterable[str],
    *,
    at: datetime | None = None,
    interactive: bool = False,
    out: TextIO | None = None,
) -> None:
    """Post each line to the bot as `who` and show every message sent to them as it is sent;
    at a simulated instant `at`, running on from there, when given."""
    from jobs import handle_inbound

    settings = get_settings()
    # This process sends its own replies to the console, so that they show here and never reach
    # a real phone; bulk sends go to the workers as from anywhere else.
    if settings.outbox_mode != "console":
        use_settings(settings.model_copy(update={"outbox": "console"}))
    simulation = clock.simulated(at, running=True) if at else nullcontext()
    try:
        with window(who.recipients, out or sys.stdout) as shown, simulation:
            if interactive:
                _greet(who)
            for line in lines:
                text = line.rstrip("\r\n")
                if not text.strip():
                    continue
                mark = _newest_message_id()
                contact_id = post(who, text)
                if contact_id is None:
                    click.echo("(not for the bot: in a group it sees only its commands)", err=True)
                    continue
                with console.published_only():
                    handle_inbound.run(contact_id)
                if not interactive:
                    # A pipe reads the answers to each line before the next: a test, a script.
                    shown.settle(partial(_in_flight, who, contact_id, mark))
    finally:
        use_settings(settings)


def _greet(who: Speaker) -> None:
    where = f" in the Telegram group {who.group}, where the bot reads commands" if who.group else ""
    click.echo(f"You are {who.contact}{where}. Type a message; Ctrl-D to leave.", err=True)
    if clock.is_simulated():
        at = clock.now().strftime("%Y-%m-%d %H:%M:%S UTC")
        click.echo(f"Simulated time: {at}, running on from there.", err=True)


def post(who: Speaker, text: str) -> int | None:
    """Record the line as the provider's webhook would; the contact to handle, or None when the
    bot would never see it (chatter in a group)."""
    # The webhook's own recording: the contact, the group chat on its first message, the row.
    from bot.webhooks import record

    inbound = _inbound(who, text)
    return record(inbound) if inbound is not None else None


def _inbound(who: Speaker, text: str) -> Inbound | None:
    provider_id = f"chat:{uuid.uuid4().hex}"  # never a real provider's id
    if who.channel != TELEGRAM:
        return Inbound(who.channel, who.address, text, provider_id, received_at=clock.now())
    # Telegram's own parsing decides what reaches the bot: /week@ourbot is /week, and in a
    # group anything but a command is not for us.
    user = {"id": int(who.address), "is_bot": False, "first_name": "Chat"}
    if who.group:
        kind = "supergroup" if who.group.startswith("-100") else "group"
        chat = {"id": int(who.group), "type": kind, "title": f"Group {who.group}"}
    else:
        chat = {"id": int(who.address), "type": "private", "first_name": "Chat"}
    message = {"message_id": 1, "date": int(clock.now().timestamp()), "chat": chat, "from": user}
    parsed = telegram.parse(
        {"update_id": 1, "message": message | {"text": text}},
        get_settings().telegram_bot_username,
    )
    return replace(parsed, provider_id=provider_id) if isinstance(parsed, Inbound) else None


def _newest_message_id() -> int:
    with session_scope() as session:
        return session.exec(select(func.max(Message.id))).one() or 0


def _in_flight(who: Speaker, contact_id: int, after: int) -> bool:
    """Whether a message to `who` written after row `after` is still to be sent."""
    to_us = Message.contact_id == contact_id
    if who.group:
        group = select(GroupChat.id).where(
            GroupChat.channel == TELEGRAM, GroupChat.chat_id == who.group
        )
        to_us = or_(to_us, Message.group_chat_id.in_(group))
    with session_scope() as session:
        return (
            session.exec(
                select(Message.id)
                .where(
                    Message.id > after,
                    Message.direction == OUT,
                    Message.status.in_((QUEUED, SENDING)),
                    to_us,
                )
                .limit(1)
            ).first()
            is not None
        )


class Window:
    """A terminal that prints every message to its recipients, from any process, as it arrives."""

    def __init__(self, recipients: tuple[str, ...], out: TextIO) -> None:
        self.printer = console.Printer(out, first=recipients[0])
        self._sync_topic = console.topic(f"sync:{uuid.uuid4().hex}")
        self._pubsub = queue.connection().pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(*(console.topic(handle) for handle in recipients), self._sync_topic)
        self._synced = threading.Condition()
        self._sync_token: str | None = None
        self._closing = threading.Event()
        self._listener = threading.Thread(target=self._listen, name="chat-window", daemon=True)

    def open(self) -> None:
        """Start listening; return once the subscription is in place."""
        self._listener.start()
        self.sync()

    def close(self) -> None:
        """Print what is still on its way, then stop listening."""
        self.sync()
        self._closing.set()
        self._listener.join(timeout=SYNC_SECONDS)
        self._pubsub.close()

    def settle(self, pending: Callable[[], bool], timeout: float = SETTLE_SECONDS) -> None:
        """Wait while `pending()` says a message is still being sent to us, a few seconds at
        most, then until everything already sent has been printed."""
        deadline = clock.elapsed() + timeout
        while pending() and clock.elapsed() < deadline:
            time.sleep(0.05)
        self.sync()

    def sync(self) -> bool:
        """Wait until everything published so far has been printed; False if that took too long."""
        # Redis delivers to a subscriber in the order it published: once our own token is back,
        # every message published before it has been printed.
        token = uuid.uuid4().hex
        queue.connection().publish(self._sync_topic, token)
        with self._synced:
            return self._synced.wait_for(lambda: self._sync_token == token, SYNC_SECONDS)

    def _listen(self) -> None:
        while not self._closing.is_set():
            try:
                message = self._pubsub.get_message(timeout=LISTEN_SECONDS)
            except Exception:  # Redis went away: keep trying, the chat goes on without it
                log.warning("the chat window lost Redis; retrying", exc_info=True)
                time.sleep(1)
                continue
            if message is not None:
                self._receive(message)

    def _receive(self, message: dict) -> None:
        data = message["data"].decode()
        if message["channel"].decode() == self._sync_topic:
            with self._synced:
                self._sync_token = data
                self._synced.notify_all()
            return
        try:
            sent = json.loads(data)
            self.printer.show(sent["to"], sent["body"], photo=bool(sent.get("photo")))
        except (ValueError, KeyError, TypeError):
            log.warning("not a message for a chat window: %r", data[:200])


@contextmanager
def window(recipients: tuple[str, ...], out: TextIO) -> Iterator[Window]:
    """An open window on these recipients' messages, closed on leaving."""
    shown = Window(recipients, out)
    shown.open()
    try:
        yield shown
    finally:
        shown.close()
