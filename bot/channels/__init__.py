"""Channel adapters: the only place that knows Twilio, Africa's Talking or Telegram."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from types import ModuleType

import phonenumbers

from bot.channels.base import AFRICASTALKING, ANY_NUMBER, SMS, TELEGRAM, TWILIO, WHATSAPP, e164
from bot.config import Settings


def sms_provider(address: str, last_provider: str | None, settings: Settings) -> str | None:
    """The provider an SMS to this number goes through: the one the person last wrote to, while
    we can send through it (they answer the number they texted), else the number's route."""
    if last_provider is not None and sms_configured(last_provider, settings):
        return last_provider
    return route(address, settings.sms_routes)


def route(address: str, routes: Mapping[str, str]) -> str | None:
    """The provider SMS_ROUTES gives a number: its longest matching prefix's, else its
    country's (e.g. "KE"), else "*"'s."""
    # Prefixes, not only country codes: +1 is shared by the US, Canada and the Caribbean, and a
    # route for Jamaica is +1876.
    number = e164(address) or ""
    matching = [key for key in routes if key.startswith("+") and number.startswith(key)]
    if matching:
        return routes[max(matching, key=len)]
    country = country_of_number(number) if number else None
    return routes.get(country or ANY_NUMBER, routes.get(ANY_NUMBER))


@lru_cache(maxsize=100_000)
def country_of_number(number: str) -> str | None:
    """The ISO region of an E.164 number (KE for +254…), remembered: every send asks."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(number))


def texting_number(settings: Settings, address: str | None = None) -> str | None:
    """The number (or Kenyan shortcode) a person texts us at: for someone at `address`, the one
    their route goes through; else Twilio's number, else the shortcode."""
    numbers = {
        TWILIO: settings.twilio_sms_from if settings.twilio_sms_from.startswith("+") else None,
        AFRICASTALKING: settings.africastalking_shortcode or None,
    }
    # An SMS_ROUTES entry without its credentials still names where the person would text.
    if address and e164(address) and (carrier := route(address, settings.sms_routes)):
        return numbers.get(carrier) or next(filter(None, numbers.values()), None)
    return next(filter(None, numbers.values()), None)


def sms_configured(provider: str, settings: Settings) -> bool:
    """Tell whether we can send SMS through this provider: its credentials and its sender."""
    if provider == TWILIO:
        return bool(
            settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_sms_from
        )
    if provider == AFRICASTALKING:
        return bool(
            settings.africastalking_username
            and settings.africastalking_api_key
            and settings.africastalking_shortcode
        )
    return False


def sender_for(channel: str, settings: Settings, provider: str | None = None) -> ModuleType | None:
    """The module that sends on this channel (SMS: through `provider`), or None when it is not
    configured."""
    from bot.channels import africastalking, console, telegram, twilio

    if settings.outbox_mode == "console":
        return console
    if channel == SMS:
        senders = {TWILIO: twilio, AFRICASTALKING: africastalking}
        return senders[provider] if provider and sms_configured(provider, settings) else None
    if channel == WHATSAPP:
        configured = settings.twilio_account_sid and settings.twilio_auth_token
        return twilio if configured and settings.twilio_whatsapp_from else None
    if channel == TELEGRAM:
        return telegram if settings.telegram_bot_token else None
    return None
