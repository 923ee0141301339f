"""A fake Twilio Messages API on loopback: records what the bot sends, answers like Twilio.

In tests::

    twilio = FakeTwilio().start()   # TWILIO_API_BASE_URL = twilio.url
    twilio.fail_next(1, 400, code=21610)
    ...
    assert twilio.sent_bodies(to="+15550001") == ["Welcome!"]
    twilio.stop()

As a process (end-to-end tests): ``python -m tests.support.fake_twilio --port 8082`` prints its
URL and serves until killed; ``GET /__requests`` lists the calls, ``DELETE /__requests``
forgets them, ``POST /__fail`` with ``{"n": 1, "status": 400, "code": 21610}`` or
``{"rate": 0.3, "status": 500}`` scripts failures, ``POST /__opt_out`` with
``{"to": "+15550001"}`` makes the carrier refuse that number as if it had texted STOP.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import random
import re
import secrets
import signal
import sys
import threading
import time
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
# Status 0 in a scripted failure means: drop the connection without answering.
DROP_CONNECTION = 0


class FakeTwilio:
    """A loopback Twilio REST API that accepts messages and refuses them when told to."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, auth_token: str | None = None
    ) -> None:
        self.host, self.port = host, port
        self.auth_token = auth_token  # when set, other credentials get 401 (code 20003)
        self._lock = threading.Lock()
        self._requests: list[dict[str, Any]] = []
        self._failures: list[dict[str, Any]] = []
        self._failure_rate: dict[str, Any] | None = None
        self._opted_out: set[str] = set()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        """Bind a free port on loopback and serve in a daemon thread."""
        self._server = ThreadingHTTPServer((self.host, self.port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        # A short poll interval lets stop() return at once instead of after half a second.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        threading.Thread(target=serve, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The value for TWILIO_API_BASE_URL: an origin standing in for https://api.twilio.com."""
        return f"http://{self.host}:{self.port}"

    # -- what was sent ---------------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every call received, oldest first: method, path, account_sid, params, status, sid."""
        with self._lock:
            return list(self._requests)

    def messages(self) -> list[dict[str, Any]]:
        """The form of every message Twilio accepted."""
        return [r["params"] for r in self.requests if r["status"] == 201]

    def sent_bodies(self, to: str | None = None) -> list[str]:
        """Bodies of accepted messages, optionally to one address ("+1…" or "whatsapp:+1…")."""
        return [m.get("Body", "") for m in self.messages() if to is None or m.get("To") == to]

    def clear(self) -> None:
        """Forget calls, scripted failures and opt-outs."""
        with self._lock:
            self._requests.clear()
            self._failures.clear()
            self._failure_rate = None
            self._opted_out.clear()

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
        with self._lock:
            self._failures.extend(dict(failure) for _ in range(n))

    def fail_rate(
        self, rate: float, status: int = 500, body: dict[str, Any] | None = None, seed: int = 0
    ) -> None:
        """Fail a random share of message requests from now on (rate 0 stops it)."""
        with self._lock:
            self._failure_rate = (
                {
                    "rate": rate,
                    "status": status,
                    "body": body or error_body(status),
                    "random": random.Random(seed),
                }
                if rate
                else None
            )

    def opt_out(self, number: str) -> None:
        """Refuse messages to this number with 21610, as the carrier does after STOP."""
        with self._lock:
            self._opted_out.add(number)

    def _take_failure(self) -> dict[str, Any] | None:
        with self._lock:
            if self._failures:
                return self._failures.pop(0)
            chance = self._failure_rate
            if chance and chance["random"].random() < chance["rate"]:
                return chance
        return None

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
        with self._lock:
            self._requests.append(record)
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


def error_body(status: int, code: int | None = None, message: str | None = None) -> dict[str, Any]:
    """Twilio's JSON for a refused request."""
    code = code or (20429 if status == 429 else status)
    default = ERRORS.get(code, (status, _phrase(status)))[1]
    return {
        "code": code,
        "message": message or default,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _refusal(code: int) -> tuple[int, dict[str, Any]]:
    status = ERRORS[code][0]
    return status, error_body(status, code)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _flatten(query: dict[str, list[str]]) -> dict[str, Any]:
    """One value per key as a string, several (MediaUrl) as a list."""
    return {key: values[0] if len(values) == 1 else values for key, values in query.items()}


class _Handler(BaseHTTPRequestHandler):
    """Route REST calls to the fake, and the /__ paths to its controls."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits
    # ~40 ms for the delayed ACK on every call, which would skew send benchmarks.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests read .requests; access logs would only be noise

    @property
    def fake(self) -> FakeTwilio:
        return self.server.fake  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path.startswith("/__"):
            self._control(url.path, raw)
            return
        form = _flatten(parse_qs(raw.decode("utf-8"), keep_blank_values=True))
        status, body = self.fake.handle(
            self.command, url.path, self.headers.get("Authorization"), form
        )
        if status == DROP_CONNECTION:
            self.close_connection = True
            return
        self._reply(status, body)

    def _control(self, path: str, raw: bytes) -> None:
        spec = json.loads(raw or b"{}") if self.command == "POST" else {}
        if path == "/__requests" and self.command == "GET":
            self._reply(200, self.fake.requests)
        elif path == "/__requests" and self.command == "DELETE":
            self.fake.clear()
            self._reply(200, {"ok": True})
        elif path == "/__fail" and self.command == "POST":
            if "rate" in spec:
                self.fake.fail_rate(spec["rate"], spec.get("status", 500), spec.get("body"))
            else:
                self.fake.fail_next(
                    spec.get("n", 1),
                    spec.get("status", 500),
                    spec.get("body"),
                    code=spec.get("code"),
                    message=spec.get("message"),
                )
            self._reply(200, {"ok": True})
        elif path == "/__opt_out" and self.command == "POST":
            self.fake.opt_out(spec["to"])
            self._reply(200, {"ok": True})
        else:
            self._reply(404, {"ok": False, "message": "no such control"})

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main(argv: list[str] | None = None) -> None:
    """Serve a fake Twilio API until killed, printing its URL first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--auth-token", default=None, help="answer 401 to any other token")
    args = parser.parse_args(argv)
    fake = FakeTwilio(args.host, args.port, auth_token=args.auth_token).start()
    print(fake.url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
