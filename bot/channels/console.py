"""The console outbox: print messages instead of sending them (first runs, `flask chat`)."""

from __future__ import annotations

from bot.channels.base import Outbound, SendResult
from bot.config import Settings


def send(out: Outbound, settings: Settings | None = None) -> SendResult:
    """Print the message where the operator can read it, and count it as sent."""
    print(f"→ {out.channel}:{out.to}: {out.body}", flush=True)
    return SendResult.sent(f"console-{out.message_id}")
