"""The Africa's Talking adapter over recorded callback forms and its SMS API faked at HTTP."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import responses
import time_machine
from werkzeug.datastructures import ImmutableMultiDict

from bot.channels import africastalking
from bot.channels.base import DeliveryStatus, Outbound, SendResult
from bot.config import Settings
from tests.support.africastalking_api import BAD_CREDENTIALS, AfricasTalkingAPI

PAYLOADS = Path(__file__).parent / "payloads" / "africastalking"
USERNAME = "circlebot"
API_KEY = "atsk_5f0c2e8a9b7d4c1e3f6a8b0d2c4e6f8a1b3d5c7e9f0a2b4c6d8e0f1a3b5c7d9e"
SHORTCODE = "22384"
SECRET = "Zq3v9LxR2mT7wK5pN8bY4cH6jF1dS0aG"
SANDBOX = "https://api.sandbox.africastalking.com"
MESSAGING_URL = "https://api.africastalking.com/version1/messaging"
NOW = datetime(2025, 5, 14, 16, 30, tzinfo=UTC)
LEARNER = "+254712345678"


def load(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def provider_settings(**overrides: object) -> Settings:
    values = {
        "africastalking_username": USERNAME,
        "africastalking_api_key": API_KEY,
        "africastalking_shortcode": SHORTCODE,
        "africastalking_webhook_secret": SECRET,
        "send_timeout_seconds": 2.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture
def at_api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield AfricasTalkingAPI(mock, api_key=API_KEY)


# -- incoming messages -------------------------------------------------------------------------

INBOUND = [
    (
        # A standard two-way shortcode sends no linkId.
        "inbound",
        {
            "channel": "sms",
            "address": LEARNER,
            "text": "JOIN PY7K",
            "provider_id": "ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3",
            "media": (),
            "chat_id": None,
        },
        None,
    ),
    (
        "inbound_with_link_id",
        {"channel": "sms", "address": LEARNER, "text": "YES"},
        "03090445075804249226",
    ),
    (
        "inbound_swahili",
        {"address": "+254733123456", "text": "Ndiyo, nitakuja Alhamisi. Asante!"},
        "18410211234569876501",
    ),
    (
        "inbound_emoji",
        {"address": LEARNER, "text": "Nitakuja 👍🏾 asante sana 🙏"},
        None,
    ),
]


@pytest.mark.parametrize(
    ("name", "expected", "link_id"), INBOUND, ids=[case[0] for case in INBOUND]
)
def test_incoming_message_is_read_from_the_callback_form(
    name: str, expected: dict, link_id: str | None
) -> None:
    form = load(name)
    with time_machine.travel(NOW, tick=False):
        inbound = africastalking.parse(form)
    assert inbound is not None
    assert inbound.received_at == NOW
    assert {field: getattr(inbound, field) for field in expected} == expected
    assert africastalking.link_id(form) == link_id


def test_incoming_message_is_read_as_flask_hands_it_over() -> None:
    inbound = africastalking.parse(ImmutableMultiDict(load("inbound_with_link_id")))
    assert (inbound.address, inbound.text) == (LEARNER, "YES")


def test_sender_number_is_normalized_to_e164() -> None:
    form = {**load("inbound"), "from": "+254 712 345 678"}
    assert africastalking.parse(form).address == LEARNER


def test_empty_link_id_is_no_link_id() -> None:
    assert africastalking.link_id({**load("inbound_with_link_id"), "linkId": ""}) is None


def test_the_message_carries_its_provider_and_link_id() -> None:
    inbound = africastalking.parse(load("inbound_with_link_id"))
    assert (inbound.provider, inbound.link_id) == ("africastalking", "03090445075804249226")


def test_a_link_id_longer_than_any_of_its_own_is_dropped_not_the_message() -> None:
    inbound = africastalking.parse({**load("inbound_with_link_id"), "linkId": "9" * 65})
    assert (inbound.text, inbound.link_id) == ("YES", None)


@pytest.mark.parametrize(
    "form",
    [
        load("inbound_malformed"),
        {**load("inbound"), "id": ""},
        {**load("inbound"), "from": ""},
        {**load("inbound"), "from": "Safaricom"},
        {**load("inbound"), "from": "not a number"},
        {**load("inbound"), "id": "x" * 65},
        load("delivery_success"),
        {},
    ],
    ids=[
        "no sender and no id",
        "no message id",
        "no sender",
        "an alphanumeric sender",
        "not a phone number",
        "an id longer than any of its own",
        "a delivery report at the incoming URL",
        "empty form",
    ],
)
def test_form_that_is_not_a_message_is_refused(form: dict) -> None:
    assert africastalking.parse(form) is None


# -- delivery reports --------------------------------------------------------------------------

OUT_ID = "ATXid_5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"
REPORTS = [
    ("delivery_sent", DeliveryStatus(OUT_ID, "sent")),
    ("delivery_submitted", None),
    ("delivery_buffered", None),
    ("delivery_success", DeliveryStatus(OUT_ID, "delivered")),
    ("delivery_failed", DeliveryStatus(OUT_ID, "undelivered", error="DeliveryFailure")),
    ("delivery_absent_subscriber", DeliveryStatus(OUT_ID, "undelivered")),
    ("delivery_rejected", DeliveryStatus(OUT_ID, "failed", error="UserIsInactive")),
    ("delivery_rejected_blacklist", DeliveryStatus(OUT_ID, "failed", error="UserInBlackList")),
    ("delivery_expired", DeliveryStatus(OUT_ID, "failed")),
]


@pytest.mark.parametrize(("name", "expected"), REPORTS, ids=[case[0] for case in REPORTS])
def test_delivery_report_is_read_in_our_words(name: str, expected: DeliveryStatus | None) -> None:
    assert africastalking.parse_delivery(load(name)) == expected


@pytest.mark.parametrize(
    "form",
    [{**load("delivery_success"), "id": ""}, {**load("delivery_success"), "status": "Borked"}],
    ids=["no message id", "a status word we do not know"],
)
def test_delivery_report_we_cannot_place_is_ignored(form: dict) -> None:
    assert africastalking.parse_delivery(form) is None


def test_incoming_message_at_the_delivery_url_is_no_report() -> None:
    assert africastalking.parse_delivery(load("inbound")) is None


@pytest.mark.parametrize(
    ("form", "stops"),
    [
        (load("delivery_rejected_blacklist"), True),
        ({**load("delivery_rejected_blacklist"), "failureReason": "UserInBlacklist"}, True),
        (load("delivery_rejected"), False),
        (load("delivery_failed"), False),
        (load("delivery_success"), False),
    ],
    ids=["UserInBlackList", "send answer spelling", "inactive", "delivery failure", "delivered"],
)
def test_only_a_blacklisted_number_stops_the_contact(form: dict, stops: bool) -> None:
    assert africastalking.stops_contact(form) is stops


# -- the secret in the callback URLs -----------------------------------------------------------


def test_callback_with_our_secret_is_accepted() -> None:
    assert africastalking.verify(SECRET, provider_settings())


@pytest.mark.parametrize(
    "given",
    [SECRET[:-1] + "x", SECRET[:-1], SECRET + "x", SECRET.lower()],
    ids=["one character off", "too short", "too long", "another case"],
)
def test_callback_with_another_secret_is_refused(given: str) -> None:
    assert not africastalking.verify(given, provider_settings())


@pytest.mark.parametrize("given", [None, ""], ids=["absent", "empty"])
def test_callback_without_a_secret_is_refused(given: str | None) -> None:
    assert not africastalking.verify(given, provider_settings())


@pytest.mark.parametrize("given", ["", "anything", SECRET], ids=["empty", "anything", "old"])
def test_nothing_is_accepted_when_no_secret_is_set(given: str) -> None:
    assert not africastalking.verify(given, provider_settings(africastalking_webhook_secret=""))


# -- sending -----------------------------------------------------------------------------------


def hello(channel: str = "sms", body: str = "Hello") -> Outbound:
    return Outbound(message_id=7, channel=channel, to=LEARNER, body=body)


def test_sms_is_sent_from_our_shortcode(at_api: AfricasTalkingAPI) -> None:
    result = africastalking.send(hello(), provider_settings())
    assert result == SendResult.sent(at_api.sent[0]["messageId"])
    assert at_api.attempts == [
        {"username": USERNAME, "to": LEARNER, "message": "Hello", "from": SHORTCODE}
    ]
    assert at_api.headers[0]["apiKey"] == API_KEY
    assert at_api.headers[0]["Accept"] == "application/json"


def test_send_gives_up_waiting_after_the_send_timeout(at_api: AfricasTalkingAPI) -> None:
    africastalking.send(hello(), provider_settings(send_timeout_seconds=3.5))
    assert at_api.timeouts == [3.5]


def test_reply_echoes_the_link_id(at_api: AfricasTalkingAPI) -> None:
    reply = replace(hello(), link_id="03090445075804249226")
    africastalking.send(reply, provider_settings())
    assert at_api.attempts[0]["linkId"] == "03090445075804249226"


def test_message_that_answers_no_link_id_sends_none(at_api: AfricasTalkingAPI) -> None:
    africastalking.send(hello(), provider_settings())
    assert "linkId" not in at_api.attempts[0]


def test_swahili_and_emoji_go_out_as_written(at_api: AfricasTalkingAPI) -> None:
    text = "Habari! Mkutano ni Alhamisi saa 12 jioni 📚"
    assert africastalking.send(hello(body=text), provider_settings()).outcome == "sent"
    assert at_api.to(LEARNER) == [text]


def test_recorded_success_answer_gives_the_message_id() -> None:
    with responses.RequestsMock() as mock:
        mock.post(MESSAGING_URL, status=201, json=load("send_sent"))
        result = africastalking.send(hello(), provider_settings())
    assert result == SendResult.sent("ATXid_0123456789abcdef0123456789abcdef")


def test_api_base_url_points_sends_at_the_sandbox() -> None:
    with responses.RequestsMock() as mock:
        sandbox = AfricasTalkingAPI(mock, base_url=SANDBOX)
        config = provider_settings(africastalking_api_base_url=SANDBOX + "/")
        assert africastalking.send(hello(), config).outcome == "sent"
        assert mock.calls[0].request.url == SANDBOX + "/version1/messaging"
    assert sandbox.to(LEARNER) == ["Hello"]


# Each recipient statusCode in Africa's Talking's send answer, and what we make of it.
RECIPIENT_CODES = [
    (100, "Processed", "sent"),
    (101, "Success", "sent"),
    (102, "Queued", "sent"),
    (401, "RiskHold", "failed"),
    (402, "InvalidSenderId", "failed"),
    (403, "InvalidPhoneNumber", "failed"),
    (404, "UnsupportedNumberType", "failed"),
    (405, "InsufficientBalance", "failed"),
    (406, "UserInBlacklist", "failed"),
    (407, "CouldNotRoute", "failed"),
    (409, "DoNotDisturbRejection", "failed"),
    (500, "InternalServerError", "retry"),
    (501, "GatewayError", "retry"),
    (502, "RejectedByGateway", "failed"),
    # Codes added after our table are judged by their family.
    (103, "SomethingNew", "sent"),
    (410, "SomethingNew", "failed"),
    (503, "SomethingNew", "retry"),
]


@pytest.mark.parametrize(
    ("code", "word", "outcome"), RECIPIENT_CODES, ids=[f"{c} {w}" for c, w, _ in RECIPIENT_CODES]
)
def test_recipient_status_code_decides_the_outcome(
    at_api: AfricasTalkingAPI, code: int, word: str, outcome: str
) -> None:
    at_api.answer_next(code, word)
    result = africastalking.send(hello(), provider_settings())
    assert result.outcome == outcome
    assert result.stop_contact is (code == 406)
    if outcome == "sent":
        assert result.provider_id.startswith("ATXid_")
    else:
        assert result.provider_id is None
        assert str(code) in result.error and word in result.error


def test_blacklisted_number_stops_the_contact(at_api: AfricasTalkingAPI) -> None:
    at_api.reply_next(201, load("send_blacklisted"))
    result = africastalking.send(hello(), provider_settings())
    assert (result.outcome, result.stop_contact) == ("failed", True)
    assert "UserInBlacklist" in result.error


def test_do_not_disturb_rejection_answered_with_409_fails_without_stopping(
    at_api: AfricasTalkingAPI,
) -> None:
    at_api.reply_next(409, load("send_do_not_disturb"))
    result = africastalking.send(hello(), provider_settings())
    assert (result.outcome, result.stop_contact) == ("failed", False)
    assert "DoNotDisturbRejection" in result.error


def test_answer_with_no_recipient_fails_with_its_reason(at_api: AfricasTalkingAPI) -> None:
    at_api.reply_next(201, load("send_no_recipients"))
    result = africastalking.send(hello(), provider_settings())
    assert result.outcome == "failed"
    assert "InvalidSenderId" in result.error


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_broken_africastalking_means_try_again(at_api: AfricasTalkingAPI, status: int) -> None:
    at_api.reply_next(status, "Service Unavailable")
    result = africastalking.send(hello(), provider_settings())
    assert result.outcome == "retry"
    assert str(status) in result.error


def test_asked_to_slow_down_we_wait_as_long_as_asked() -> None:
    with responses.RequestsMock() as mock:
        mock.post(
            MESSAGING_URL,
            status=429,
            headers={"Retry-After": "30"},
            body="Too Many Requests",
        )
        result = africastalking.send(hello(), provider_settings())
    assert (result.outcome, result.retry_after) == ("retry", 30.0)


def test_retry_after_a_server_error_then_sent(at_api: AfricasTalkingAPI) -> None:
    at_api.reply_next(500, "")
    assert africastalking.send(hello(), provider_settings()).outcome == "retry"
    assert africastalking.send(hello(), provider_settings()).outcome == "sent"
    assert at_api.to(LEARNER) == ["Hello"]


def test_wrong_api_key_fails_and_says_so(at_api: AfricasTalkingAPI) -> None:
    result = africastalking.send(hello(), provider_settings(africastalking_api_key="atsk_old"))
    assert (result.outcome, result.stop_contact) == ("failed", False)
    assert "username or API key" in result.error
    assert BAD_CREDENTIALS in result.error
    assert at_api.sent == []


def test_other_refused_request_fails_with_the_status(at_api: AfricasTalkingAPI) -> None:
    at_api.reply_next(400, "Request is missing required form field 'to'")
    result = africastalking.send(hello(), provider_settings())
    assert result.outcome == "failed"
    assert "400" in result.error and "missing" in result.error


@pytest.mark.parametrize(
    "failure",
    [requests.exceptions.ConnectionError("refused"), requests.exceptions.ConnectTimeout("no")],
    ids=["connection refused", "connect timeout"],
)
def test_unreachable_africastalking_means_try_again(
    at_api: AfricasTalkingAPI, failure: Exception
) -> None:
    at_api.break_next(failure)
    result = africastalking.send(hello(), provider_settings())
    assert result.outcome == "retry"
    assert "unreachable" in result.error


def test_taking_the_request_but_not_answering_is_unknown_never_resent(
    at_api: AfricasTalkingAPI,
) -> None:
    at_api.break_next(requests.exceptions.ReadTimeout("slow"))
    result = africastalking.send(hello(), provider_settings())
    assert result.outcome == "unknown"
    assert "did not answer" in result.error


@pytest.mark.parametrize(
    "body",
    ["<html>oops</html>", {"SMSMessageData": "oops"}, {"unexpected": []}, ["a list"]],
    ids=["html", "not an object", "no message data", "a json list"],
)
def test_garbled_success_answer_fails_rather_than_raising(
    at_api: AfricasTalkingAPI, body: object
) -> None:
    at_api.reply_next(201, body if isinstance(body, dict | str) else json.dumps(body))
    assert africastalking.send(hello(), provider_settings()).outcome == "failed"


@pytest.mark.parametrize(
    "missing",
    ["africastalking_username", "africastalking_api_key", "africastalking_shortcode"],
)
def test_sending_without_configuration_fails_without_calling(
    at_api: AfricasTalkingAPI, missing: str
) -> None:
    result = africastalking.send(hello(), provider_settings(**{missing: ""}))
    assert result.outcome == "failed"
    assert at_api.attempts == []


def test_only_sms_goes_through_africastalking(at_api: AfricasTalkingAPI) -> None:
    assert africastalking.send(hello("whatsapp"), provider_settings()).outcome == "failed"
    assert at_api.attempts == []
