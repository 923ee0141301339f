"""A fake Telegram Bot API on loopback: records what the bot sends, answers like Telegram.

In tests::

    telegram = FakeTelegram().start()   # TELEGRAM_API_BASE_URL = telegram.url
    telegram.fail_next(1, 429, retry_after=7)
    ...
    assert telegram.sent_texts() == ["Welcome!"]
    telegram.stop()

As a process (end-to-end tests): ``python -m tests.support.fake_telegram --port 8081`` prints
its URL and serves until killed; ``GET /__requests`` lists the calls, ``DELETE /__requests``
forgets them, ``POST /__fail`` with ``{"n": 1, "status": 429, "retry_after": 7}`` or
``{"rate": 0.3, "status": 500}`` scripts failures.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import json
import random
import re
import signal
import sys
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BOT_ID = 7000000001
BOT_USERNAME = "circlebot_test_bot"
# PTB form-encodes nested values as JSON strings; Telegram decodes these fields.
JSON_FIELDS = {
    "allowed_updates",
    "reply_markup",
    "entities",
    "caption_entities",
    "link_preview_options",
    "reply_parameters",
}
# Telegram refuses longer texts with "message is too long" rather than splitting them.
TEXT_LIMIT = 4096
# Status 0 in a scripted failure means: drop the connection without answering.
DROP_CONNECTION = 0
METHOD_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")


class FakeTelegram:
    """A loopback Bot API that answers getMe, sendMessage, sendPhoto and the webhook calls."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        username: str = BOT_USERNAME,
        bot_id: int = BOT_ID,
    ) -> None:
        self.host, self.port = host, port
        self.token = token  # when set, other tokens get 401 like an unknown bot
        self.bot = {"id": bot_id, "is_bot": True, "first_name": "Circlebot", "username": username}
        self._lock = threading.Lock()
        self._requests: list[dict[str, Any]] = []
        self._failures: list[dict[str, Any]] = []
        self._failure_rate: dict[str, Any] | None = None
        self._message_ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
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

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The value for TELEGRAM_API_BASE_URL (the token is appended to it)."""
        return f"http://{self.host}:{self.port}/bot"

    # -- what was sent ---------------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every call received, oldest first: method, path, token, params, files, status."""
        with self._lock:
            return list(self._requests)

    def calls(self, method: str) -> list[dict[str, Any]]:
        """The calls to one Bot API method that Telegram accepted."""
        return [r for r in self.requests if r["method"] == method and r["status"] == 200]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts and captions delivered, optionally to one chat."""
        texts = []
        for call in self.requests:
            if call["status"] != 200 or call["method"] not in ("sendMessage", "sendPhoto"):
                continue
            if chat_id is not None and call["params"].get("chat_id") != chat_id:
                continue
            text = call["params"].get("text", call["params"].get("caption"))
            if text is not None:
                texts.append(text)
        return texts

    def clear(self) -> None:
        """Forget the calls received so far and any scripted failures."""
        with self._lock:
            self._requests.clear()
            self._failures.clear()
            self._failure_rate = None

    # -- scripted failures -----------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        body: dict[str, Any] | None = None,
        *,
        method: str | None = None,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next n calls (to `method`, if given) with an error instead."""
        failure = {
            "status": status,
            "body": body or error_body(status, description, retry_after),
            "method": method,
        }
        with self._lock:
            self._failures.extend(dict(failure) for _ in range(n))

    def fail_rate(
        self, rate: float, status: int = 500, body: dict[str, Any] | None = None, seed: int = 0
    ) -> None:
        """Fail a random share of calls from now on (rate 0 stops it)."""
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

    def _take_failure(self, method: str) -> dict[str, Any] | None:
        with self._lock:
            for index, failure in enumerate(self._failures):
                if failure["method"] in (None, method):
                    return self._failures.pop(index)
            chance = self._failure_rate
            if chance and chance["random"].random() < chance["rate"]:
                return chance
        return None

    # -- the Bot API -----------------------------------------------------------------------

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call the way Telegram would."""
        if method == "getMe":
            return 200, ok(self.bot)
        if method in ("setWebhook", "deleteWebhook"):
            done = "Webhook was set" if method == "setWebhook" else "Webhook was deleted"
            return 200, {"ok": True, "result": True, "description": done}
        if method not in ("sendMessage", "sendPhoto"):
            return 404, error_body(404, "Not Found")
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            return 400, error_body(400, "Bad Request: chat not found")
        text = params.get("text")
        if method == "sendMessage" and not str(text or "").strip():
            return 400, error_body(400, "Bad Request: message text is empty")
        if method == "sendMessage" and len(str(text)) > TEXT_LIMIT:
            return 400, error_body(400, "Bad Request: message is too long")
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self.bot,
            "chat": _chat(chat_id),
            "date": int(time.time()),
        }
        if method == "sendMessage":
            message["text"] = text
        else:
            number = message["message_id"]
            message["photo"] = [
                {
                    "file_id": f"AgACAgQAAxk{number:06d}",
                    "file_unique_id": f"AQAD{number:06d}",
                    "width": 1280,
                    "height": 960,
                },
            ]
            if params.get("caption"):
                message["caption"] = params["caption"]
        return 200, ok(message)

    def handle(self, path: str, params: dict[str, Any], files: dict[str, Any]) -> tuple[int, Any]:
        """Record a call and answer it, or fail it as scripted."""
        match = METHOD_PATH.match(path)
        method = match["method"] if match else path
        failure = self._take_failure(method)
        if failure is not None:
            status, body = failure["status"], failure["body"]
        elif match is None:
            status, body = 404, error_body(404, "Not Found")
        elif self.token is not None and match["token"] != self.token:
            status, body = 401, error_body(401, "Unauthorized")
        else:
            status, body = self.answer(method, params)
        record = {
            "method": method,
            "path": path,
            "token": match["token"] if match else None,
            "params": params,
            "files": files,
            "status": status,
            "response": body,
            "at": time.time(),
        }
        with self._lock:
            self._requests.append(record)
        return status, body


def ok(result: Any) -> dict[str, Any]:
    """Telegram's envelope for a successful call."""
    return {"ok": True, "result": result}


def error_body(
    status: int, description: str | None = None, retry_after: int | None = None
) -> dict[str, Any]:
    """Telegram's envelope for a failed call, with the description it would give."""
    defaults = {
        400: "Bad Request: chat not found",
        403: "Forbidden: bot was blocked by the user",
        429: f"Too Many Requests: retry after {retry_after or 1}",
    }
    body: dict[str, Any] = {
        "ok": False,
        "error_code": status,
        "description": description or defaults.get(status) or _phrase(status),
    }
    if status == 429:
        body["parameters"] = {"retry_after": retry_after or 1}
    return body


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _chat(chat_id: int) -> dict[str, Any]:
    """A chat object like Telegram's: users have positive ids, supergroups start with -100."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Learner"}
    if str(chat_id).startswith("-100"):
        return {"id": chat_id, "type": "supergroup", "title": "Circle supergroup"}
    return {"id": chat_id, "type": "group", "title": "Circle group"}


def _normalize(params: dict[str, Any]) -> dict[str, Any]:
    """Decode form values the way Telegram does: numbers for chat ids, JSON for nested fields."""
    for key, value in list(params.items()):
        if not isinstance(value, str):
            continue
        if key in ("chat_id", "message_id") and re.fullmatch(r"-?\d+", value):
            params[key] = int(value)
        elif key in JSON_FIELDS:
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def read_body(content_type: str, raw: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parse a JSON, urlencoded or multipart body into (params, files)."""
    if not raw:
        return {}, {}
    if content_type.startswith("application/json"):
        body = json.loads(raw)
        return (body if isinstance(body, dict) else {"_": body}), {}
    if content_type.startswith("multipart/form-data"):
        envelope = f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        message = BytesParser(policy=HTTP).parsebytes(envelope)
        params: dict[str, Any] = {}
        files: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            content = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                files[name] = {
                    "filename": part.get_filename(),
                    "content_type": part.get_content_type(),
                    "size": len(content),
                }
            else:
                params[name] = content.decode("utf-8")
        return params, files
    return _flatten(parse_qs(raw.decode("utf-8"), keep_blank_values=True)), {}


def _flatten(query: dict[str, list[str]]) -> dict[str, Any]:
    """One value per key as a string, several as a list."""
    return {key: values[0] if len(values) == 1 else values for key, values in query.items()}


class _Handler(BaseHTTPRequestHandler):
    """Route Bot API calls to the fake, and the /__ paths to its controls."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits
    # ~40 ms for the delayed ACK on every call, which would skew send benchmarks.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests read .requests; access logs would only be noise

    @property
    def fake(self) -> FakeTelegram:
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
        try:
            params, files = read_body(self.headers.get("Content-Type", ""), raw)
        except ValueError:
            self._reply(400, error_body(400, "Bad Request: can't parse request body"))
            return
        params = _normalize({**_flatten(parse_qs(url.query)), **params})
        status, body = self.fake.handle(url.path, params, files)
        if status == DROP_CONNECTION:
            self.close_connection = True
            return
        self._reply(status, body)

    def _control(self, path: str, query: str, raw: bytes) -> None:
        if path == "/__requests" and self.command == "GET":
            method = parse_qs(query).get("method", [None])[0]
            calls = self.fake.requests
            self._reply(200, [c for c in calls if method is None or c["method"] == method])
        elif path == "/__requests" and self.command == "DELETE":
            self.fake.clear()
            self._reply(200, {"ok": True})
        elif path == "/__fail" and self.command == "POST":
            spec = json.loads(raw or b"{}")
            if "rate" in spec:
                self.fake.fail_rate(spec["rate"], spec.get("status", 500), spec.get("body"))
            else:
                self.fake.fail_next(
                    spec.get("n", 1),
                    spec.get("status", 500),
                    spec.get("body"),
                    method=spec.get("method"),
                    retry_after=spec.get("retry_after"),
                    description=spec.get("description"),
                )
            self._reply(200, {"ok": True})
        else:
            self._reply(404, {"ok": False, "description": "no such control"})

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main(argv: list[str] | None = None) -> None:
    """Serve a fake Bot API until killed, printing its URL first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default=None, help="answer 401 to any other bot token")
    parser.add_argument("--username", default=BOT_USERNAME)
    args = parser.parse_args(argv)
    fake = FakeTelegram(args.host, args.port, token=args.token, username=args.username).start()
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
