"""The Twilio REST API faked at the HTTP boundary with `responses`: accepts, refuses, records."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import responses

MESSAGES_URL = re.compile(r"https://api\.twilio\.com/2010-04-01/Accounts/(\w+)/Messages\.json")


class TwilioAPI:
    """What our Twilio client posted, and scripted failures for the next calls."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.sent: list[dict[str, str]] = []
        self.attempts: list[dict[str, str]] = []
        self._failures: list[tuple[int, dict]] = []
        mock.add_callback(responses.POST, MESSAGES_URL, callback=self._answer)
        # Its Messages list: what people sent us, as Twilio kept it, and each page we asked for.
        self.received: list[dict] = []
        self.list_requests: list[dict[str, str]] = []
        self.page_size = 50
        self._list_failures: list[int] = []
        # A mock that insists every registered request is made gets the list only once a test
        # uses it.
        self._mock, self._serving_list = mock, False
        if not mock.assert_all_requests_are_fired:
            self._serve_list()

    def _serve_list(self) -> None:
        if not self._serving_list:
            self._serving_list = True
            self._mock.add_callback(responses.GET, MESSAGES_URL, callback=self._list)

    def keep(
        self,
        sid: str,
        from_: str,
        to: str,
        body: str,
        date_sent: datetime,
        direction: str = "inbound",
    ) -> None:
        """Put a message in Twilio's Messages list, as its REST resource shows one."""
        self._serve_list()
        self.received.append(
            {
                "sid": sid, "from": from_, "to": to, "body": body, "direction": direction,
                "num_media": "0", "status": "received" if direction == "inbound" else "sent",
                "date_sent": format_datetime(date_sent, usegmt=True), "_at": date_sent,
            }
        )  # fmt: skip

    def fail_list_next(self, n: int = 1, status: int = 500) -> None:
        """Refuse the next n reads of the Messages list with this HTTP status."""
        self._serve_list()
        self._list_failures.extend([status] * n)

    def fail_next(self, n: int = 1, status: int = 500, code: int | None = None) -> None:
        """Refuse the next n sends with this HTTP status and Twilio error code."""
        body = {"code": code or status * 100, "message": "refused", "status": status}
        self._failures.extend([(status, body)] * n)

    def to(self, address: str) -> list[str]:
        """Texts accepted for one recipient ('+1555…' or 'whatsapp:+1555…'); a content
        template's text is its first variable."""
        return [_text(form) for form in self.sent if form.get("To") == address]

    def quick_replies(self, address: str) -> list[dict[str, str]]:
        """The quick-reply buttons of the latest content message to a recipient: title and id
        (ContentVariables 2 and 3 for the first button, 4 and 5 for the next, …)."""
        sent = [form for form in self.sent if form.get("To") == address and "ContentSid" in form]
        assert sent, f"no content message was sent to {address}"
        variables = json.loads(sent[-1]["ContentVariables"])
        buttons, n = [], 2
        while str(n) in variables:
            buttons.append({"title": variables[str(n)], "id": variables[str(n + 1)]})
            n += 2
        return buttons

    def _answer(self, request):
        form = dict(parse_qsl(request.body or "", keep_blank_values=True))
        self.attempts.append(form)
        if self._failures:
            status, body = self._failures.pop(0)
            return status, {"Content-Type": "application/json"}, json.dumps(body)
        sid = "SM" + uuid.uuid4().hex
        self.sent.append(form | {"Sid": sid})
        body = {"sid": sid, "status": "queued", "to": form.get("To"), "body": form.get("Body")}
        return 201, {"Content-Type": "application/json"}, json.dumps(body)

    def _list(self, request):
        """Serve the Messages list filtered by To and DateSent>, newest first, page by page."""
        url = urlsplit(request.url)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        self.list_requests.append(query)
        if self._list_failures:
            status = self._list_failures.pop(0)
            body = {"code": 20500, "message": "list failed", "status": status}
            return status, {"Content-Type": "application/json"}, json.dumps(body)
        after = datetime.fromisoformat(query["DateSent>"]) if "DateSent>" in query else None
        listed = sorted(
            (
                m
                for m in self.received
                if m["to"] == query.get("To", m["to"]) and (after is None or m["_at"] >= after)
            ),
            key=lambda m: m["_at"],
            reverse=True,
        )
        page = int(query.get("Page", 0))
        chunk = listed[page * self.page_size : (page + 1) * self.page_size]
        more = (page + 1) * self.page_size < len(listed)
        next_query = urlencode(query | {"Page": page + 1, "PageToken": f"PA{page + 1}"})
        body = {
            "messages": [{k: v for k, v in m.items() if k != "_at"} for m in chunk],
            "page": page,
            "page_size": self.page_size,
            "next_page_uri": f"{url.path}?{next_query}" if more else None,
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(body)


def _text(form: dict[str, str]) -> str:
    if "Body" in form or "ContentVariables" not in form:
        return form.get("Body", "")
    return json.loads(form["ContentVariables"]).get("1", "")
