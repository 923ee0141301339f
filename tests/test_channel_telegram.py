"""The Telegram adapter over recorded updates and against a fake Bot API on loopback."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from bot.channels import telegram
from bot.channels.base import ChatEvent, Inbound, Media, Outbound, SendResult
from bot.config import Settings
from tests.support.fake_telegram import BOT_ID, FakeTelegram

PAYLOADS = Path(__file__).parent / "payloads" / "telegram"
ROOT = Path(__file__).parent.parent
BOT_USERNAME = "circlebot_test_bot"
TOKEN = "7000000001:AAE-circlebot-test-token"
SECRET = "s3cret-token_for-webhooks"
NOW = datetime(2025, 5, 14, 16, 30, tzinfo=UTC)
AMINA, OMAR = "123456789", "987654321"
GROUP, SUPERGROUP = "-4012345678", "-1001234567890"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def provider_settings(**overrides: object) -> Settings:
    values = {
        "telegram_bot_token": TOKEN,
        "telegram_bot_username": BOT_USERNAME,
        "telegram_webhook_secret": SECRET,
        "send_timeout_seconds": 2.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)


# -- updates -----------------------------------------------------------------------------------

UPDATES: list[tuple[str, type | None, dict[str, Any]]] = [
    (
        "private_text",
        Inbound,
        {
            "channel": "telegram",
            "address": AMINA,
            "chat_id": None,
            "text": "JOIN PY7K",
            "provider_id": "update:815200001",
            "profile_name": "Amina Njeri",
            "language_hint": "sw",
        },
    ),
    (
        "private_help",
        Inbound,
        {"address": OMAR, "chat_id": None, "text": "/help", "profile_name": "Omar"},
    ),
    (
        "group_help_addressed",
        Inbound,
        {
            "address": AMINA,
            "chat_id": GROUP,
            "chat_title": "Python Circle Nairobi",
            "text": "/help",
            "provider_id": "update:815200003",
        },
    ),
    ("group_command_other_bot", None, {}),
    ("group_plain_text", None, {}),
    (
        "supergroup_command",
        Inbound,
        {"address": AMINA, "chat_id": SUPERGROUP, "text": "/link K7Q2XZ"},
    ),
    (
        "my_chat_member_kicked",
        ChatEvent,
        {
            "kind": "bot_removed",
            "channel": "telegram",
            "chat_id": GROUP,
            "by_address": AMINA,
            "provider_id": "update:815200007",
        },
    ),
    (
        "my_chat_member_added",
        ChatEvent,
        {"kind": "bot_added", "chat_id": GROUP, "title": "Python Circle Nairobi"},
    ),
    ("my_chat_member_private_blocked", None, {}),
    (
        "migrate_to_chat_id",
        ChatEvent,
        {"kind": "migrated", "chat_id": GROUP, "new_chat_id": SUPERGROUP},
    ),
    ("migrate_from_chat_id", None, {}),
    ("edited_message", None, {}),
    ("callback_query", None, {}),  # another bot's or an old keyboard's data: not ours
    (
        "callback_query_ours",
        Inbound,
        {
            "address": AMINA,
            "chat_id": None,
            "text": "YES",
            "reply_to": 41,
            "provider_id": "callback:530194733418023188",
            "language_hint": "sw",
        },
    ),
    (
        "forum_topic_command",
        Inbound,
        {"chat_id": SUPERGROUP, "text": "/week", "thread_id": 85},
    ),
    (
        "supergroup_reply_thread",
        Inbound,
        {"chat_id": SUPERGROUP, "text": "/week", "thread_id": None},
    ),
    (
        "private_photo",
        Inbound,
        {
            "text": "Our whiteboard from week 3",
            "media": (Media("telegram:AgACAgQAAxkBAAMPZiT3s3", "image/jpeg"),),
        },
    ),
]


@pytest.mark.parametrize(("name", "kind", "expected"), UPDATES, ids=[case[0] for case in UPDATES])
def test_update_is_read_as_telegram_sends_it(name: str, kind: type | None, expected: dict) -> None:
    with time_machine.travel(NOW, tick=False):
        parsed = telegram.parse(load(name), BOT_USERNAME, bot_id=BOT_ID)
    if kind is None:
        assert parsed is None
        return
    assert isinstance(parsed, kind)
    assert parsed.received_at == NOW
    assert {field: getattr(parsed, field) for field in expected} == expected


def test_command_addressed_to_us_matches_whatever_the_case() -> None:
    update = load("group_help_addressed")
    update["message"]["text"] = "/Help@CIRCLEBOT_TEST_BOT"
    assert telegram.parse(update, BOT_USERNAME).text == "/Help"


def test_bare_command_in_a_group_is_for_us() -> None:
    update = load("group_help_addressed")
    update["message"]["text"] = "/week"
    parsed = telegram.parse(update, BOT_USERNAME)
    assert (parsed.text, parsed.chat_id) == ("/week", GROUP)


def test_command_for_another_bot_in_private_passes_as_typed() -> None:
    update = load("private_help")
    update["message"]["text"] = "/start@other_bot"
    assert telegram.parse(update, BOT_USERNAME).text == "/start@other_bot"


def test_membership_change_of_another_bot_is_ignored() -> None:
    assert telegram.parse(load("my_chat_member_added"), BOT_USERNAME, bot_id=42) is None


def test_promotion_inside_the_group_is_not_an_addition() -> None:
    update = load("my_chat_member_added")
    update["my_chat_member"]["old_chat_member"]["status"] = "member"
    update["my_chat_member"]["new_chat_member"] = {
        "user": update["my_chat_member"]["new_chat_member"]["user"],
        "status": "administrator",
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": True,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": True,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
    }
    assert telegram.parse(update, BOT_USERNAME) is None


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "update",
        None,
        {},
        {"update_id": "815200001"},
        {"update_id": True},
        {"update_id": 1, "message": "hello"},
        {"update_id": 1, "message": {"message_id": 1, "chat": 5}},
        {"update_id": 1, "message": {"message_id": 1, "date": "noon", "chat": {"id": 1}}},
        {"update_id": 1, "my_chat_member": {"chat": {"id": -1, "type": "group"}}},
    ],
)
def test_malformed_update_is_a_value_error(payload: Any) -> None:
    with pytest.raises(ValueError):
        telegram.parse(payload, BOT_USERNAME)


def _paths(node: Any, path: tuple = ()) -> Iterator[tuple]:
    """Every key path inside a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*path, index)
            yield from _paths(value, (*path, index))


@pytest.mark.parametrize("name", [case[0] for case in UPDATES])
def test_garbled_fields_give_a_result_or_a_value_error_only(name: str) -> None:
    original = load(name)
    for path in _paths(original):
        for junk in (None, "x", -1, [], {}, {"id": "x"}, 10**30):
            update = copy.deepcopy(original)
            node = update
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = junk
            with contextlib.suppress(ValueError):
                telegram.parse(update, BOT_USERNAME)


# -- the webhook secret ------------------------------------------------------------------------


def test_update_with_our_secret_is_accepted() -> None:
    assert telegram.verify(SECRET, provider_settings())


@pytest.mark.parametrize("header", [None, "", "wrong", SECRET + "x", "sécret"])
def test_update_without_our_secret_is_refused(header: str | None) -> None:
    assert not telegram.verify(header, provider_settings())


def test_nothing_is_accepted_when_no_secret_is_configured() -> None:
    assert not telegram.verify("", provider_settings(telegram_webhook_secret=""))


# -- sending, against the fake Bot API ---------------------------------------------------------


@pytest.fixture
def bot_api() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(token=TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def config(bot_api: FakeTelegram) -> Settings:
    return provider_settings(telegram_api_base_url=bot_api.url)


def to(chat: str, body: str = "Welcome to the circle!", **fields: Any) -> Outbound:
    return Outbound(message_id=9, channel="telegram", to=chat, body=body, **fields)


PNG = b"\x89PNG\r\n\x1a\n" + bytes(2048)


def test_message_is_sent_to_the_person(bot_api: FakeTelegram, config: Settings) -> None:
    result = telegram.send(to(AMINA), config)
    assert result == SendResult.sent(f"{AMINA}/1")
    [call] = bot_api.calls("sendMessage")
    assert call["params"] == {"chat_id": int(AMINA), "text": "Welcome to the circle!"}
    assert call["token"] == TOKEN


def test_sending_does_not_ask_telegram_who_the_bot_is(
    bot_api: FakeTelegram, config: Settings
) -> None:
    telegram.send(to(AMINA), config)
    assert [call["method"] for call in bot_api.requests] == ["sendMessage"]


def test_message_to_a_supergroup_keeps_its_long_negative_id(
    bot_api: FakeTelegram, config: Settings
) -> None:
    assert telegram.send(to(SUPERGROUP), config) == SendResult.sent(f"{SUPERGROUP}/1")
    assert bot_api.sent_texts(chat_id=int(SUPERGROUP)) == ["Welcome to the circle!"]


def test_flood_control_means_retry_after_the_seconds_telegram_asks(
    bot_api: FakeTelegram, config: Settings
) -> None:
    bot_api.fail_next(1, 429, retry_after=7)
    result = telegram.send(to(AMINA), config)
    assert (result.outcome, result.retry_after) == ("retry", 7.0)


def test_person_who_blocked_the_bot_is_stopped(bot_api: FakeTelegram, config: Settings) -> None:
    bot_api.fail_next(1, 403, description="Forbidden: bot was blocked by the user")
    result = telegram.send(to(AMINA), config)
    assert (result.outcome, result.stop_contact) == ("failed", True)
    assert "blocked" in result.error


def test_bad_request_fails_without_stopping_anyone(bot_api: FakeTelegram, config: Settings) -> None:
    bot_api.fail_next(1, 400, description="Bad Request: chat not found")
    result = telegram.send(to(AMINA), config)
    assert (result.outcome, result.stop_contact) == ("failed", False)
    assert "chat not found" in result.error.lower()


@pytest.mark.parametrize("status", [500, 502, 0], ids=["500", "502", "dropped connection"])
def test_broken_telegram_means_try_again(
    bot_api: FakeTelegram, config: Settings, status: int
) -> None:
    bot_api.fail_next(1, status)
    assert telegram.send(to(AMINA), config).outcome == "retry"
    assert telegram.send(to(AMINA), config).outcome == "sent"


def test_forked_work_horse_sends_on_its_own_connection(
    bot_api: FakeTelegram, config: Settings
) -> None:
    # RQ forks a work horse per job: it must not reuse its parent's event loop or connections.
    assert telegram.send(to(AMINA), config).outcome == "sent"
    child = os.fork()
    if child == 0:
        os._exit(0 if telegram.send(to(AMINA), config).outcome == "sent" else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert telegram.send(to(AMINA), config).outcome == "sent"
    assert len(bot_api.calls("sendMessage")) == 3


def test_telegram_taking_the_request_but_not_answering_is_unknown_never_resent() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/bot"
        result = telegram.send(
            to(AMINA), provider_settings(telegram_api_base_url=url, send_timeout_seconds=0.3)
        )
    assert result.outcome == "unknown"


def test_telegram_refusing_the_connection_means_try_again() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/bot"
    result = telegram.send(
        to(AMINA), provider_settings(telegram_api_base_url=url, send_timeout_seconds=0.3)
    )
    assert result.outcome == "retry"


def test_group_upgraded_to_supergroup_fails_naming_the_new_chat(
    bot_api: FakeTelegram, config: Settings
) -> None:
    upgraded = {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": int(SUPERGROUP)},
    }
    bot_api.fail_next(1, 400, upgraded)
    result = telegram.send(to(GROUP), config)
    assert result.outcome == "failed"
    assert SUPERGROUP in result.error


def test_text_over_telegrams_limit_fails_rather_than_retrying(
    bot_api: FakeTelegram, config: Settings
) -> None:
    result = telegram.send(to(AMINA, "x" * 5000), config)
    assert (result.outcome, result.stop_contact) == ("failed", False)


def test_chat_id_that_is_not_a_number_fails(config: Settings) -> None:
    assert telegram.send(to("@circle"), config).outcome == "failed"


def test_photo_carries_a_short_text_as_its_caption(bot_api: FakeTelegram, config: Settings) -> None:
    result = telegram.send(to(GROUP, "Attendance this season", photo=PNG), config)
    assert result == SendResult.sent(f"{GROUP}/1")
    [call] = bot_api.requests
    assert call["method"] == "sendPhoto"
    assert call["params"] == {"chat_id": int(GROUP), "caption": "Attendance this season"}
    assert call["files"]["photo"]["size"] == len(PNG)


def test_long_text_follows_the_photo_as_its_own_message(
    bot_api: FakeTelegram, config: Settings
) -> None:
    digest = "Week 3 digest. " * 80  # over Telegram's 1024-character caption limit
    result = telegram.send(to(GROUP, digest, photo=PNG), config)
    assert result == SendResult.sent(f"{GROUP}/2")
    photo, text = bot_api.requests
    assert (photo["method"], "caption" in photo["params"]) == ("sendPhoto", False)
    assert (text["method"], text["params"]["text"]) == ("sendMessage", digest)


def test_unknown_token_fails(bot_api: FakeTelegram) -> None:
    config = provider_settings(telegram_api_base_url=bot_api.url, telegram_bot_token="1:wrong")
    assert telegram.send(to(AMINA), config).outcome == "failed"


def test_sending_without_a_token_fails() -> None:
    assert telegram.send(to(AMINA), provider_settings(telegram_bot_token="")).outcome == "failed"


def test_webhook_is_registered_with_our_secret_and_updates(
    bot_api: FakeTelegram, config: Settings
) -> None:
    url = "https://circlebot.example.org/webhooks/telegram"
    assert telegram.set_webhook(url, config)
    [call] = bot_api.calls("setWebhook")
    assert call["params"] == {
        "url": url,
        "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query", "my_chat_member"],
    }


def test_refused_webhook_registration_is_reported(bot_api: FakeTelegram, config: Settings) -> None:
    bot_api.fail_next(1, 400, description="Bad Request: bad webhook: HTTPS url must be provided")
    assert not telegram.set_webhook("http://insecure.example.org/hook", config)


def test_fake_telegram_runs_as_a_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_telegram", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.endswith("/bot")
        origin = url.removesuffix("/bot")
        config = provider_settings(telegram_api_base_url=url)
        assert telegram.send(to(AMINA), config).outcome == "sent"
        control = urllib.request.Request(
            f"{origin}/__fail", data=json.dumps({"n": 1, "status": 429, "retry_after": 3}).encode()
        )
        urllib.request.urlopen(control).read()
        assert telegram.send(to(AMINA), config).retry_after == 3.0
        with urllib.request.urlopen(f"{origin}/__requests?method=sendMessage") as answer:
            calls = json.load(answer)
        assert [call["status"] for call in calls] == [200, 429]
        assert calls[0]["params"]["text"] == "Welcome to the circle!"
    finally:
        process.terminate()
        process.wait(timeout=5)
