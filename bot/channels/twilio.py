"""SMS and WhatsApp through Twilio: verify and parse webhooks, send messages."""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from functools import lru_cache

import requests
from requests.utils import get_environ_proxies
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot import buttons, clock
from bot.channels.base import (
    SMS,
    TWILIO,
    WHATSAPP,
    DeliveryStatus,
    Inbound,
    Media,
    Outbound,
    SendResult,
    e164,
    whatsapp_user_id,
)
from bot.config import Settings

log = logging.getLogger(__name__)
# The twilio library logs each request and its headers at INFO: a dozen lines per message, on
# every send of a fan-out. Its warnings and errors still show.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

# WhatsApp addresses arrive and leave as "whatsapp:+E164"; SMS ones are bare E.164 numbers.
WHATSAPP_PREFIX = "whatsapp:"
# A sender that starts with this is a Messaging Service SID, not a number: Twilio picks the number.
MESSAGING_SERVICE_PREFIX = "MG"
# Message SIDs are 34 characters; one longer than we store is not Twilio's.
MAX_SID_LENGTH = 64
# Twilio sends at most ten attachments per message (MediaUrl0 … MediaUrl9).
TWILIO_MAX_MEDIA = 10
# The carrier blocked this number after the person texted STOP: sending again is refused, and
# the person must text START to the same number before we may write to them.
TWILIO_OPTED_OUT = 21610
# Twilio asks us to slow down with 429, and 5xx means its side failed: both are worth a retry.
HTTP_TOO_MANY_REQUESTS = 429
HTTP_SERVER_ERROR = 500

# Twilio's status callback words mapped to ours; "read" is WhatsApp's blue ticks, which
# implies delivery. Interim states (queued, sending, accepted, …) tell us nothing new.
DELIVERY_STATUSES = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
}


def verify(url: str, form: Mapping[str, str], signature: str | None, settings: Settings) -> bool:
    """Tell whether Twilio signed this request: the public URL plus every posted field."""
    if not settings.twilio_auth_token or not signature:
        return False
    validator = RequestValidator(settings.twilio_auth_token)
    # The URL as we were called is the one Twilio signs: one signature settles nearly every
    # webhook, where validate() always computes two (with and without the port).
    computed = validator.compute_signature(url, form).encode()
    if hmac.compare_digest(computed, signature.encode("utf-8", "replace")):
        return True
    return validator.validate(url, form, signature)


def parse(form: Mapping[str, str]) -> Inbound | None:
    """Turn an incoming-message webhook into an Inbound, or None if it is not one for us."""
    provider_id = form.get("MessageSid") or form.get("SmsMessageSid")
    sender = form.get("From") or ""
    if not provider_id or len(provider_id) > MAX_SID_LENGTH or not sender:
        return None
    channel, address = _channel_and_address(sender)
    if channel is None or address is None:
        return None
    # A quick-reply tap carries our "<question>:<answer>" as its ButtonPayload and the label as
    # Body or ButtonText; a tap on a template's own button carries only the label.
    tap = buttons.read_tap(form.get("ButtonPayload"))
    text = tap[1] if tap else form.get("Body") or form.get("ButtonText") or ""
    return Inbound(
        channel=channel,
        address=address,
        text=text,
        provider_id=provider_id,
        received_at=clock.now(),
        media=_media(form),
        profile_name=form.get("ProfileName") or None,
        reply_to=tap[0] if tap else None,
        provider=TWILIO,
    )


# An incoming message says SmsStatus "received"; any other status word is a report on a message
# we sent, posted to the incoming URL by a misconfigured number or Messaging Service.
INCOMING_STATUS = "received"


def is_not_incoming(form: Mapping[str, str], settings: Settings) -> bool:
    """Tell a status callback, or our own message, posted to the incoming-message URL."""
    statuses = {
        (form.get(field) or INCOMING_STATUS).lower() for field in ("MessageStatus", "SmsStatus")
    }
    ours = {settings.twilio_sms_from, settings.twilio_whatsapp_from} - {""}
    return statuses != {INCOMING_STATUS} or (form.get("From") or "") in ours


def parse_status(form: Mapping[str, str]) -> DeliveryStatus | None:
    """Turn a status callback into a DeliveryStatus, or None when it changes nothing for us."""
    provider_id = form.get("MessageSid") or form.get("SmsSid")
    reported = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    status = DELIVERY_STATUSES.get(reported)
    if not provider_id or status is None:
        return None
    return DeliveryStatus(
        provider_id=provider_id, status=status, error=form.get("ErrorCode") or None
    )


def send(out: Outbound, settings: Settings) -> SendResult:
    """Hand one message to Twilio and say whether it was taken, should be retried, or failed."""
    sender = settings.twilio_whatsapp_from if out.channel == WHATSAPP else settings.twilio_sms_from
    if not (settings.twilio_account_sid and settings.twilio_auth_token and sender):
        return SendResult.failed(f"twilio is not configured to send {out.channel}")
    try:
        message = _client(settings).messages.create(**_message_params(out, sender))
    except (TwilioRestException, TwilioServiceException) as exc:
        return _rest_error(exc)
    except requests.ReadTimeout as exc:
        # Twilio got the request and did not answer in time: it may have sent it, and
        # resending could text the person twice, so we record it as unknown.
        return SendResult.unknown(f"twilio did not answer: {exc!r}")
    except (requests.RequestException, TwilioException) as exc:
        # Refused connections and connect timeouts: Twilio never saw the request.
        return SendResult.retry(f"twilio unreachable: {exc!r}")
    except Exception as exc:  # a send must never crash the job that called it
        log.exception("unexpected error sending message %s via twilio", out.message_id)
        return SendResult.failed(f"twilio send error: {exc!r}")
    return SendResult.sent(message.sid)


def _channel_and_address(sender: str) -> tuple[str | None, str | None]:
    """Split a webhook's From into our channel name and an E.164 address (or, on WhatsApp, the
    user id of someone who hides their number)."""
    if sender.startswith(WHATSAPP_PREFIX):
        address = sender[len(WHATSAPP_PREFIX) :]
        return WHATSAPP, e164(address) or whatsapp_user_id(address)
    if ":" in sender:
        # Other Twilio channels (messenger:, rcs:, …) are not ones we answer.
        return None, None
    return SMS, e164(sender)


def _media(form: Mapping[str, str]) -> tuple[Media, ...]:
    """Collect the attachments listed as MediaUrl{i} / MediaContentType{i}."""
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError:
        return ()
    media = []
    for index in range(min(count, TWILIO_MAX_MEDIA)):
        url = form.get(f"MediaUrl{index}")
        if url:
            media.append(Media(url=url, content_type=form.get(f"MediaContentType{index}") or None))
    return tuple(media)


TWILIO_API = "https://api.twilio.com"


def _client(settings: Settings) -> Client:
    """The REST client for these credentials, pointed at TWILIO_API_BASE_URL when set."""
    return _cached_client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_api_base_url.rstrip("/"),
        settings.send_timeout_seconds,
    )


@lru_cache(maxsize=4)
def _cached_client(account_sid: str, auth_token: str, base_url: str, timeout: float) -> Client:
    """Build a client once per process, so that its session keeps connections open."""
    http = TwilioHttpClient(timeout=timeout, proxy=get_environ_proxies(base_url or TWILIO_API))
    # The proxy and CA settings of the environment are read once, here: requests would scan the
    # whole environment again for every message, a good part of a send's own cost.
    http.session.trust_env = False
    http.session.verify = (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    )
    client = Client(account_sid, auth_token, http_client=http)
    if base_url:
        # The Messages resource lives on the "api" domain; its paths stay the same.
        client.api.base_url = base_url
    return client


def _message_params(out: Outbound, sender: str) -> dict[str, str]:
    """Choose sender, recipient and content the way Twilio's Messages.create wants them."""
    params: dict[str, str] = {}
    if sender.startswith(MESSAGING_SERVICE_PREFIX):
        params["messaging_service_sid"] = sender
    elif out.channel == WHATSAPP and not sender.startswith(WHATSAPP_PREFIX):
        params["from_"] = WHATSAPP_PREFIX + sender
    else:
        params["from_"] = sender
    params["to"] = WHATSAPP_PREFIX + out.to if out.channel == WHATSAPP else out.to
    if out.template_sid:
        # Outside WhatsApp's 24-hour window only an approved template may be sent.
        params["content_sid"] = out.template_sid
        params["content_variables"] = json.dumps(out.template_vars)
    else:
        params["body"] = out.body
    if out.status_callback:
        params["status_callback"] = out.status_callback
    return params


def _rest_error(exc: TwilioRestException | TwilioServiceException) -> SendResult:
    """Classify an error answer from Twilio's REST API."""
    status = int(exc.status or 0)
    code = exc.code
    detail = exc.msg if isinstance(exc, TwilioRestException) else exc.detail or exc.title
    error = f"twilio {code} (HTTP {status}): {detail}"
    if status == HTTP_TOO_MANY_REQUESTS or status >= HTTP_SERVER_ERROR:
        return SendResult.retry(error)
    if code == TWILIO_OPTED_OUT:
        return SendResult.failed(error, stop_contact=True)
    return SendResult.failed(error)


# The Messages list names what a person sent us "inbound"; our sends are "outbound-api",
# "outbound-reply" or "outbound-call".
INBOUND_DIRECTION = "inbound"


def received_since(settings: Settings, since: datetime) -> list[Inbound]:
    """List what people sent to our SMS and WhatsApp numbers since then, from Twilio's own
    records, for the webhooks we may have missed."""
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        return []
    # Twilio keeps whole seconds: a message of the same second as a fractional `since` counts.
    since = clock.aware(since).replace(microsecond=0)
    received = []
    for sender, prefix in (
        (settings.twilio_sms_from, ""),
        (settings.twilio_whatsapp_from, WHATSAPP_PREFIX),
    ):
        if not sender:
            continue
        if sender.startswith(MESSAGING_SERVICE_PREFIX):
            # The list filters by our number, and a Messaging Service hides which of its
            # numbers got the message: those missed are not found here.
            log.warning("cannot list messages received through Messaging Service %s", sender)
            continue
        to = sender if sender.startswith(WHATSAPP_PREFIX) else prefix + sender
        # The library follows next_page_uri through every page.
        for listed in _client(settings).messages.list(to=to, date_sent_after=since):
            received_at = listed.date_sent or listed.date_created
            # Twilio may read the filter by day; the window is what we were asked for.
            if listed.direction != INBOUND_DIRECTION or (received_at and received_at < since):
                continue
            inbound = parse(
                {
                    "MessageSid": listed.sid or "",
                    "From": listed.from_ or "",
                    "Body": listed.body or "",
                    "NumMedia": listed.num_media or "0",
                }
            )
            if inbound is not None:
                received_at = clock.aware(received_at) if received_at else inbound.received_at
                received.append(replace(inbound, received_at=received_at))
    return received
