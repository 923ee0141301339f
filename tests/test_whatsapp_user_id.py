"""WhatsApp users who hide their number write from a business-scoped user id
(`From=whatsapp:US.8000000000000009`): a WhatsApp contact like any other, answered at that id,
joined to a person by CONNECT, never by a number it does not have."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlmodel import select

from bot.db import session_scope
from bot.identity import find_contact
from models.message import IN, Message
from tests.support import drivers
from tests.support.timeline import says_at

USER_ID = "US.8000000000000009"
LEARNER = "+254711000001"
AT = "2026-11-25T08:00:00+00:00"


def inbound_count() -> int:
    with session_scope() as session:
        return len(session.exec(select(Message.id).where(Message.direction == IN)).all())


def test_a_user_id_is_stored_answered_and_replied_to_at_that_id(
    whatsapp_user, twilio_api, run_jobs
):
    hidden = whatsapp_user(USER_ID)
    assert says_at(hidden, AT, "HELP", run_jobs).startswith("You can reply:")
    assert twilio_api.sent[-1]["To"] == f"whatsapp:{USER_ID}"
    assert twilio_api.sent[-1]["From"] == drivers.WHATSAPP_FROM
    with session_scope() as session:
        contact = find_contact(session, "whatsapp", USER_ID)
        assert contact.handle == f"whatsapp:{USER_ID}"
    assert inbound_count() == 1


def test_a_user_id_is_connected_to_the_persons_sms_by_code(sms_user, whatsapp_user, run_jobs):
    on_sms, hidden = sms_user(LEARNER), whatsapp_user(USER_ID)
    says_at(on_sms, AT, "HELP", run_jobs)
    code = re.search(r"code is (\w+)\.", says_at(on_sms, AT, "CONNECT", run_jobs)).group(1)
    assert says_at(hidden, AT, f"CONNECT {code}", run_jobs).startswith(
        "Connect this WhatsApp to your SMS ending 0001?"
    )
    says_at(hidden, AT, "YES", run_jobs)
    assert on_sms.last_reply().startswith("Your WhatsApp is now connected to you")
    with session_scope() as session:
        sms = find_contact(session, "sms", LEARNER)
        assert find_contact(session, "whatsapp", USER_ID).person_id == sms.person_id


def test_a_user_id_asking_for_a_code_is_named_by_its_last_digits(sms_user, whatsapp_user, run_jobs):
    hidden = whatsapp_user(USER_ID)
    code = re.search(r"code is (\w+)\.", says_at(hidden, AT, "CONNECT", run_jobs)).group(1)
    assert says_at(sms_user(LEARNER), AT, f"CONNECT {code}", run_jobs).startswith(
        "Connect this SMS to your WhatsApp ending 0009?"
    )


def test_a_user_id_is_never_merged_with_a_number(sms_user, whatsapp_user, run_jobs):
    # The digits of the id are no phone number: an SMS from "+8000000000000009" is someone else.
    says_at(sms_user("+8000000000000009"), AT, "HELP", run_jobs)
    says_at(whatsapp_user(USER_ID), AT, "HELP", run_jobs)
    with session_scope() as session:
        sms = find_contact(session, "sms", "+8000000000000009")
        assert find_contact(session, "whatsapp", USER_ID).person_id != sms.person_id


@pytest.mark.parametrize(
    "sender",
    [
        pytest.param("whatsapp:US." + "8" * 200, id="too-long"),
        pytest.param("whatsapp:us.123", id="lower-case-country"),
        pytest.param("whatsapp:XX..1", id="two-dots"),
        pytest.param("whatsapp:US.", id="empty"),
        pytest.param("whatsapp:US.12 34", id="space"),
    ],
)
def test_a_forged_looking_sender_is_refused_and_nothing_stored(client, twilio_api, sender):
    sid = "SM" + uuid.uuid4().hex
    form = {
        "MessageSid": sid, "SmsMessageSid": sid, "AccountSid": drivers.TWILIO_SID,
        "From": sender, "To": drivers.WHATSAPP_FROM, "Body": "HELP", "NumMedia": "0",
    }  # fmt: skip
    assert drivers.signed_twilio_post(client, "/webhooks/twilio", form).status_code == 400
    assert inbound_count() == 0
