"""The Twilio REST API faked at the HTTP boundary with `responses`: accepts, refuses, records."""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import parse_qsl

import responses

MESSAGES_URL = re.compile(r"https://api\.twilio\.com/2010-04-01/Accounts/(\w+)/Messages\.json")


class TwilioAPI:
    """What our Twilio client posted, and scripted failures for the next calls."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.sent: list[dict[str, str]] = []
        self.attempts: list[dict[str, str]] = []
        self._failures: list[tuple[int, dict]] = []
        mock.add_callback(responses.POST, MESSAGES_URL, callback=self._answer)

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


def _text(form: dict[str, str]) -> str:
    if "Body" in form or "ContentVariables" not in form:
        return form.get("Body", "")
    return json.loads(form["ContentVariables"]).get("1", "")
