"""The console outbox: print messages instead of sending them (first runs, `flask chat`), grouped
by recipient, and publish each on Redis so that its recipient's `flask chat` window shows it."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

from bot import clock, queue
from bot.channels.base import TELEGRAM, Outbound, SendResult
from bot.config import Settings

log = logging.getLogger(__name__)

TELEGRAM_GROUP = "telegram-group"  # a group chat's handle: telegram-group:-100123
TOPIC = "circlebot:console:{}"  # the pub/sub channel of one recipient's messages
# After a pause other lines (the worker's own) may have come between: name the recipient again.
LOG_PAUSE_SECONDS = 3

# `flask chat` prints what it sends when its window receives it, as it does what others send:
# printing it here as well would show it twice.
_printing: ContextVar[bool] = ContextVar("circlebot_console_printing", default=True)


def send(out: Outbound, settings: Settings | None = None) -> SendResult:
    """Print the message in the log, show it in its recipient's chat windows, count it sent."""
    to, photo = recipient(out), out.photo is not None
    # Buttons show under the text as Telegram draws them; typing the label answers the same.
    body = out.body + (
        "\n" + " ".join(f"[{label}]" for label, _ in out.buttons) if out.buttons else ""
    )
    if _printing.get():
        _log.show(to, body, photo=photo)
    try:
        message = {"to": to, "body": body, "photo": photo}
        queue.connection().publish(topic(to), json.dumps(message))
    except Exception:  # a chat window that misses it must not fail the send
        log.warning("could not show message %s in chat windows", out.message_id, exc_info=True)
    return SendResult.sent(f"console-{out.message_id}")


def recipient(out: Outbound) -> str:
    """The handle a message goes to: `sms:+2547…`, `telegram:5001` or `telegram-group:-100…`."""
    # Outbound carries only the address. Telegram gives groups negative chat ids and people
    # positive ones, so the sign tells a group's message from a private one.
    if out.channel == TELEGRAM and out.to.startswith("-"):
        return f"{TELEGRAM_GROUP}:{out.to}"
    return f"{out.channel}:{out.to}"


def topic(handle: str) -> str:
    """The pub/sub channel that carries the messages to `handle`."""
    return TOPIC.format(handle)


@contextmanager
def published_only() -> Iterator[None]:
    """Publish the messages sent inside the block without printing them."""
    token = _printing.set(False)
    try:
        yield
    finally:
        _printing.reset(token)


class Printer:
    """Messages as people read them: a header when the recipient changes, then each message as
    a bullet with its further lines indented under it."""

    def __init__(
        self, file: TextIO | None = None, *, first: str | None = None, pause: float | None = None
    ) -> None:
        self.file, self.pause = file, pause
        self._last, self._at = first, clock.elapsed()
        self._lock = threading.Lock()  # a worker's or a window's messages never interleave

    def show(self, to: str, body: str, *, photo: bool = False) -> None:
        """Print one message to `to`."""
        lines = (["[image]"] if photo else []) + body.split("\n")
        text = "\n".join(["• " + lines[0]] + [f"  {line}".rstrip() for line in lines[1:]])
        with self._lock:
            quiet = self.pause is not None and clock.elapsed() - self._at > self.pause
            if to != self._last or quiet:
                text = f"── to {to} ──\n{text}"
            self._last, self._at = to, clock.elapsed()
            # The file at the time of printing: the log may have been redirected since.
            print(text, file=self.file or sys.stdout, flush=True)


_log = Printer(pause=LOG_PAUSE_SECONDS)
