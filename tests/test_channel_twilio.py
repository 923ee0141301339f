"""The Twilio adapter over recorded webhook forms, signed requests and a faked REST API."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests
import responses
import time_machine
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import ImmutableMultiDict

from bot.channels import twilio
from bot.channels.base import DeliveryStatus, Media, Outbound, SendResult
from bot.config import Settings
from tests.support.fake_twilio import FakeTwilio

PAYLOADS = Path(__file__).parent / "payloads" / "twilio"
ROOT = Path(__file__).parent.parent
ACCOUNT = "AC3f9a1c2e5b7d4086a1e2f3c4d5b6a7e8"
TOKEN = "f2a1c0d9e8b7a6f5e4d3c2b1a0f9e8d7"
WEBHOOK_URL = "https://circlebot.example.org/webhooks/twilio"
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
NOW = datetime(2025, 5, 14, 16, 30, tzinfo=UTC)
MMS_SID = "MM9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
MEDIA_BASE = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{MMS_SID}/Media"


def load(name: str) -> dict[str, str]:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def provider_settings(**overrides: object) -> Settings:
    values = {
        "twilio_account_sid": ACCOUNT,
        "twilio_auth_token": TOKEN,
        "twilio_sms_from": "+14155550100",
        "twilio_whatsapp_from": "whatsapp:+14155238886",
        "send_timeout_seconds": 2.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)


# -- incoming messages -------------------------------------------------------------------------

INBOUND = [
    (
        "sms",
        {
            "channel": "sms",
            "address": "+14155550123",
            "text": "JOIN PY7K",
            "provider_id": "SM1f0e2d3c4b5a69788796a5b4c3d2e1f0",
            "media": (),
            "profile_name": None,
        },
    ),
    (
        "sms_unicode",
        {"channel": "sms", "address": "+254712345678", "text": "Habari! Nitakuja 👍 — naam"},
    ),
    (
        "mms_two_media",
        {
            "channel": "sms",
            "text": "Our notes from week 2",
            "provider_id": MMS_SID,
            "media": (
                Media(f"{MEDIA_BASE}/ME0a1b2c3d4e5f60718293a4b5c6d7e8f9", "image/jpeg"),
                Media(f"{MEDIA_BASE}/ME1b2c3d4e5f60718293a4b5c6d7e8f9a0", "application/pdf"),
            ),
        },
    ),
    (
        "whatsapp",
        {
            "channel": "whatsapp",
            "address": "+254712345678",
            "text": "yes",
            "profile_name": "Amina Njeri",
            "chat_id": None,
        },
    ),
    (
        "whatsapp_button",
        {
            "channel": "whatsapp",
            "address": "+254712345678",
            "text": "Yes, I'll be there",
            "reply_to": None,
        },
    ),
    (
        # A tap on one of our quick replies: the answer and the question it answers, whatever
        # the button's label says in the person's language.
        "whatsapp_quick_reply",
        {"channel": "whatsapp", "text": "YES", "reply_to": 41},
    ),
]


@pytest.mark.parametrize(("name", "expected"), INBOUND, ids=[case[0] for case in INBOUND])
def test_incoming_message_is_read_from_the_webhook_form(name: str, expected: dict) -> None:
    with time_machine.travel(NOW, tick=False):
        inbound = twilio.parse(load(name))
    assert inbound is not None
    assert inbound.received_at == NOW
    assert {field: getattr(inbound, field) for field in expected} == expected


def test_button_reply_keeps_the_body_when_whatsapp_sends_one() -> None:
    form = {**load("whatsapp_button"), "Body": "Yes"}
    assert twilio.parse(form).text == "Yes"


def test_sender_number_is_normalized_to_e164() -> None:
    form = {**load("sms"), "From": "+1 (415) 555-0123"}
    assert twilio.parse(form).address == "+14155550123"


@pytest.mark.parametrize(
    "change",
    [
        {"MessageSid": "", "SmsMessageSid": ""},
        {"MessageSid": "SM" + "0" * 80},
        {"From": ""},
        {"From": "messenger:1234567890"},
        {"From": "not a number"},
        {"From": "whatsapp:hello"},
    ],
    ids=[
        "no message sid",
        "a sid longer than any of Twilio's",
        "no sender",
        "a channel we do not answer",
        "not a phone number",
        "not a whatsapp number",
    ],
)
def test_form_that_is_not_a_message_for_us_is_refused(change: dict) -> None:
    assert twilio.parse({**load("sms"), **change}) is None


def test_older_forms_with_only_sms_message_sid_are_read() -> None:
    form = load("sms")
    del form["MessageSid"]
    assert twilio.parse(form).provider_id == form["SmsMessageSid"]


def test_garbled_media_count_means_no_media() -> None:
    assert twilio.parse({**load("mms_two_media"), "NumMedia": "two"}).media == ()


# -- delivery callbacks ------------------------------------------------------------------------

OUT_SID = "SM5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"
STATUSES = [
    ("status_queued", None),
    ("status_sent", DeliveryStatus(OUT_SID, "sent")),
    ("status_delivered", DeliveryStatus(OUT_SID, "delivered")),
    ("status_undelivered", DeliveryStatus(OUT_SID, "undelivered", error="30003")),
    ("status_failed", DeliveryStatus(OUT_SID, "failed", error="30008")),
    ("status_whatsapp_read", DeliveryStatus(OUT_SID, "delivered")),
]


@pytest.mark.parametrize(("name", "expected"), STATUSES, ids=[case[0] for case in STATUSES])
def test_delivery_callback_is_read_in_our_words(name: str, expected: DeliveryStatus) -> None:
    assert twilio.parse_status(load(name)) == expected


def test_delivery_callback_without_a_message_sid_is_ignored() -> None:
    form = {**load("status_delivered"), "MessageSid": "", "SmsSid": ""}
    assert twilio.parse_status(form) is None


# -- signatures --------------------------------------------------------------------------------


def sign(form: dict[str, str], url: str = WEBHOOK_URL, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


def test_form_signed_by_twilio_is_accepted() -> None:
    form = load("sms")
    assert twilio.verify(WEBHOOK_URL, form, sign(form), provider_settings())


def test_signed_form_is_accepted_as_flask_hands_it_over() -> None:
    form = load("mms_two_media")
    assert twilio.verify(WEBHOOK_URL, ImmutableMultiDict(form), sign(form), provider_settings())


def test_tampered_field_is_refused() -> None:
    form = load("sms")
    signature = sign(form)
    assert not twilio.verify(WEBHOOK_URL, {**form, "Body": "STOP"}, signature, provider_settings())


def test_added_field_is_refused() -> None:
    form = load("sms")
    signature = sign(form)
    assert not twilio.verify(WEBHOOK_URL, {**form, "Extra": "1"}, signature, provider_settings())


def test_signature_for_another_url_is_refused() -> None:
    form = load("sms")
    signature = sign(form, url="https://elsewhere.example.org/webhooks/twilio")
    assert not twilio.verify(WEBHOOK_URL, form, signature, provider_settings())


def test_signature_made_with_another_token_is_refused() -> None:
    form = load("sms")
    assert not twilio.verify(WEBHOOK_URL, form, sign(form, token="0" * 32), provider_settings())


@pytest.mark.parametrize("signature", [None, ""])
def test_unsigned_form_is_refused(signature: str | None) -> None:
    assert not twilio.verify(WEBHOOK_URL, load("sms"), signature, provider_settings())


def test_nothing_is_accepted_without_an_auth_token() -> None:
    form = load("sms")
    assert not twilio.verify(
        WEBHOOK_URL, form, sign(form, token=""), provider_settings(twilio_auth_token="")
    )


# -- sending -----------------------------------------------------------------------------------


def created(sid: str = "SM0123456789abcdef0123456789abcdef", status: str = "queued") -> dict:
    return {"sid": sid, "status": status, "account_sid": ACCOUNT, "body": "", "to": "+15550001"}


def error(code: int, status: int, message: str = "refused") -> dict:
    return {"code": code, "message": message, "more_info": "", "status": status}


def sent_form(call: int = 0) -> dict[str, list[str]]:
    return parse_qs(responses.calls[call].request.body)


def hello(channel: str = "sms", **fields: object) -> Outbound:
    return Outbound(message_id=7, channel=channel, to="+15550001", body="Hello", **fields)


@responses.activate
def test_sms_is_sent_from_our_number() -> None:
    responses.post(MESSAGES_URL, status=201, json=created())
    result = twilio.send(hello(), provider_settings())
    assert result == SendResult.sent("SM0123456789abcdef0123456789abcdef")
    assert sent_form() == {"To": ["+15550001"], "From": ["+14155550100"], "Body": ["Hello"]}


@responses.activate
def test_status_callback_is_asked_for_when_given() -> None:
    responses.post(MESSAGES_URL, status=201, json=created())
    callback = "https://circlebot.example.org/webhooks/twilio/status"
    twilio.send(hello(status_callback=callback), provider_settings())
    assert sent_form()["StatusCallback"] == [callback]


@responses.activate
def test_messaging_service_picks_the_number() -> None:
    responses.post(MESSAGES_URL, status=201, json=created(status="accepted"))
    service = "MG8c2d4e6f8a0b1c3d5e7f9a1b3c5d7e9f"
    assert twilio.send(hello(), provider_settings(twilio_sms_from=service)).outcome == "sent"
    form = sent_form()
    assert form["MessagingServiceSid"] == [service]
    assert "From" not in form


@responses.activate
def test_whatsapp_goes_between_whatsapp_addresses() -> None:
    responses.post(MESSAGES_URL, status=201, json=created())
    assert twilio.send(hello("whatsapp"), provider_settings()).outcome == "sent"
    form = sent_form()
    assert form["To"] == ["whatsapp:+15550001"]
    assert form["From"] == ["whatsapp:+14155238886"]


@responses.activate
def test_whatsapp_sender_given_as_bare_number_gets_the_prefix() -> None:
    responses.post(MESSAGES_URL, status=201, json=created())
    twilio.send(hello("whatsapp"), provider_settings(twilio_whatsapp_from="+14155238886"))
    assert sent_form()["From"] == ["whatsapp:+14155238886"]


@responses.activate
def test_whatsapp_template_is_sent_as_content_not_body() -> None:
    responses.post(MESSAGES_URL, status=201, json=created())
    out = hello(
        "whatsapp",
        template_sid="HX0123456789abcdef0123456789abcdef",
        template_vars={"1": "Python Circle", "2": "Thursday 18:00"},
    )
    assert twilio.send(out, provider_settings()).outcome == "sent"
    form = sent_form()
    assert form["ContentSid"] == ["HX0123456789abcdef0123456789abcdef"]
    assert json.loads(form["ContentVariables"][0]) == {"1": "Python Circle", "2": "Thursday 18:00"}
    assert "Body" not in form


@responses.activate
def test_api_base_url_override_sends_to_that_origin_with_the_same_path() -> None:
    fake_origin = "http://127.0.0.1:8082"
    responses.post(f"{fake_origin}/2010-04-01/Accounts/{ACCOUNT}/Messages.json", json=created())
    result = twilio.send(hello(), provider_settings(twilio_api_base_url=fake_origin + "/"))
    assert result.outcome == "sent"
    assert responses.calls[0].request.url.startswith(fake_origin + "/2010-04-01/")


@pytest.mark.parametrize("status", [429, 500, 503])
@responses.activate
def test_busy_or_broken_twilio_means_try_again(status: int) -> None:
    responses.post(
        MESSAGES_URL, status=status, json=error(20429 if status == 429 else 20500, status)
    )
    result = twilio.send(hello(), provider_settings())
    assert result.outcome == "retry"
    assert not result.stop_contact


@responses.activate
def test_retry_after_a_server_error_then_sent() -> None:
    responses.post(MESSAGES_URL, status=500, json=error(20500, 500))
    responses.post(MESSAGES_URL, status=201, json=created())
    assert twilio.send(hello(), provider_settings()).outcome == "retry"
    assert twilio.send(hello(), provider_settings()).outcome == "sent"


@responses.activate
def test_person_who_texted_stop_at_the_carrier_is_stopped() -> None:
    responses.post(
        MESSAGES_URL, status=400, json=error(21610, 400, "Attempt to send to unsubscribed")
    )
    result = twilio.send(hello(), provider_settings())
    assert result.outcome == "failed"
    assert result.stop_contact
    assert "21610" in result.error


@responses.activate
def test_other_refusals_fail_with_the_code() -> None:
    responses.post(MESSAGES_URL, status=400, json=error(21211, 400, "The 'To' number is not valid"))
    result = twilio.send(hello(), provider_settings())
    assert result.outcome == "failed"
    assert not result.stop_contact
    assert "21211" in result.error


@responses.activate
def test_problem_details_errors_are_classified_too() -> None:
    problem = {
        "type": "https://www.twilio.com/docs/errors/21610",
        "title": "Unsubscribed",
        "status": 400,
        "code": 21610,
        "detail": "Attempt to send to unsubscribed recipient",
    }
    responses.post(MESSAGES_URL, status=400, json=problem)
    result = twilio.send(hello(), provider_settings())
    assert (result.outcome, result.stop_contact) == ("failed", True)


@pytest.mark.parametrize(
    "failure",
    [requests.exceptions.ConnectionError("refused"), requests.exceptions.ConnectTimeout("no")],
    ids=["connection refused", "connect timeout"],
)
@responses.activate
def test_unreachable_twilio_means_try_again(failure: Exception) -> None:
    responses.post(MESSAGES_URL, body=failure)
    result = twilio.send(hello(), provider_settings())
    assert result.outcome == "retry"
    assert result.error


@responses.activate
def test_twilio_taking_the_request_but_not_answering_is_unknown_never_resent() -> None:
    responses.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("slow"))
    result = twilio.send(hello(), provider_settings())
    assert result.outcome == "unknown"
    assert "did not answer" in result.error


@responses.activate
def test_garbled_success_answer_fails_rather_than_raising() -> None:
    responses.post(MESSAGES_URL, status=201, body="<html>oops</html>")
    assert twilio.send(hello(), provider_settings()).outcome == "failed"


def test_sending_without_credentials_fails_without_calling_twilio() -> None:
    result = twilio.send(hello(), provider_settings(twilio_auth_token="", twilio_sms_from=""))
    assert result.outcome == "failed"


# -- the loopback fake, as tests and end-to-end runs use it ------------------------------------


@pytest.fixture
def fake_twilio():
    fake = FakeTwilio(auth_token=TOKEN).start()
    yield fake
    fake.stop()


def test_fake_twilio_accepts_messages_like_twilio(fake_twilio: FakeTwilio) -> None:
    result = twilio.send(hello(), provider_settings(twilio_api_base_url=fake_twilio.url))
    assert result.outcome == "sent"
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert fake_twilio.sent_bodies(to="+15550001") == ["Hello"]
    assert fake_twilio.requests[0]["account_sid"] == ACCOUNT


def test_fake_twilio_refuses_numbers_that_opted_out(fake_twilio: FakeTwilio) -> None:
    fake_twilio.opt_out("+15550001")
    result = twilio.send(hello("whatsapp"), provider_settings(twilio_api_base_url=fake_twilio.url))
    assert (result.outcome, result.stop_contact) == ("failed", True)


def test_fake_twilio_fails_as_scripted(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_next(1, 503)
    fake_twilio.fail_next(1, 0)  # dropped connection
    config = provider_settings(twilio_api_base_url=fake_twilio.url)
    assert twilio.send(hello(), config).outcome == "retry"
    assert twilio.send(hello(), config).outcome == "retry"
    assert twilio.send(hello(), config).outcome == "sent"


def test_fake_twilio_checks_credentials(fake_twilio: FakeTwilio) -> None:
    result = twilio.send(
        hello(), provider_settings(twilio_api_base_url=fake_twilio.url, twilio_auth_token="x")
    )
    assert result.outcome == "failed"
    assert "20003" in result.error


def test_fake_twilio_runs_as_a_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_twilio", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        config = provider_settings(twilio_api_base_url=url)
        assert twilio.send(hello(), config).outcome == "sent"
        control = urllib.request.Request(
            f"{url}/__fail", data=json.dumps({"n": 1, "status": 400, "code": 21610}).encode()
        )
        urllib.request.urlopen(control).read()
        assert twilio.send(hello(), config).stop_contact
        with urllib.request.urlopen(f"{url}/__requests") as answer:
            calls = json.load(answer)
        assert [call["status"] for call in calls] == [201, 400]
        assert calls[0]["params"]["Body"] == "Hello"
    finally:
        process.terminate()
        process.wait(timeout=5)
