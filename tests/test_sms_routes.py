"""SMS routes: which provider carries a text to a number, and why a reply goes back the way the
person wrote (bot/channels sms_provider, jobs/send_message)."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError
from sqlmodel import select

from bot.channels import route
from bot.config import Settings
from bot.db import session_scope
from bot.identity import contact_for
from jobs import send_message
from models.circles import Signup
from models.message import OUT, Message
from models.people import Contact
from tests.support import drivers, world
from tests.support.timeline import tick_at

KENYA = {"+254": "africastalking", "*": "twilio"}
KENYAN, AMERICAN, BRITISH = "+254711000001", "+13125550101", "+447700900123"


@pytest.fixture
def kenya_routes(settings):
    settings.sms_routes = KENYA
    return settings


@pytest.mark.parametrize(
    ("number", "routes", "provider"),
    [
        (KENYAN, KENYA, "africastalking"),
        (AMERICAN, KENYA, "twilio"),
        (BRITISH, KENYA, "twilio"),
        ("+254 711 000 001", KENYA, "africastalking"),
        ("+18765550123", {"+1": "twilio", "+1876": "africastalking"}, "africastalking"),
        (AMERICAN, {"+1": "twilio", "+1876": "africastalking"}, "twilio"),
        ("+254733123456", {"+254": "twilio", "+25473": "africastalking"}, "africastalking"),
        (BRITISH, {"+254": "africastalking"}, None),
        (KENYAN, {"*": "twilio"}, "twilio"),
        (KENYAN, {"KE": "africastalking", "*": "twilio"}, "africastalking"),
        (AMERICAN, {"KE": "africastalking", "*": "twilio"}, "twilio"),
        ("+18765550123", {"JM": "africastalking", "*": "twilio"}, "africastalking"),
        (KENYAN, {"+25471": "twilio", "KE": "africastalking"}, "twilio"),
    ],
    ids=["kenyan", "us", "other", "spaced", "jamaica within +1", "us beside jamaica",
         "longest prefix", "no route", "default", "by country", "another country",
         "a country within +1", "a prefix before its country"],
)  # fmt: skip
def test_a_number_goes_by_its_longest_matching_prefix_then_its_country(number, routes, provider):
    assert route(number, routes) == provider


def test_routes_are_read_as_json_from_the_environment(monkeypatch):
    monkeypatch.setenv("SMS_ROUTES", '{"+254": "africastalking", "*": "twilio"}')
    assert Settings(_env_file=None).sms_routes == KENYA


def test_without_routes_every_number_goes_by_twilio(monkeypatch):
    monkeypatch.delenv("SMS_ROUTES", raising=False)
    assert Settings(_env_file=None).sms_routes == {"*": "twilio"}


@pytest.mark.parametrize(
    "routes",
    ['{"+254": "africas-talking"}', '{"254": "twilio"}', '{"+2": "twilio"}',
     '{"+254x": "twilio"}', '["twilio"]', '{"XX": "twilio"}'],
    ids=["unknown provider", "no plus", "no calling code", "not digits", "not an object",
         "no such country"],
)  # fmt: skip
def test_a_route_that_cannot_work_stops_the_process_at_start(routes):
    with pytest.raises(ValidationError, match="sms_routes"):
        Settings(_env_file=None, sms_routes=routes)


def test_africastalking_credentials_alone_send_through_providers():
    alone = Settings(_env_file=None, africastalking_username="kisumu", africastalking_api_key="k")
    assert alone.outbox_mode == "providers"
    assert Settings(_env_file=None).outbox_mode == "console"


def sent(number: str) -> list[tuple[str, str]]:
    """What went out to a number, and how: (status, error) of each outbound row."""
    with session_scope() as session:
        rows = session.exec(
            select(Message.status, Message.error)
            .join(Contact, Contact.id == Message.contact_id)
            .where(Contact.address == number, Message.direction == OUT)
            .order_by(Message.id)
        ).all()
        return list(rows)


def reminded(run_jobs, *numbers: str) -> None:
    """Sign these numbers up to a Nairobi circle, without their ever writing, and remind them."""
    with session_scope() as session:
        team = world.team(session, "Kisumu Libraries", "Africa/Nairobi", "telegram:5001")
        circle = world.circle(session, team, "telegram:5002", datetime(2026, 12, 1, 18, 0))
        for number in numbers:
            contact = contact_for(session, "sms", number)
            session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                               contact_id=contact.id, goal="learn"))  # fmt: skip
    tick_at("2026-11-29T15:00:00+00:00", run_jobs)


REMINDER = "Reminder: Python, Tue 1 Dec, 18:00 at Library. Reply YES if you're coming, NO if not."


def test_someone_who_never_wrote_is_texted_by_their_numbers_route(
    kenya_routes, twilio_api, africastalking_api, run_jobs
):
    reminded(run_jobs, KENYAN, AMERICAN, BRITISH)
    assert africastalking_api.to(KENYAN) == [REMINDER]
    assert twilio_api.to(AMERICAN) == [REMINDER]
    assert twilio_api.to(BRITISH) == [REMINDER]
    assert twilio_api.to(KENYAN) == [] and africastalking_api.to(AMERICAN) == []


def test_a_kenyan_who_texts_our_twilio_number_is_answered_from_it(
    kenya_routes, sms_user, africastalking_api, run_jobs
):
    amina = sms_user(KENYAN)
    amina.says("HELP")
    run_jobs()
    assert amina.last_reply().startswith("You can reply:")
    reminded(run_jobs, KENYAN)
    assert amina.last_reply() == REMINDER
    assert africastalking_api.sent == []


def test_someone_who_texts_our_shortcode_is_answered_from_it_whatever_their_number(
    settings, africastalking_user, twilio_api, run_jobs
):
    # The routes send every number by Twilio; a visitor texts the shortcode from a US phone.
    visitor = africastalking_user(AMERICAN)
    visitor.says("HELP")
    run_jobs()
    assert visitor.last_reply().startswith("You can reply:")
    assert twilio_api.sent == []


def test_someone_who_wrote_through_a_provider_we_dropped_is_texted_by_their_route(
    settings, africastalking_user, twilio_api, run_jobs
):
    amina = africastalking_user(KENYAN)
    amina.says("HELP")
    run_jobs()
    settings.africastalking_api_key = ""  # the deployment moved Kenya to Twilio
    reminded(run_jobs, KENYAN)
    assert twilio_api.to(KENYAN) == [REMINDER]


def test_an_unconfigured_route_fails_the_message_with_its_reason(
    kenya_routes, twilio_api, run_jobs
):
    kenya_routes.africastalking_shortcode = ""
    reminded(run_jobs, KENYAN, AMERICAN)
    assert sent(KENYAN) == [("failed", "sms through africastalking is not configured")]
    assert twilio_api.to(AMERICAN) == [REMINDER]


def test_a_number_no_route_takes_fails_with_its_reason(settings, twilio_api, run_jobs):
    settings.sms_routes = {"+254": "africastalking"}
    reminded(run_jobs, BRITISH)
    assert sent(BRITISH) == [("failed", "no SMS_ROUTES entry takes this number")]
    assert twilio_api.sent == []


def test_a_deployment_with_only_africastalking_answers_through_it(
    settings, africastalking_user, twilio_api, client, run_jobs
):
    for name in ("twilio_account_sid", "twilio_auth_token", "twilio_sms_from"):
        setattr(settings, name, "")
    settings.sms_routes = {"*": "africastalking"}
    amina = africastalking_user(KENYAN)
    amina.says("HELP")
    run_jobs()
    assert amina.last_reply().startswith("You can reply:")
    form = {"MessageSid": "SM1", "From": AMERICAN, "To": drivers.SMS_FROM, "Body": "HELP"}
    assert drivers.signed_twilio_post(client, "/webhooks/twilio", form).status_code == 403


def test_each_provider_paces_its_own_sender(settings):
    settings.sms_routes, settings.africastalking_rate_per_second = KENYA, 10.0
    message = Message(direction=OUT, channel="sms", status="queued")
    kenyan, american = (
        Contact(channel="sms", address=KENYAN),
        Contact(channel="sms", address=AMERICAN),
    )
    assert send_message.buckets(message, kenyan, settings) == [("africastalking:22384", 10.0)]
    assert send_message.buckets(message, american, settings) == [
        (f"twilio:{drivers.SMS_FROM}", settings.sms_rate_per_second)
    ]


def test_whatsapp_is_paced_at_its_own_rate_not_the_sms_long_codes(settings):
    settings.sms_rate_per_second, settings.whatsapp_rate_per_second = 1.0, 80.0
    message = Message(direction=OUT, channel="whatsapp", status="queued")
    contact = Contact(channel="whatsapp", address=AMERICAN)
    assert send_message.buckets(message, contact, settings) == [
        (f"twilio:{drivers.WHATSAPP_FROM}", 80.0)
    ]


@pytest.mark.parametrize(
    ("facilitator", "number"),
    [(KENYAN, drivers.AT_SHORTCODE), (AMERICAN, "+15550000000"), (None, "+15550000000")],
    ids=["kenyan", "american", "on telegram"],
)
def test_the_share_line_names_the_number_the_facilitators_learners_text(
    kenya_routes, facilitator, number
):
    from conversations.create_circle import share_line

    assert share_line("PY7K", "en", facilitator) == f"Text JOIN PY7K to {number} to join."


def test_a_kenyan_share_line_names_the_shortcode_even_without_twilio(kenya_routes):
    from conversations.create_circle import share_line

    kenya_routes.twilio_sms_from = ""
    assert (
        share_line("PY7K", "en", AMERICAN) == f"Text JOIN PY7K to {drivers.AT_SHORTCODE} to join."
    )
