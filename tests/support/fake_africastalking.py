"""A fake Africa's Talking SMS API on loopback: takes what the bot sends, keeps what phones text.

In tests and benchmarks::

    at = FakeAfricasTalking(api_key=AT_API_KEY).start()  # AFRICASTALKING_API_BASE_URL = at.url
    at.receive_sms("+254711000001", "HELP", webhook_url)  # a phone texts the shortcode
    ...
    assert at.sent_texts(to="+254711000001") == ["Reply JOIN …"]
    at.stop()

`receive_sms` keeps the message in the fetch inbox (`GET /version1/messaging`) and posts its
callback form to our webhook, a few tries a second apart, then gives up: what it could not
deliver stays in the inbox for reconciliation to fetch.

As a process: ``python -m tests.support.fake_africastalking --port 8083`` prints its URL and
serves until killed; ``GET /__requests``, ``DELETE /__requests`` and ``POST /__fail`` (``{"n":
1, "status": 500}``, or ``{"n": 1, "status_code": 406}`` for a refused recipient) as for every
fake, and ``POST /__receive`` with ``{"from": "+2547…", "text": "HELP", "webhook_url": "…"}``
makes a phone text the shortcode.
"""

from __future__ import annotations

import itertools
import secrets
import time
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import SplitResult, parse_qs

import requests

from tests.support.drivers import AT_SHORTCODE, SAFARICOM
from tests.support.fake_http import (
    FakeProvider,
    flatten,
    process_arguments,
    serve_until_killed,
    status_phrase,
)

MESSAGING_PATH = "/version1/messaging"
# Its answer to a wrong username or API key: plain text, not JSON.
BAD_CREDENTIALS = "The supplied authentication is invalid"
SENT_CODE, SENT_WORD = 101, "Success"
COST = "KES 0.8000"
# The recipient status words of the statusCodes a scripted refusal may give.
RECIPIENT_WORDS = {
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}
# A refused recipient gets the string "None" as its messageId.
NO_MESSAGE_ID = "None"
# Its fetch answers the messages after lastReceivedId a batch at a time, oldest first.
FETCH_BATCH = 25
# It retries a callback that did not answer 2xx only briefly, then keeps the message for fetch.
CALLBACK_TRIES = 3
CALLBACK_INTERVAL_SECONDS = 1.0
CALLBACK_TIMEOUT_SECONDS = 10.0
# Its fetched ids are integers that only grow.
FIRST_ID = 15071


class FakeAfricasTalking(FakeProvider):
    """A loopback Africa's Talking SMS API: sends, the fetch inbox, and phones texting us."""

    error_field = "message"
    fail_options = ("status_code",)

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        username: str | None = None,
        shortcode: str = AT_SHORTCODE,
    ) -> None:
        super().__init__(host, port)
        # When set, any other apiKey (or username) is refused as the API does.
        self.api_key, self.username, self.shortcode = api_key, username, shortcode
        self.batch_size = FETCH_BATCH
        self._inbox: list[dict[str, Any]] = []
        self._ids = itertools.count(FIRST_ID)

    @property
    def url(self) -> str:
        """The value for AFRICASTALKING_API_BASE_URL, standing in for api.africastalking.com."""
        return self.origin

    # -- what was sent ---------------------------------------------------------------------

    def messages(self) -> list[dict[str, Any]]:
        """The form of every message it took, with the messageId it answered."""
        return [
            r["params"] | {"messageId": r["message_id"]} for r in self.requests if r["message_id"]
        ]

    def sent_texts(self, to: str | None = None) -> list[str]:
        """Texts it took, optionally for one recipient ('+2547…')."""
        return [m.get("message", "") for m in self.messages() if to is None or m.get("to") == to]

    def clear(self) -> None:
        """Forget calls, scripted failures and the inbox."""
        super().clear()
        with self._lock:
            self._inbox.clear()

    # -- scripted failures -----------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        body: dict[str, Any] | None = None,
        *,
        status_code: int | None = None,
    ) -> None:
        """Answer the next n sends with an HTTP error, or (status_code) refuse their recipient."""
        if status_code is not None:
            failure = {"status": 201, "body": body or _recipient(status_code)}
        else:
            failure = {"status": status, "body": body or self.failure_body(status)}
        self._script_failures(n, failure | {"method": "POST"})

    def failure_body(self, status: int) -> Any:
        """Its plain-text answer to a request it failed."""
        return status_phrase(status)

    # -- phones texting the shortcode ------------------------------------------------------

    def keep(self, sender: str, text: str, link_id: str | None = None) -> dict[str, Any]:
        """Put a message from a phone in the fetch inbox, as its API shows one; return it."""
        received = datetime.now(UTC)
        with self._lock:
            message = {
                "linkId": link_id, "text": text, "to": self.shortcode, "id": next(self._ids),
                "date": received.strftime("%Y-%m-%dT%H:%M:%S.") + f"{received:%f}"[:3] + "Z",
                "from": sender,
            }  # fmt: skip
            self._inbox.append(message)
        return dict(message)

    @property
    def inbox(self) -> list[dict[str, Any]]:
        """Every message phones sent the shortcode, oldest first."""
        with self._lock:
            return [dict(message) for message in self._inbox]

    def receive_sms(
        self,
        sender: str,
        text: str,
        webhook_url: str,
        link_id: str | None = None,
        tries: int = CALLBACK_TRIES,
        interval: float = CALLBACK_INTERVAL_SECONDS,
        timeout: float = CALLBACK_TIMEOUT_SECONDS,
    ) -> dict[str, Any]:
        """Take a text from a phone and post its callback until one answers 2xx or the tries
        run out; return the message's id and each try's HTTP status (0: no answer)."""
        message = self.keep(sender, text, link_id)
        form = {
            "from": sender, "to": self.shortcode, "text": text, "id": str(message["id"]),
            # The callback's date has no T and no fraction, unlike the fetched one.
            "date": message["date"][:19].replace("T", " "), "networkCode": SAFARICOM,
        }  # fmt: skip
        if link_id:
            form["linkId"] = link_id
        return {"id": form["id"], "attempts": _post(webhook_url, form, tries, interval, timeout)}

    def control(self, path: str, spec: dict[str, Any]) -> bool:
        """Serve POST /__receive: a phone texts {"from", "text"} with our callback at
        {"webhook_url"}."""
        if path != "/__receive":
            return False
        self.receive_sms(spec["from"], spec["text"], spec["webhook_url"], spec.get("linkId"))
        return True

    # -- the SMS API -----------------------------------------------------------------------

    def receive(
        self, command: str, url: SplitResult, headers: Message, raw: bytes
    ) -> tuple[int, Any]:
        """Answer a send (POST) or a fetch (GET) on /version1/messaging, and log it."""
        if command == "POST":
            params = flatten(parse_qs(raw.decode("utf-8"), keep_blank_values=True))
        else:
            params = flatten(parse_qs(url.query, keep_blank_values=True))
        message_id = None
        if url.path != MESSAGING_PATH or command not in ("GET", "POST"):
            status, body = 404, status_phrase(404)
        elif not self._authorized(headers.get("apiKey"), params.get("username")):
            status, body = 401, BAD_CREDENTIALS
        elif command == "GET":
            status, body = 200, self._fetch(params.get("lastReceivedId"))
        elif (failure := self._take_failure("POST")) is not None:
            status, body = failure["status"], failure["body"]
        else:
            status, body = self._send(params)
            message_id = body["SMSMessageData"]["Recipients"][0]["messageId"]
        self._record(
            {
                "method": command, "path": url.path, "params": params, "status": status,
                "message_id": message_id, "at": time.time(),
            }
        )  # fmt: skip
        return status, body

    def _authorized(self, api_key: str | None, username: str | None) -> bool:
        return self.api_key in (None, api_key) and self.username in (None, username)

    def _send(self, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Take one message for one recipient, as its API answers a two-way shortcode send."""
        to, text = form.get("to"), form.get("message")
        if not to or not text:
            summary = "InvalidPhoneNumber" if not to else "Message is required"
            return 400, {"SMSMessageData": {"Message": summary, "Recipients": []}}
        message_id = "ATXid_" + secrets.token_hex(16)
        return 201, _recipient(SENT_CODE, number=to, message_id=message_id)

    def _fetch(self, last_received_id: str | None) -> dict[str, Any]:
        """The messages after lastReceivedId, oldest first, a batch at a time."""
        try:
            after = int(last_received_id or 0)
        except ValueError:
            after = 0
        with self._lock:
            batch = [dict(m) for m in self._inbox if m["id"] > after][: self.batch_size]
        return {"SMSMessageData": {"Messages": batch}}


def _recipient(
    status_code: int, number: str = "+254712345678", message_id: str | None = None
) -> dict[str, Any]:
    """Its answer for a send to one number, taken (1xx) or refused."""
    taken = status_code < 200
    recipient = {
        "statusCode": status_code,
        "number": number,
        "status": SENT_WORD if taken else RECIPIENT_WORDS.get(status_code, "Failed"),
        "cost": COST if taken else "0",
        "messageId": message_id if taken else NO_MESSAGE_ID,
    }
    summary = f"Sent to {int(taken)}/1 Total Cost: {recipient['cost']}"
    return {"SMSMessageData": {"Message": summary, "Recipients": [recipient]}}


def _post(url: str, form: dict[str, str], tries: int, interval: float, timeout: float) -> list:
    """Post a callback up to `tries` times, `interval` apart, until one answers 2xx; return
    each try's status (0 when the connection failed or timed out)."""
    statuses = []
    for attempt in range(tries):
        if attempt:
            time.sleep(interval)
        try:
            status = requests.post(url, data=form, timeout=timeout).status_code
        except requests.RequestException:
            status = 0
        statuses.append(status)
        if 200 <= status < 300:
            break
    return statuses


def main(argv: list[str] | None = None) -> None:
    """Serve a fake Africa's Talking SMS API until killed, printing its URL first."""
    parser = process_arguments(__doc__.splitlines()[0])
    parser.add_argument("--api-key", default=None, help="answer 401 to any other apiKey")
    parser.add_argument("--username", default=None, help="answer 401 to any other username")
    args = parser.parse_args(argv)
    serve_until_killed(FakeAfricasTalking(args.host, args.port, args.api_key, args.username))


if __name__ == "__main__":
    main()
