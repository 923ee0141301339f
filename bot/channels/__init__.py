"""Channel adapters: the only place that knows Twilio or Telegram."""

from __future__ import annotations

from types import ModuleType

from bot.channels.base import SMS, TELEGRAM, WHATSAPP
from bot.config import Settings


def sender_for(channel: str, settings: Settings) -> ModuleType | None:
    """The module that sends on this channel, or None when the channel is not configured."""
    from bot.channels import console, telegram, twilio

    if settings.outbox_mode == "console":
        return console
    if channel in (SMS, WHATSAPP):
        configured = settings.twilio_account_sid and settings.twilio_auth_token
        sender = settings.twilio_sms_from if channel == SMS else settings.twilio_whatsapp_from
        return twilio if configured and sender else None
    if channel == TELEGRAM:
        return telegram if settings.telegram_bot_token else None
    return None
