"""The simulator channel: the console's made-up people (bot/sandbox.py) write and are written to
here, never through a provider. What they send is recorded as its provider's webhook would
record it; what they are sent is counted sent, and the console's simulator page shows the rows."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import replace
from datetime import datetime

from bot import buttons, queue
from bot.channels import console, telegram
from bot.channels.base import TELEGRAM, Inbound, Outbound, SendResult
from bot.config import Settings, get_settings

log = logging.getLogger(__name__)

# Sends cost nothing and reach no one, yet go through the throttle like any others.
BUCKET = "simulator"
RATE_PER_SECOND = 1000.0
INBOUND_PREFIX = "sim:"  # never a real provider's id, nor Telegram's "callback:" of a real tap
SENT_PREFIX = "sim-"
# A made-up contact's or group's address once a real one turns up at it: "sim-<id>:<address>",
# unique by its id, and never an address any provider writes from (bot/webhooks.record).
SET_ASIDE_PREFIX = "sim-"


def is_simulated(*holders: object) -> bool:
    """Whether any of these contacts or group chats (None: absent) is one the simulator made."""
    return any(getattr(holder, "simulator_team_id", None) is not None for holder in holders)


def inbound(
    channel: str,
    address: str,
    text: str,
    at: datetime,
    *,
    group: str | None = None,
    tapped: int | None = None,
) -> Inbound | None:
    """What the provider's webhook would make of the person's message (`tapped`: the id of the
    question whose button they pressed, `text` then its answer); None when the bot would never
    see it (chatter in a group)."""
    provider_id = f"{INBOUND_PREFIX}{uuid.uuid4().hex}"
    if channel != TELEGRAM:
        return Inbound(channel, address, text, provider_id, received_at=at)
    # Telegram's own parsing decides what reaches the bot, as in bot/chat.py: /week@ourbot is
    # /week, and in a group anything but a command is not for us.
    user = {"id": int(address), "is_bot": False, "first_name": "Sim"}
    if group:
        kind = "supergroup" if group.startswith("-100") else "group"
        chat = {"id": int(group), "type": kind, "title": f"Group {group}"}
    else:
        chat = {"id": int(address), "type": "private", "first_name": "Sim"}
    message = {"message_id": 1, "date": int(at.timestamp()), "chat": chat, "from": user}
    if tapped is not None:
        update = {"callback_query": {"id": provider_id, "from": user, "chat_instance": "sim",
                                     "data": buttons.tap_data(tapped, text), "message": message}}  # fmt: skip
    else:
        update = {"message": message | {"text": text}}
    parsed = telegram.parse({"update_id": 1} | update, get_settings().telegram_bot_username)
    if not isinstance(parsed, Inbound):
        return None
    # Our own id, so that a tap is never acknowledged to Telegram (jobs.handle_inbound).
    return replace(parsed, provider_id=provider_id, received_at=at)


def send(out: Outbound, settings: Settings | None = None) -> SendResult:
    """Count the message sent to its made-up recipient; a `flask chat` window on them shows it."""
    to = console.recipient(out)
    body = out.body + (
        "\n" + " ".join(f"[{label}]" for label, _ in out.buttons) if out.buttons else ""
    )
    try:
        message = {"to": to, "body": body, "photo": out.photo is not None}
        queue.connection().publish(console.topic(to), json.dumps(message))
    except Exception:  # a chat window that misses it must not fail the send
        log.warning("could not show message %s in chat windows", out.message_id, exc_info=True)
    return SendResult.sent(f"{SENT_PREFIX}{out.message_id}")
