"""Africa's Talking's SMS API faked at HTTP with `responses`: takes, refuses, records."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import responses

LIVE_API = "https://api.africastalking.com"
MESSAGING_PATH = "/version1/messaging"
# Its answer to a wrong username or API key: plain text, not JSON.
BAD_CREDENTIALS = "The supplied authentication is invalid"
# A refused recipient gets the string "None" as its messageId.
NO_MESSAGE_ID = "None"
SENT_CODE, SENT_WORD = 101, "Success"
COST = "KES 0.8000"


class AfricasTalkingAPI:
    """What our client posted to Africa's Talking, and scripted answers for the next sends."""

    def __init__(
        self, mock: responses.RequestsMock, base_url: str = LIVE_API, api_key: str | None = None
    ) -> None:
        self.sent: list[dict[str, str]] = []  # accepted forms, each with the messageId it got
        self.attempts: list[dict[str, str]] = []  # every posted form, accepted or not
        self.headers: list[dict[str, str]] = []  # the headers of every attempt
        self.timeouts: list[object] = []  # the timeout our client gave every attempt
        self._api_key = api_key  # when set, any other apiKey is refused as the API does
        self._script: list[tuple[int, dict[str, Any] | str] | Exception] = []
        mock.add_callback(
            responses.POST, base_url.rstrip("/") + MESSAGING_PATH, callback=self._answer
        )
        # Its fetch-messages API: what people sent our shortcode as it kept it, each fetch we
        # made, and how many it answers at a time.
        self.inbox: list[dict[str, Any]] = []
        self.fetches: list[dict[str, str]] = []
        self.batch_size = 25
        self._fetch_failures: list[int] = []
        self._ids = itertools.count(15071)  # its fetched ids are numbers that only grow
        self._mock, self._fetch_url, self._serving_fetch = mock, base_url.rstrip("/"), False
        # A mock that insists every registered request is made gets the fetch API only once a
        # test uses it.
        if not mock.assert_all_requests_are_fired:
            self._serve_fetch()

    def _serve_fetch(self) -> None:
        if not self._serving_fetch:
            self._serving_fetch = True
            self._mock.add_callback(
                responses.GET,
                re.compile(re.escape(self._fetch_url + MESSAGING_PATH) + r"\?"),
                callback=self._fetch,
            )

    def keep(
        self, number: str, text: str, date: datetime, shortcode: str, link_id: str | None = None
    ) -> str:
        """Put a message in its fetch list, as its API shows one; return its id."""
        self._serve_fetch()
        message = {
            "id": next(self._ids), "from": number, "to": shortcode, "text": text,
            "linkId": link_id, "date": date.isoformat(timespec="milliseconds"),
        }  # fmt: skip
        self.inbox.append(message)
        return str(message["id"])

    def fail_fetch_next(self, n: int = 1, status: int = 500) -> None:
        """Refuse the next n fetches with this HTTP status."""
        self._serve_fetch()
        self._fetch_failures.extend([status] * n)

    def reply_next(self, http_status: int, body: dict[str, Any] | str, n: int = 1) -> None:
        """Answer the next n sends with this HTTP status and body (JSON if a dict)."""
        self._script.extend([(http_status, body)] * n)

    def answer_next(
        self, status_code: int, status: str, n: int = 1, http_status: int = 201
    ) -> None:
        """Answer the next n sends with this recipient statusCode and status word."""
        self._script.extend([(http_status, _recipient(status_code, status))] * n)

    def break_next(self, error: Exception, n: int = 1) -> None:
        """Raise this requests error for the next n sends: a refused connection, a timeout."""
        self._script.extend([error] * n)

    def to(self, number: str) -> list[str]:
        """Texts accepted for one recipient ('+2547…')."""
        return [form["message"] for form in self.sent if form.get("to") == number]

    def _answer(self, request):
        form = dict(parse_qsl(request.body or "", keep_blank_values=True))
        self.attempts.append(form)
        self.headers.append(dict(request.headers))
        self.timeouts.append(getattr(request, "req_kwargs", {}).get("timeout"))
        if self._api_key is not None and request.headers.get("apiKey") != self._api_key:
            return 401, {"Content-Type": "text/plain"}, BAD_CREDENTIALS
        if self._script:
            scripted = self._script.pop(0)
            if isinstance(scripted, Exception):
                return scripted
            status, body = scripted
            if isinstance(body, dict):
                return status, {"Content-Type": "application/json"}, json.dumps(body)
            return status, {"Content-Type": "text/plain"}, body
        message_id = "ATXid_" + uuid.uuid4().hex
        self.sent.append(form | {"messageId": message_id})
        body = _recipient(SENT_CODE, SENT_WORD, number=form.get("to", ""), message_id=message_id)
        return 201, {"Content-Type": "application/json"}, json.dumps(body)

    def _fetch(self, request):
        """Answer the messages after lastReceivedId, oldest first, a batch at a time."""
        query = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
        self.fetches.append(query)
        if self._api_key is not None and request.headers.get("apiKey") != self._api_key:
            return 401, {"Content-Type": "text/plain"}, BAD_CREDENTIALS
        if self._fetch_failures:
            return self._fetch_failures.pop(0), {"Content-Type": "text/plain"}, "error"
        after = int(query.get("lastReceivedId") or 0)
        batch = [m for m in self.inbox if m["id"] > after][: self.batch_size]
        body = {"SMSMessageData": {"Messages": batch}}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)


def _recipient(
    status_code: int, status: str, number: str = "+254712345678", message_id: str | None = None
) -> dict[str, Any]:
    """Build its answer for a send to one number, taken (1xx) or refused."""
    taken = status_code < 200
    recipient = {
        "cost": COST if taken else "0",
        "messageId": message_id or ("ATXid_" + uuid.uuid4().hex if taken else NO_MESSAGE_ID),
        "number": number,
        "status": status,
        "statusCode": status_code,
    }
    summary = f"Sent to {int(taken)}/1 Total Cost: {recipient['cost']}"
    return {"SMSMessageData": {"Message": summary, "Recipients": [recipient]}}
