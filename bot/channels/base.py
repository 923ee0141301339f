"""What every channel adapter takes and gives: normalized inbound, outbound and send results."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Literal

import phonenumbers

SMS = "sms"
WHATSAPP = "whatsapp"
TELEGRAM = "telegram"

# The providers that carry SMS, as SMS_ROUTES names them.
TWILIO = "twilio"
AFRICASTALKING = "africastalking"
SMS_PROVIDERS = (TWILIO, AFRICASTALKING)
# The SMS_ROUTES key for every number no other key matches.
ANY_NUMBER = "*"
_PREFIX = re.compile(r"\+[0-9]{1,15}")


@dataclass(frozen=True)
class Media:
    """An attachment a person sent: where to fetch it and what it is."""

    url: str
    content_type: str | None = None


@dataclass(frozen=True)
class Inbound:
    """A message from a person, the same whatever channel it came by."""

    channel: str  # sms, whatsapp or telegram
    address: str  # the sender: E.164 for sms/whatsapp, the Telegram user id
    text: str
    provider_id: str  # MessageSid, or "update:<update_id>" for Telegram
    received_at: datetime
    chat_id: str | None = None  # set for group chats: where the message was posted
    chat_title: str | None = None
    media: tuple[Media, ...] = ()
    profile_name: str | None = None  # the name the person shows on WhatsApp or Telegram
    language_hint: str | None = None  # Telegram's language_code, when the client sends it
    reply_to: int | None = None  # a tapped button: the id of our question it answers
    thread_id: int | None = None  # a Telegram forum topic the message was posted in
    provider: str | None = None  # the SMS provider it came through: replies go back that way
    link_id: str | None = None  # Africa's Talking's linkId, which a reply to it echoes


@dataclass(frozen=True)
class ChatEvent:
    """Something that happened to a group chat rather than a message in it."""

    kind: Literal["bot_added", "bot_removed", "migrated"]
    channel: str
    chat_id: str
    provider_id: str
    received_at: datetime
    new_chat_id: str | None = None  # for "migrated": the supergroup's id
    title: str | None = None
    by_address: str | None = None  # who added or removed the bot


@dataclass(frozen=True)
class DeliveryStatus:
    """A provider's report on a message we sent."""

    provider_id: str
    status: str  # our vocabulary: sent, delivered, undelivered, failed
    error: str | None = None


@dataclass(frozen=True)
class Outbound:
    """A message to send: to a contact address, or to a group chat id."""

    message_id: int
    channel: str
    to: str
    body: str
    photo: bytes | None = None  # an image sent before/with the text where the channel can
    template_sid: str | None = None  # WhatsApp Content SID outside the 24-hour window
    template_vars: dict[str, str] = field(default_factory=dict)
    status_callback: str | None = None
    buttons: tuple[tuple[str, str], ...] = ()  # (label, what a tap sends back), in order
    thread_id: int | None = None  # the Telegram forum topic to post in
    link_id: str | None = None  # Africa's Talking: the linkId of the message this answers


@dataclass(frozen=True)
class SendResult:
    """What happened when we handed a message to the provider."""

    outcome: Literal["sent", "retry", "failed", "unknown"]
    provider_id: str | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds the provider asked us to wait
    stop_contact: bool = False  # the person blocked us or opted out at the carrier

    @classmethod
    def sent(cls, provider_id: str | None) -> SendResult:
        return cls("sent", provider_id=provider_id)

    @classmethod
    def retry(cls, error: str, retry_after: float | None = None) -> SendResult:
        return cls("retry", error=error[:500], retry_after=retry_after)

    @classmethod
    def failed(cls, error: str, stop_contact: bool = False) -> SendResult:
        return cls("failed", error=error[:500], stop_contact=stop_contact)

    @classmethod
    def unknown(cls, error: str) -> SendResult:
        """The request reached the provider but no answer came: it may have been sent."""
        return cls("unknown", error=error[:500])


# Numbers worth remembering are short: a long "number" is garbage or an attack, and must not
# fill the cache.
LONGEST_CACHED_NUMBER = 32


def e164(number: str) -> str | None:
    """Format a phone number as E.164, or None if it is not one."""
    # Every send asks for its number's form and route several times; parsing is the dear part.
    return _e164(number) if len(number) <= LONGEST_CACHED_NUMBER else _parse_e164(number)


@lru_cache(maxsize=100_000)
def _e164(number: str) -> str | None:
    return _parse_e164(number)


def _parse_e164(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# WhatsApp's business-scoped user id, for people who hide their number: a country, a dot, up
# to 128 letters and digits ("US.13491208655302741918"), or "US.ENT.…" for a parent id.
_WHATSAPP_USER_ID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")


def whatsapp_user_id(address: str) -> str | None:
    """The address itself if it is a WhatsApp business-scoped user id, else None."""
    return address if _WHATSAPP_USER_ID.fullmatch(address) else None


def is_calling_code_prefix(prefix: str) -> bool:
    """Tell whether `prefix` is "+" and digits that begin with a country calling code (+254,
    +1, or +1876 within +1), as SMS_ROUTES keys must."""
    if not _PREFIX.fullmatch(prefix):
        return False
    digits = prefix[1:]
    # Calling codes are one to three digits and none begins another, so at most one fits.
    return any(
        int(digits[:size]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
        for size in (1, 2, 3)
        if len(digits) >= size
    )
