"""What the loopback provider fakes share: a server thread, a call log, scripted failures.

A fake subclasses `FakeProvider`, answers its API in `receive`, and builds the provider's
error body in `failure_body`; the `/__requests` and `/__fail` control endpoints, the
thread-safe log and the `python -m` process runner come from here.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import signal
import sys
import threading
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import SplitResult, parse_qs, urlsplit

# Status 0 in a scripted failure means: drop the connection without answering.
DROP_CONNECTION = 0


class FakeProvider:
    """A provider API served on loopback that logs every call and fails when scripted to."""

    # Control errors use the provider's own error field, so its client can read them.
    error_field: ClassVar[str]
    # The provider-specific keyword arguments of fail_next that POST /__fail passes on.
    fail_options: ClassVar[tuple[str, ...]]

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self._lock = threading.Lock()
        self._requests: list[dict[str, Any]] = []
        self._failures: list[dict[str, Any]] = []
        self._failure_rate: dict[str, Any] | None = None
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port on loopback and serve in a daemon thread."""
        self._server = ThreadingHTTPServer((self.host, self.port), FakeHandler)
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """Scheme, host and port the fake serves on."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The base URL the bot's settings point at."""
        raise NotImplementedError

    # -- what was sent ---------------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every call received, oldest first, as the fake's handle() recorded it."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Forget the calls received so far and any scripted failures."""
        with self._lock:
            self._requests.clear()
            self._failures.clear()
            self._failure_rate = None

    def _record(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(record)

    # -- scripted failures -----------------------------------------------------------------

    def failure_body(self, status: int) -> dict[str, Any]:
        """The provider's error body for a scripted failure with this status."""
        raise NotImplementedError

    def fail_next(
        self, n: int = 1, status: int = 500, body: dict[str, Any] | None = None, **options: Any
    ) -> None:
        """Answer the next n calls with an error instead; options are the provider's own."""
        raise NotImplementedError

    def fail_rate(
        self, rate: float, status: int = 500, body: dict[str, Any] | None = None, seed: int = 0
    ) -> None:
        """Fail a random share of calls from now on (rate 0 stops it)."""
        with self._lock:
            self._failure_rate = (
                {
                    "rate": rate,
                    "status": status,
                    "body": body or self.failure_body(status),
                    "random": random.Random(seed),
                }
                if rate
                else None
            )

    def _script_failures(self, n: int, failure: dict[str, Any]) -> None:
        with self._lock:
            self._failures.extend(dict(failure) for _ in range(n))

    def _take_failure(self, method: str | None = None) -> dict[str, Any] | None:
        with self._lock:
            for index, failure in enumerate(self._failures):
                # A failure scripted for one method waits for a call to it; others take any.
                if failure.get("method") in (None, method):
                    return self._failures.pop(index)
            chance = self._failure_rate
            if chance and chance["random"].random() < chance["rate"]:
                return chance
        return None

    # -- the HTTP side ---------------------------------------------------------------------

    def receive(
        self, command: str, url: SplitResult, headers: Message, raw: bytes
    ) -> tuple[int, Any]:
        """Answer one API call as (status, JSON body); status 0 drops the connection."""
        raise NotImplementedError

    def control(self, path: str, spec: dict[str, Any]) -> bool:
        """Run a provider-specific POST control endpoint; False when there is none."""
        return False


class FakeHandler(BaseHTTPRequestHandler):
    """Route API calls to the fake, and the /__ paths to its controls."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits
    # ~40 ms for the delayed ACK on every call, which would skew send benchmarks.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests read .requests; access logs would only be noise

    @property
    def fake(self) -> FakeProvider:
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
            self._control(url.path, url.query, raw)
            return
        status, body = self.fake.receive(self.command, url, self.headers, raw)
        if status == DROP_CONNECTION:
            self.close_connection = True
            return
        self._reply(status, body)

    def _control(self, path: str, query: str, raw: bytes) -> None:
        spec = json.loads(raw or b"{}") if self.command == "POST" else {}
        if path == "/__requests" and self.command == "GET":
            method = parse_qs(query).get("method", [None])[0]
            calls = self.fake.requests
            self._reply(200, [c for c in calls if method is None or c["method"] == method])
        elif path == "/__requests" and self.command == "DELETE":
            self.fake.clear()
            self._reply(200, {"ok": True})
        elif path == "/__fail" and self.command == "POST":
            if "rate" in spec:
                self.fake.fail_rate(spec["rate"], spec.get("status", 500), spec.get("body"))
            else:
                options = {name: spec.get(name) for name in self.fake.fail_options}
                self.fake.fail_next(
                    spec.get("n", 1), spec.get("status", 500), spec.get("body"), **options
                )
            self._reply(200, {"ok": True})
        elif self.command == "POST" and self.fake.control(path, spec):
            self._reply(200, {"ok": True})
        else:
            self._reply(404, {"ok": False, self.fake.error_field: "no such control"})

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def status_phrase(status: int) -> str:
    """The reason phrase for an HTTP status, or "Error" for one that has none."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def flatten(query: dict[str, list[str]]) -> dict[str, Any]:
    """One value per key as a string, several (a repeated field) as a list."""
    return {key: values[0] if len(values) == 1 else values for key, values in query.items()}


def process_arguments(description: str) -> argparse.ArgumentParser:
    """A command line with the --host and --port every fake process takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    return parser


def serve_until_killed(fake: FakeProvider) -> None:
    """Serve a fake until SIGTERM or Ctrl-C, printing its URL first for the parent to read."""
    fake.start()
    print(fake.url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
