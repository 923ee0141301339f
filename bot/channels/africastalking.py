"""Two-way SMS through Africa's Talking on a shortcode: verify and parse callbacks, send messages.

We post to its plain HTTP API with `requests` rather than use the `africastalking` SDK, because
the SDK gets in the way in four places: its base URL is fixed in code with no setting for it
(api.africastalking.com, or api.sandbox.africastalking.com only when the username is "sandbox"),
so it cannot be pointed at a local fake as AFRICASTALKING_API_BASE_URL must;
`africastalking.initialize()` keeps its services in module globals; it calls `requests.post`
afresh for every message, so no connection is reused over a fan-out; and it raises one bare
exception carrying only the body for every non-2xx answer, which loses the HTTP status we need
to tell a bad API key from an outage.

Africa's Talking does not sign its callbacks: the callback URLs carry a long random secret
instead (AFRICASTALKING_WEBHOOK_SECRET), which `verify` compares in constant time.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import requests

from bot import clock
from bot.channels.base import (
    AFRICASTALKING,
    SMS,
    DeliveryStatus,
    Inbound,
    Outbound,
    SendResult,
    e164,
)
from bot.config import Settings

log = logging.getLogger(__name__)

# The send endpoint, the same path on the live API, the sandbox and our fake.
MESSAGING_PATH = "/version1/messaging"
# Its message ids are UUIDs and its linkIds about twenty digits; anything longer than we store
# is not its: such an id refuses the message, such a linkId is dropped.
MAX_ID_LENGTH = 64

# Its API answers 401 when the username and API key do not match, which no retry will change.
HTTP_UNAUTHORIZED = 401
# It documents no rate-limit answer, but a 429 from it or a proxy in front means wait, and 5xx
# means its side failed: both are worth a retry.
HTTP_TOO_MANY_REQUESTS = 429
HTTP_SERVER_ERROR = 500

# What Africa's Talking did with the one recipient of a send, by the statusCode it answered.
SENT, RETRY, FAILED = "sent", "retry", "failed"
RECIPIENT_OUTCOMES = {
    100: SENT,  # Processed: taken; the delivery report follows
    101: SENT,  # Sent: handed to the telco
    102: SENT,  # Queued: queued on its side, goes out shortly
    401: FAILED,  # RiskHold: its fraud check holds the message until its support clears it
    402: FAILED,  # InvalidSenderId: the shortcode is not ours, or not live on this network
    403: FAILED,  # InvalidPhoneNumber
    404: FAILED,  # UnsupportedNumberType: a number that cannot receive SMS this way
    405: FAILED,  # InsufficientBalance: resending fails the same until someone tops up
    406: FAILED,  # UserInBlacklist: the person opted out of our shortcode (AT_USER_IN_BLACKLIST)
    407: FAILED,  # CouldNotRoute: no route from our shortcode to this number's network
    409: FAILED,  # DoNotDisturbRejection: Nigeria's promotional-hours rule; answered with HTTP 409
    500: RETRY,  # InternalServerError: its side failed before sending
    501: RETRY,  # GatewayError: the way to the telco failed before sending
    502: FAILED,  # RejectedByGateway: the telco's gateway refused this message
}
# The number is blacklisted from our shortcode (the person opted out of it): sending again is
# refused until they opt back in, so we stop the contact, as Twilio's 21610 does.
AT_USER_IN_BLACKLIST = 406

# Delivery report status words mapped to ours. "Failed" and "AbsentSubscriber" (phone off or out
# of coverage) reached the telco but not the handset; "Rejected" and "Expired" (discarded by the
# telco's firewall, which flagged the text or the sender) never went to the handset. Submitted
# and Buffered are interim: the telco has it, which "sent" already told us.
DELIVERY_STATUSES = {
    "sent": "sent",
    "success": "delivered",
    "failed": "undelivered",
    "absentsubscriber": "undelivered",
    "rejected": "failed",
    "expired": "failed",
}
# Delivery failure reasons that mean the person opted out of our shortcode. Reports spell it
# "UserInBlackList" and send answers "UserInBlacklist", so they are compared lower-cased.
STOPPING_FAILURE_REASONS = frozenset({"userinblacklist"})


def verify(secret_in_url: str | None, settings: Settings) -> bool:
    """Tell whether a callback carries our webhook secret; with no secret set, accept nothing."""
    expected = settings.africastalking_webhook_secret
    if not expected or not secret_in_url:
        return False
    return hmac.compare_digest(secret_in_url.encode(), expected.encode())


def parse(form: Mapping[str, str]) -> Inbound | None:
    """Turn an incoming-message callback into an Inbound, or None if it is not a message."""
    provider_id = form.get("id") or ""
    address = e164(form.get("from") or "")
    if not provider_id or len(provider_id) > MAX_ID_LENGTH or address is None:
        # A delivery report posted to the incoming URL has an id but no sender.
        return None
    return Inbound(
        channel=SMS,
        address=address,
        text=form.get("text") or "",
        provider_id=provider_id,
        received_at=clock.now(),
        provider=AFRICASTALKING,
        link_id=link_id(form),
    )


def link_id(form: Mapping[str, str]) -> str | None:
    """Read the linkId of an incoming message, which a reply to it echoes (`Outbound.link_id`).

    Premium and on-demand shortcodes bill and route a reply by the linkId of the message it
    answers; a standard two-way shortcode sends none, and a reply then goes without one.
    """
    found = form.get("linkId") or None
    return found if found is None or len(found) <= MAX_ID_LENGTH else None


def parse_delivery(form: Mapping[str, str]) -> DeliveryStatus | None:
    """Turn a delivery report into a DeliveryStatus, or None when it changes nothing for us."""
    provider_id = form.get("id") or ""
    status = DELIVERY_STATUSES.get((form.get("status") or "").lower())
    if not provider_id or status is None:
        return None
    return DeliveryStatus(
        provider_id=provider_id, status=status, error=form.get("failureReason") or None
    )


def stops_contact(form: Mapping[str, str]) -> bool:
    """Tell whether a delivery report says the person opted out of our shortcode."""
    return (form.get("failureReason") or "").lower() in STOPPING_FAILURE_REASONS


def send(out: Outbound, settings: Settings) -> SendResult:
    """Hand one SMS to Africa's Talking, echoing the linkId of a reply; say how it went."""
    if out.channel != SMS:
        return SendResult.failed(f"africastalking sends sms, not {out.channel}")
    if not (
        settings.africastalking_username
        and settings.africastalking_api_key
        and settings.africastalking_shortcode
    ):
        return SendResult.failed("africastalking is not configured to send sms")
    form = {
        "username": settings.africastalking_username,
        "to": out.to,
        "message": out.body,
        "from": settings.africastalking_shortcode,
    }
    if out.link_id:
        form["linkId"] = out.link_id
    url = settings.africastalking_api_base_url.rstrip("/") + MESSAGING_PATH
    try:
        answer = _session(settings.africastalking_api_key).post(
            url, data=form, timeout=settings.send_timeout_seconds
        )
    except requests.ReadTimeout as exc:
        # It got the request and did not answer in time: it may have sent it, and resending
        # could text the person twice, so we record it as unknown.
        return SendResult.unknown(f"africastalking did not answer: {exc!r}")
    except requests.RequestException as exc:
        # Refused connections and connect timeouts: it never saw the request.
        return SendResult.retry(f"africastalking unreachable: {exc!r}")
    except Exception as exc:  # a send must never crash the job that called it
        log.exception("unexpected error sending message %s via africastalking", out.message_id)
        return SendResult.failed(f"africastalking send error: {exc!r}")
    return _answer(answer)


@lru_cache(maxsize=4)
def _session(api_key: str) -> requests.Session:
    """Open one session per API key and process, so that its connections stay open."""
    session = requests.Session()
    # Without Accept it answers in XML.
    session.headers.update({"apiKey": api_key, "Accept": "application/json"})
    return session


def _answer(answer: requests.Response) -> SendResult:
    """Classify Africa's Talking's answer to a send."""
    status = answer.status_code
    detail = f"africastalking HTTP {status}: {answer.text[:200]}"
    if status == HTTP_UNAUTHORIZED:
        return SendResult.failed(f"africastalking refused our username or API key: {detail}")
    if status == HTTP_TOO_MANY_REQUESTS or status >= HTTP_SERVER_ERROR:
        return SendResult.retry(detail, retry_after=_retry_after(answer))
    message_data = _message_data(answer)
    recipients = message_data.get("Recipients")
    if not isinstance(recipients, list) or not recipients or not isinstance(recipients[0], dict):
        # No recipient at all: it refused the whole request and says why in its Message
        # (e.g. "InvalidSenderId"), or the answer is not its JSON.
        summary = message_data.get("Message") or answer.text[:200]
        return SendResult.failed(f"africastalking HTTP {status}: {summary}")
    # We send to one number at a time, so the first recipient is the only one.
    return _recipient_result(recipients[0])


def _recipient_result(recipient: Mapping[str, Any]) -> SendResult:
    """Classify what Africa's Talking did with the one recipient of a send."""
    word = str(recipient.get("status") or "")
    try:
        code = int(recipient.get("statusCode"))
    except (TypeError, ValueError):
        code = None
    error = f"africastalking {code} {word}"
    outcome = _outcome(code, word)
    if outcome == SENT:
        return SendResult.sent(str(recipient.get("messageId") or "") or None)
    if outcome == RETRY:
        return SendResult.retry(error)
    return SendResult.failed(error, stop_contact=code == AT_USER_IN_BLACKLIST)


def _outcome(code: int | None, word: str) -> str:
    """Look a recipient statusCode up, judging one added after our table by its family."""
    if code is None:
        # An answer without a statusCode: only the word "Success" says it was taken.
        return SENT if word == "Success" else FAILED
    if code in RECIPIENT_OUTCOMES:
        return RECIPIENT_OUTCOMES[code]
    if code < 200:
        return SENT
    return RETRY if code >= HTTP_SERVER_ERROR else FAILED


def _message_data(answer: requests.Response) -> dict[str, Any]:
    """Read the SMSMessageData object of the answer; empty if the answer is not its JSON."""
    try:
        data = answer.json()
    except ValueError:
        return {}
    message_data = data.get("SMSMessageData") if isinstance(data, dict) else None
    return message_data if isinstance(message_data, dict) else {}


def _retry_after(answer: requests.Response) -> float | None:
    """Read a Retry-After given in seconds, or None."""
    try:
        return max(float(answer.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return None


# Its fetch answers the messages after lastReceivedId, oldest first, a batch at a time; "0" starts
# from the first it kept. A cap keeps one run short; the next run continues from where it stopped.
FIRST_RECEIVED_ID = "0"
MAX_FETCH_PAGES = 20


def received_after(settings: Settings, last_received_id: str | None) -> list[Inbound]:
    """List what people sent to our shortcode after that message id, from Africa's Talking's own
    records, oldest first, for the callbacks we may have missed."""
    if not (settings.africastalking_username and settings.africastalking_api_key):
        return []
    url = settings.africastalking_api_base_url.rstrip("/") + MESSAGING_PATH
    cursor = last_received_id or FIRST_RECEIVED_ID
    received = []
    for _ in range(MAX_FETCH_PAGES):
        answer = _session(settings.africastalking_api_key).get(
            url,
            params={"username": settings.africastalking_username, "lastReceivedId": cursor},
            timeout=settings.send_timeout_seconds,
        )
        answer.raise_for_status()
        messages = _message_data(answer).get("Messages")
        if not isinstance(messages, list) or not messages:
            break
        for message in messages:
            if not isinstance(message, dict):
                continue
            form = {key: str(value) for key, value in message.items() if value is not None}
            inbound = parse(form)
            if inbound is not None:
                received_at = _received_at(form.get("date")) or inbound.received_at
                received.append(replace(inbound, received_at=received_at))
        last = messages[-1].get("id") if isinstance(messages[-1], dict) else None
        if last is None or str(last) == cursor:
            break
        cursor = str(last)
    return received


def _received_at(date: str | None) -> datetime | None:
    """Read its message date ("2026-12-01T08:34:18.445Z"), or None."""
    try:
        return clock.aware(datetime.fromisoformat(date or ""))
    except ValueError:
        return None
