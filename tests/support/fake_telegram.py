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

import contextlib
import itertools
import json
import re
import time
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import SplitResult, parse_qs

from tests.support.fake_http import (
    FakeProvider,
    flatten,
    process_arguments,
    serve_until_killed,
    status_phrase,
)

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
METHOD_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")


class FakeTelegram(FakeProvider):
    """A loopback Bot API that answers getMe, sendMessage, sendPhoto, the webhook calls, and
    answerCallbackQuery and editMessageReplyMarkup for taps on inline keyboards."""

    error_field = "description"
    fail_options = ("method", "retry_after", "description")

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        username: str = BOT_USERNAME,
        bot_id: int = BOT_ID,
    ) -> None:
        super().__init__(host, port)
        self.token = token  # when set, other tokens get 401 like an unknown bot
        self.bot = {"id": bot_id, "is_bot": True, "first_name": "Circlebot", "username": username}
        self._message_ids = itertools.count(1)
        # What each chat shows now, by (chat id, message id): keyboards come and go by edits.
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}

    @property
    def url(self) -> str:
        """The value for TELEGRAM_API_BASE_URL (the token is appended to it)."""
        return f"{self.origin}/bot"

    # -- what was sent ---------------------------------------------------------------------

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
        self._script_failures(n, failure)

    def failure_body(self, status: int) -> dict[str, Any]:
        """Telegram's error envelope for a scripted failure with this status."""
        return error_body(status)

    # -- the Bot API -----------------------------------------------------------------------

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call the way Telegram would."""
        if method == "getMe":
            return 200, ok(self.bot)
        if method in ("setWebhook", "deleteWebhook"):
            done = "Webhook was set" if method == "setWebhook" else "Webhook was deleted"
            return 200, {"ok": True, "result": True, "description": done}
        if method == "answerCallbackQuery":
            if not params.get("callback_query_id"):
                return 400, error_body(400, "Bad Request: query is too old or query ID is invalid")
            return 200, ok(True)
        if method == "editMessageReplyMarkup":
            return self._edit_markup(params)
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
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        if params.get("message_thread_id") is not None:
            message["message_thread_id"] = int(params["message_thread_id"])
            message["is_topic_message"] = True
        self.messages[(chat_id, message["message_id"])] = message
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

    def _edit_markup(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Replace or remove a sent message's inline keyboard, as Telegram does."""
        message = self.messages.get((params.get("chat_id"), params.get("message_id")))
        if message is None:
            return 400, error_body(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if (markup or None) == message.get("reply_markup"):
            return 400, error_body(400, "Bad Request: message is not modified")
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return 200, ok(message)

    def clear(self) -> None:
        """Forget the calls, scripted failures and the messages shown."""
        super().clear()
        self.messages.clear()

    def keyboard(self, chat_id: int, message_id: int) -> list[list[dict[str, Any]]]:
        """The inline keyboard a sent message shows now (empty once removed)."""
        message = self.messages.get((chat_id, message_id), {})
        return message.get("reply_markup", {}).get("inline_keyboard", [])

    def handle(self, path: str, params: dict[str, Any], files: dict[str, Any]) -> tuple[int, Any]:
        """Record a call (method, path, token, params, files, status) and answer or fail it."""
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
        self._record(record)
        return status, body

    def receive(
        self, command: str, url: SplitResult, headers: Message, raw: bytes
    ) -> tuple[int, Any]:
        """Decode the call as Telegram does (query, JSON, form or multipart), then handle it."""
        try:
            params, files = read_body(headers.get("Content-Type", ""), raw)
        except ValueError:
            return 400, error_body(400, "Bad Request: can't parse request body")
        params = _normalize({**flatten(parse_qs(url.query)), **params})
        return self.handle(url.path, params, files)


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
        "description": description or defaults.get(status) or status_phrase(status),
    }
    if status == 429:
        body["parameters"] = {"retry_after": retry_after or 1}
    return body


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
                    "head": content[:8],  # enough to tell a PNG
                }
            else:
                params[name] = content.decode("utf-8")
        return params, files
    return flatten(parse_qs(raw.decode("utf-8"), keep_blank_values=True)), {}


def main(argv: list[str] | None = None) -> None:
    """Serve a fake Bot API until killed, printing its URL first."""
    parser = process_arguments(__doc__.splitlines()[0])
    parser.add_argument("--token", default=None, help="answer 401 to any other bot token")
    parser.add_argument("--username", default=BOT_USERNAME)
    args = parser.parse_args(argv)
    serve_until_killed(FakeTelegram(args.host, args.port, token=args.token, username=args.username))


if __name__ == "__main__":
    main()
