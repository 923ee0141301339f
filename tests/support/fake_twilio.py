"""A fake Twilio Messages API on loopback: records what the bot sends, answers like Twilio.

In tests::

    twilio = FakeTwilio().start()   # TWILIO_API_BASE_URL = twilio.url
    twilio.fail_next(1, 400, code=21610)
    ...
    assert twilio.sent_bodies(to="+15550001") == ["Welcome!"]
    twilio.stop()

A phone texting our number: ``twilio.receive_sms("+15550001", "HELP", webhook_url, token)``
keeps the message in the Messages list (``GET …/Messages.json``, filtered by To, From and
DateSent, newest first, page by page) and posts the signed webhook once, then once to the
fallback URL, then drops it, as Twilio does by default: what both missed is only in the list.

As a process (end-to-end tests): ``python -m tests.support.fake_twilio --port 8082`` prints its
URL and serves until killed; ``GET /__requests`` lists the calls, ``DELETE /__requests``
forgets them, ``POST /__fail`` with ``{"n": 1, "status": 400, "code": 21610}`` or
``{"rate": 0.3, "status": 500}`` scripts failures, ``POST /__opt_out`` with
``{"to": "+15550001"}`` makes the carrier refuse that number as if it had texted STOP, and
``POST /__receive`` with ``{"from": "+15550001", "text": "HELP", "webhook_url": "…",
"auth_token": "…"}`` makes a phone text us.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from datetime import UTC, datetime
from email.message import Message
from email.utils import format_datetime, formatdate
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlencode

import requests
from twilio.request_validator import RequestValidator

from tests.support.drivers import SMS_FROM, TWILIO_SID, WHATSAPP_FROM
from tests.support.fake_http import (
    FakeProvider,
    flatten,
    process_arguments,
    serve_until_killed,
    status_phrase,
)

API_VERSION = "2010-04-01"
MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>AC\w+)/Messages\.json$")
# Twilio's limit on a message body: longer ones are refused with 21617, not split.
MAX_BODY_LENGTH = 1600
# Twilio error codes the fake gives for the requests a real account would refuse.
ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
}
# The Messages list answers 50 a page unless asked for another PageSize, at most 1,000.
PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
# Twilio waits this long for a webhook's answer, then counts it failed.
WEBHOOK_TIMEOUT_SECONDS = 15.0


class FakeTwilio(FakeProvider):
    """A loopback Twilio REST API that accepts messages and refuses them when told to."""

    error_field = "message"
    fail_options = ("code", "message")

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, auth_token: str | None = None
    ) -> None:
        super().__init__(host, port)
        self.auth_token = auth_token  # when set, other credentials get 401 (code 20003)
        self._opted_out: set[str] = set()
        self._received: list[dict[str, Any]] = []  # what phones sent us, for the Messages list

    @property
    def url(self) -> str:
        """The value for TWILIO_API_BASE_URL: an origin standing in for https://api.twilio.com."""
        return self.origin

    # -- what was sent ---------------------------------------------------------------------

    def messages(self) -> list[dict[str, Any]]:
        """The form of every message Twilio accepted."""
        return [r["params"] for r in self.requests if r["status"] == 201]

    def sent_bodies(self, to: str | None = None) -> list[str]:
        """Bodies of accepted messages, optionally to one address ("+1…" or "whatsapp:+1…")."""
        return [m.get("Body", "") for m in self.messages() if to is None or m.get("To") == to]

    def clear(self) -> None:
        """Forget calls, scripted failures and opt-outs."""
        super().clear()
        with self._lock:
            self._opted_out.clear()
            self._received.clear()

    # -- scripted failures -----------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        body: dict[str, Any] | None = None,
        *,
        code: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next n message requests with an error instead."""
        failure = {"status": status, "body": body or error_body(status, code, message)}
        self._script_failures(n, failure)

    def failure_body(self, status: int) -> dict[str, Any]:
        """Twilio's error JSON for a scripted failure with this status."""
        return error_body(status)

    def opt_out(self, number: str) -> None:
        """Refuse messages to this number with 21610, as the carrier does after STOP."""
        with self._lock:
            self._opted_out.add(number)

    def control(self, path: str, spec: dict[str, Any]) -> bool:
        """Serve POST /__opt_out, which makes the carrier refuse {"to": number}, and POST
        /__receive, which makes a phone text us."""
        if path == "/__opt_out":
            self.opt_out(spec["to"])
            return True
        if path == "/__receive":
            self.receive_sms(spec["from"], spec["text"], spec["webhook_url"], spec["auth_token"])
            return True
        return False

    # -- phones texting our numbers --------------------------------------------------------

    def keep(
        self, sender: str, text: str, to: str | None = None, account_sid: str = TWILIO_SID
    ) -> dict[str, Any]:
        """Put a message from a phone in the Messages list, as Twilio keeps one; return it."""
        to = to or (WHATSAPP_FROM if sender.startswith("whatsapp:") else SMS_FROM)
        received = datetime.now(UTC)
        sid = "SM" + secrets.token_hex(16)
        stamp = format_datetime(received, usegmt=True)  # to the second, as Twilio shows it
        message = {
            "account_sid": account_sid, "api_version": API_VERSION, "body": text,
            "date_created": stamp, "date_sent": stamp, "date_updated": stamp,
            "direction": "inbound", "error_code": None, "error_message": None, "from": sender,
            "messaging_service_sid": None, "num_media": "0", "num_segments": "1",
            "price": None, "price_unit": "USD", "sid": sid, "status": "received", "to": to,
            "uri": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json",
        }  # fmt: skip
        with self._lock:
            self._received.append(message | {"_at": received.replace(microsecond=0)})
        return message

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every message phones sent us, oldest first, as the Messages list shows it."""
        with self._lock:
            return [_shown(message) for message in self._received]

    def receive_sms(
        self,
        sender: str,
        text: str,
        webhook_url: str,
        auth_token: str,
        fallback_url: str | None = None,
        timeout: float = WEBHOOK_TIMEOUT_SECONDS,
    ) -> dict[str, Any]:
        """Take a text from a phone and post its signed webhook once, then once to the fallback
        URL (the same one unless given) if that failed, then drop it; return its MessageSid and
        each post's HTTP status (0: no answer)."""
        message = self.keep(sender, text)
        sid = message["sid"]
        form = {
            "ToCountry": "US", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid,
            "SmsStatus": "received", "Body": text, "To": message["to"], "NumSegments": "1",
            "MessageSid": sid, "AccountSid": message["account_sid"], "From": sender,
            "ApiVersion": API_VERSION,
        }  # fmt: skip
        statuses = []
        for url in (webhook_url, fallback_url or webhook_url):
            signature = RequestValidator(auth_token).compute_signature(url, form)
            try:
                status = requests.post(
                    url, data=form, headers={"X-Twilio-Signature": signature}, timeout=timeout
                ).status_code
            except requests.RequestException:
                status = 0
            statuses.append(status)
            if 200 <= status < 300:
                break
        return {"sid": sid, "attempts": statuses}

    # -- the Messages API ------------------------------------------------------------------

    def answer(self, account_sid: str, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Accept or refuse one message the way Twilio would."""
        to = form.get("To")
        if not to:
            return _refusal(21604)
        sender, service = form.get("From"), form.get("MessagingServiceSid")
        if not sender and not service:
            return _refusal(21603)
        body = form.get("Body")
        if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
            return _refusal(21602)
        if body and len(body) > MAX_BODY_LENGTH:
            return _refusal(21617)
        with self._lock:
            opted_out = to.removeprefix("whatsapp:") in self._opted_out
        if opted_out:
            return _refusal(21610)
        sid = "SM" + secrets.token_hex(16)
        now = formatdate(usegmt=True)
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
        return 201, {
            "account_sid": account_sid,
            "api_version": API_VERSION,
            "body": body or "",
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # With a Messaging Service and no From, Twilio first accepts, then picks a sender.
            "status": "queued" if sender else "accepted",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }

    def handle(
        self, method: str, path: str, authorization: str | None, form: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """Record a call and answer it, or fail it as scripted."""
        match = MESSAGES_PATH.match(path)
        account_sid = match["account"] if match else None
        if match is None or method != "POST":
            status, body = _refusal(20404)
        elif not self._authorized(account_sid, authorization):
            status, body = _refusal(20003)
        elif (failure := self._take_failure()) is not None:
            status, body = failure["status"], failure["body"]
        else:
            status, body = self.answer(account_sid, form)
        record = {
            "method": method,
            "path": path,
            "account_sid": account_sid,
            "params": form,
            "status": status,
            "sid": body.get("sid") if status == 201 else None,
            "at": time.time(),
        }
        self._record(record)
        return status, body

    def _authorized(self, account_sid: str | None, authorization: str | None) -> bool:
        """Check HTTP basic auth: the account SID as user, and the token when we know it."""
        if not authorization or not authorization.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == account_sid and self.auth_token in (None, password)

    def receive(
        self, command: str, url: SplitResult, headers: Message, raw: bytes
    ) -> tuple[int, Any]:
        """Decode the form-encoded call as Twilio does, then handle it."""
        if command == "GET" and MESSAGES_PATH.match(url.path):
            return self.list_messages(url, headers.get("Authorization"))
        form = flatten(parse_qs(raw.decode("utf-8"), keep_blank_values=True))
        return self.handle(command, url.path, headers.get("Authorization"), form)

    def list_messages(self, url: SplitResult, authorization: str | None) -> tuple[int, Any]:
        """Serve the Messages list: the account's received messages filtered by To, From and
        DateSent (>, <, or the day), newest first, a page at a time with next_page_uri."""
        account_sid = MESSAGES_PATH.match(url.path)["account"]
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if not self._authorized(account_sid, authorization):
            status, body = _refusal(20003)
        else:
            status, body = 200, self._page(url.path, account_sid, query)
        self._record(
            {
                "method": "GET", "path": url.path, "account_sid": account_sid, "params": query,
                "status": status, "sid": None, "at": time.time(),
            }
        )  # fmt: skip
        return status, body

    def _page(self, path: str, account_sid: str, query: dict[str, str]) -> dict[str, Any]:
        after, before = _instant(query.get("DateSent>")), _instant(query.get("DateSent<"))
        on_day = _instant(query.get("DateSent"))
        with self._lock:
            listed = [
                m
                for m in self._received
                if m["account_sid"] == account_sid
                and m["to"] == query.get("To", m["to"])
                and m["from"] == query.get("From", m["from"])
                and (after is None or m["_at"] >= after)
                and (before is None or m["_at"] <= before)
                and (on_day is None or m["_at"].date() == on_day.date())
            ]
        listed.reverse()  # newest first
        size = min(int(query.get("PageSize") or PAGE_SIZE), MAX_PAGE_SIZE)
        page = int(query.get("Page") or 0)
        chunk = listed[page * size : (page + 1) * size]

        def uri(number: int) -> str:
            return f"{path}?{urlencode(query | {'PageSize': size, 'Page': number})}"

        more = (page + 1) * size < len(listed)
        return {
            "first_page_uri": uri(0),
            "end": page * size + max(len(chunk) - 1, 0),
            "previous_page_uri": uri(page - 1) if page else None,
            "messages": [_shown(m) for m in chunk],
            "uri": uri(page),
            "page_size": size,
            "start": page * size,
            # Twilio adds a PageToken; our pages are numbered, which the client follows alike.
            "next_page_uri": uri(page + 1) if more else None,
            "page": page,
        }


def error_body(status: int, code: int | None = None, message: str | None = None) -> dict[str, Any]:
    """Twilio's JSON for a refused request."""
    code = code or (20429 if status == 429 else status)
    default = ERRORS.get(code, (status, status_phrase(status)))[1]
    return {
        "code": code,
        "message": message or default,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _shown(message: dict[str, Any]) -> dict[str, Any]:
    """A received message as the Messages list shows it, without our own bookkeeping."""
    return {key: value for key, value in message.items() if not key.startswith("_")}


def _instant(value: str | None) -> datetime | None:
    """Read a DateSent filter: "2026-12-01T15:00:00Z" as twilio's client writes it, or a day."""
    if not value:
        return None
    found = datetime.fromisoformat(value)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _refusal(code: int) -> tuple[int, dict[str, Any]]:
    status = ERRORS[code][0]
    return status, error_body(status, code)


def main(argv: list[str] | None = None) -> None:
    """Serve a fake Twilio API until killed, printing its URL first."""
    parser = process_arguments(__doc__.splitlines()[0])
    parser.add_argument("--auth-token", default=None, help="answer 401 to any other token")
    args = parser.parse_args(argv)
    serve_until_killed(FakeTwilio(args.host, args.port, auth_token=args.auth_token))


if __name__ == "__main__":
    main()
