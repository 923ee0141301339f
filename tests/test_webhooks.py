"""Webhooks: signed posts stored and handled once; forgeries refused; garbage never a 5xx."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

from bot.db import get_engine, session_scope
from models.message import IN, OUT, Message
from models.people import Contact
from models.teams import GroupChat
from tests.support import drivers


def count(direction: str) -> int:
    with session_scope() as session:
        return session.exec(
            select(func.count()).select_from(Message).where(Message.direction == direction)
        ).one()


def test_a_replayed_sms_is_stored_and_handled_once(client, sms_user, run_jobs):
    alice = sms_user("+15550001")
    sid = alice.says("HELP")
    for _ in range(10):
        alice.says("HELP", MessageSid=sid)
    run_jobs()
    assert count(IN) == 1
    assert len(alice.replies()) == 1


def test_a_replayed_telegram_update_is_stored_and_handled_once(client, telegram_user, run_jobs):
    ann = telegram_user(777)
    update = ann.says("/help")
    for _ in range(10):
        assert drivers.telegram_post(client, update).status_code == 200
    run_jobs()
    assert count(IN) == 1
    assert len(ann.replies()) == 1


def test_twilio_answers_with_empty_twiml_fast(client):
    form = {"MessageSid": "SM1", "From": "+15550001", "To": drivers.SMS_FROM, "Body": "hi"}
    response = drivers.signed_twilio_post(client, "/webhooks/twilio", form)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert b"<Response></Response>" in response.data


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        {"X-Twilio-Signature": ""},
        {"X-Twilio-Signature": "sïgnätürë ünïcödé"},
    ],
)
def test_a_forged_twilio_post_is_refused_and_nothing_is_stored(client, headers):
    form = {"MessageSid": "SM1", "From": "+15550001", "Body": "STOP"}
    response = client.post("/webhooks/twilio", data=form, headers=headers)
    assert response.status_code == 403
    assert count(IN) == 0


def test_a_post_signed_with_another_token_is_refused(client):
    form = {"MessageSid": "SM1", "From": "+15550001", "Body": "HELP"}
    response = drivers.signed_twilio_post(client, "/webhooks/twilio", form, token="wrong")
    assert response.status_code == 403
    assert count(IN) == 0


def test_a_signed_form_with_a_changed_field_is_refused(client):
    form = {"MessageSid": "SM1", "From": "+15550001", "Body": "HELP"}
    signature = drivers.RequestValidator(drivers.TWILIO_TOKEN).compute_signature(
        drivers.PUBLIC_BASE_URL + "/webhooks/twilio", form
    )
    forged = form | {"Body": "STOP"}
    response = client.post(
        "/webhooks/twilio", data=forged, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403
    assert count(IN) == 0


@pytest.mark.parametrize("secret", [None, "", "guess"])
def test_telegram_without_the_secret_is_refused(client, telegram_user, secret):
    update = telegram_user(777).update("/help")
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    response = client.post("/webhooks/telegram", json=update, headers=headers)
    assert response.status_code == 403
    assert count(IN) == 0


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"Body": "HELP"},
        {"MessageSid": "SM1"},
        {"MessageSid": "SM1", "From": "not a number", "Body": "x"},
        {"MessageSid": "SM1", "From": "", "Body": "x"},
    ],
)
def test_a_malformed_twilio_form_gets_a_4xx(client, form):
    response = drivers.signed_twilio_post(client, "/webhooks/twilio", form)
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[]", b"null", b'"text"', b'{"message": {}}', b'{"update_id": "x"}',
     b'{"update_id": 1, "message": {"chat": 5}}', b"\xff\xfe",
     b'{"update_id": 2, "x": ' + b"[" * 100000 + b"]" * 100000 + b"}"],
)  # fmt: skip
def test_a_telegram_update_we_cannot_read_is_acknowledged_and_never_stored(client, body):
    response = client.post(
        "/webhooks/telegram",
        data=body,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": drivers.TELEGRAM_SECRET},
    )
    # Telegram would retry anything else for a day.
    assert response.status_code == 200
    assert count(IN) == 0


def test_an_update_the_telegram_library_cannot_parse_is_logged_once(client, caplog):
    update = {"update_id": 7, "message": {"message_id": 1, "date": "noon", "chat": {"id": 5}}}
    response = drivers.telegram_post(client, update)
    assert response.status_code == 200
    assert count(IN) == 0
    ignored = [r for r in caplog.records if "cannot read" in r.getMessage()]
    assert len(ignored) == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"MessageStatus": "delivered", "SmsStatus": "delivered"},
        {"MessageStatus": "sent"},
        {"SmsStatus": "undelivered", "ErrorCode": "30003"},
        {"From": drivers.SMS_FROM, "To": "+15550002"},
    ],
)
def test_a_status_report_posted_to_the_incoming_url_is_not_a_persons_message(
    client, twilio_api, run_jobs, extra
):
    form = {"MessageSid": "SM" + "1" * 32, "AccountSid": drivers.TWILIO_SID,
            "From": "+15550002", "To": drivers.SMS_FROM, "Body": "HELP"} | extra  # fmt: skip
    response = drivers.signed_twilio_post(client, "/webhooks/twilio", form)
    run_jobs()
    assert response.status_code == 200
    assert count(IN) == 0
    assert twilio_api.sent == []


def test_an_incoming_message_that_says_received_is_answered(sms_user, run_jobs):
    learner = sms_user("+15550003")
    learner.says("HELP", SmsStatus="received", ApiVersion="2010-04-01")
    run_jobs()
    assert learner.last_reply().startswith("You can reply:")


@pytest.mark.parametrize("form", [{}, {"MessageStatus": "delivered"}])
def test_a_malformed_status_callback_gets_a_4xx(client, form):
    response = drivers.signed_twilio_post(client, "/webhooks/twilio/status", form)
    assert 400 <= response.status_code < 500


def test_a_forged_status_callback_is_refused(client):
    response = client.post(
        "/webhooks/twilio/status", data={"MessageSid": "SM1", "MessageStatus": "failed"}
    )
    assert response.status_code == 403


def sent_row():
    with session_scope() as session:
        return session.exec(select(Message).where(Message.direction == OUT)).one()


def status(client, sid: str, value: str, **extra: str) -> None:
    form = {"MessageSid": sid, "MessageStatus": value, "AccountSid": drivers.TWILIO_SID} | extra
    assert drivers.signed_twilio_post(client, "/webhooks/twilio/status", form).status_code == 200


def test_delivery_callbacks_in_order_end_delivered(client, sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("HELP")
    run_jobs()
    sid = sent_row().provider_id
    for value in ("queued", "sent", "delivered"):
        status(client, sid, value)
    assert sent_row().status == "delivered"


def test_a_late_callback_never_moves_a_message_back_from_a_final_state(client, sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("HELP")
    run_jobs()
    sid = sent_row().provider_id
    status(client, sid, "delivered")
    status(client, sid, "sent")
    status(client, sid, "queued")
    status(client, sid, "failed", ErrorCode="30003")
    assert sent_row().status == "delivered"


def test_an_undelivered_callback_records_the_carrier_error(client, sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("HELP")
    run_jobs()
    sid = sent_row().provider_id
    status(client, sid, "undelivered", ErrorCode="30003")
    row = sent_row()
    assert row.status == "undelivered"
    assert "30003" in row.error


def test_health_and_readiness(client):
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"ok": True, "database": "ok", "redis": "ok"}


def test_the_bot_removed_from_a_group_unlinks_it(client, telegram_user, run_jobs):
    from tests.support import world

    ann = telegram_user(777)
    ann.says_in(-100555, "/help@circlebot_test_bot")
    with session_scope() as session:
        team = world.team(session, "Kisumu", "Africa/Nairobi", "telegram:777")
        group = session.exec(select(GroupChat)).one()
        group.team_id = team.id
    kicked = {
        "update_id": 99001,
        "my_chat_member": {
            "chat": {"id": -100555, "type": "group", "title": "Team chat"},
            "from": {"id": 777, "is_bot": False, "first_name": "Ann"},
            "date": 1790000000,
            "old_chat_member": {"user": {"id": 1, "is_bot": True, "first_name": "bot"}, "status": "member"},
            "new_chat_member": {"user": {"id": 1, "is_bot": True, "first_name": "bot"}, "status": "kicked", "until_date": 0},
        },
    }  # fmt: skip
    assert drivers.telegram_post(client, kicked).status_code == 200
    with session_scope() as session:
        assert session.exec(select(GroupChat)).one().team_id is None


def test_a_group_upgraded_to_a_supergroup_keeps_its_link(client, telegram_user):
    from tests.support import world

    ann = telegram_user(777)
    ann.says_in(-555, "/help@circlebot_test_bot")
    with session_scope() as session:
        team = world.team(session, "Kisumu", "Africa/Nairobi", "telegram:777")
        session.exec(select(GroupChat)).one().team_id = team.id
        team_id = team.id
    migration = {
        "update_id": 99002,
        "message": {
            "message_id": 50,
            "from": {"id": 777, "is_bot": False, "first_name": "Ann"},
            "chat": {"id": -555, "type": "group", "title": "Team chat"},
            "date": 1790000000,
            "migrate_to_chat_id": -1001234567890,
        },
    }
    assert drivers.telegram_post(client, migration).status_code == 200
    with session_scope() as session:
        group = session.exec(select(GroupChat)).one()
        assert (group.chat_id, group.team_id) == ("-1001234567890", team_id)


def test_behind_a_trusted_proxy_the_signature_is_checked_against_the_forwarded_url(
    client, settings
):
    settings.trusted_proxies = 1
    from app import create_app

    proxied = create_app(settings).test_client()
    form = {"MessageSid": "SM9", "From": "+15550001", "To": drivers.SMS_FROM, "Body": "HELP"}
    url = "https://bot.example.org/webhooks/twilio"
    signature = drivers.RequestValidator(drivers.TWILIO_TOKEN).compute_signature(url, form)
    headers = {
        "X-Twilio-Signature": signature,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "bot.example.org",
    }
    assert proxied.post("/webhooks/twilio", data=form, headers=headers).status_code == 200
    headers["X-Forwarded-Host"] = "evil.example.org"
    form["MessageSid"] = "SM10"
    assert proxied.post("/webhooks/twilio", data=form, headers=headers).status_code == 403


@pytest.mark.parametrize(
    "text",
    ["", "a\x00b", "x" * 5000, "\u202eolleh", "'; DROP TABLE message; --", "{body} %s {{1}}",
     "\x07\x1b[31m", "🙂" * 300],
)  # fmt: skip
def test_hostile_text_is_stored_and_answered_kindly(sms_user, telegram_user, run_jobs, text):
    alice, ann = sms_user("+15550001"), telegram_user(4242)
    alice.says(text)
    ann.says(text or " ")
    run_jobs()
    assert len(alice.replies()) == 1 and len(ann.replies()) == 1
    assert "Sorry, something went wrong" not in alice.last_reply()


def test_a_delivery_callback_that_beats_our_own_record_is_kept(client, sms_user, run_jobs):
    from bot.channels.base import SendResult
    from jobs.send_message import record

    alice = sms_user("+15550001")
    alice.says("HELP")
    run_jobs()
    row = sent_row()
    with session_scope() as session:
        # As if the worker were still between Twilio's answer and writing it down.
        message = session.get(Message, row.id)
        message.status, message.provider_id = "sending", None
    form = {"MessageSid": "SMearly", "MessageStatus": "delivered", "AccountSid": drivers.TWILIO_SID}
    path = f"/webhooks/twilio/status?m={row.id}"
    assert drivers.signed_twilio_post(client, path, form).status_code == 200
    from bot.config import get_settings

    record(row.id, SendResult.sent("SMearly"), get_settings())
    row = sent_row()
    assert (row.status, row.provider_id) == ("delivered", "SMearly")


def test_a_callback_for_another_message_id_changes_nothing(client, sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("HELP")
    run_jobs()
    row = sent_row()
    form = {"MessageSid": "SMother", "MessageStatus": "failed", "AccountSid": drivers.TWILIO_SID}
    path = f"/webhooks/twilio/status?m={row.id}"
    assert drivers.signed_twilio_post(client, path, form).status_code == 200
    assert sent_row().status == "sent"


def test_first_messages_racing_into_a_new_group_are_all_kept(app, telegram_user, run_jobs):
    import threading

    users = [telegram_user(9000 + n) for n in range(12)]
    updates = [
        user.update("/help@circlebot_test_bot", chat={"id": -100777, "type": "group", "title": "T"})
        for user in users
    ]
    start = threading.Barrier(len(updates))
    codes = []

    def post(update):
        client = app.test_client()
        start.wait()
        codes.append(drivers.telegram_post(client, update).status_code)

    threads = [threading.Thread(target=post, args=(update,)) for update in updates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * len(updates)
    assert count(IN) == len(updates)
    with session_scope() as session:
        assert len(session.exec(select(GroupChat)).all()) == 1


def test_a_lone_surrogate_from_telegram_json_is_stored_and_answered(
    client, run_jobs, telegram_user
):
    ann = telegram_user(4242)
    update = ann.update("HELP")
    body = json.dumps(update).replace('"HELP"', '"\\ud800HELP"').encode()
    response = client.post(
        "/webhooks/telegram",
        data=body,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": drivers.TELEGRAM_SECRET},
    )
    assert response.status_code == 200
    run_jobs()
    assert len(ann.replies()) == 1


# -- Africa's Talking: its callbacks carry our secret in their URL ------------------------------

KENYAN = "+254711000001"


def delivery(client, message_id: str, value: str, **extra: str) -> None:
    """Post Africa's Talking's delivery report on one of our messages."""
    form = {"id": message_id, "status": value, "phoneNumber": KENYAN,
            "networkCode": drivers.SAFARICOM, "retryCount": "0"} | extra  # fmt: skip
    response = drivers.africastalking_post(client, drivers.AT_DELIVERY_PATH, form)
    assert response.status_code == 200


def test_a_replayed_africastalking_sms_is_stored_and_handled_once(
    client, africastalking_user, run_jobs
):
    amina = africastalking_user(KENYAN)
    message_id = amina.says("HELP")
    for _ in range(5):
        amina.says("HELP", message_id=message_id)
    run_jobs()
    assert count(IN) == 1
    assert len(amina.replies()) == 1


@pytest.mark.parametrize("path", [drivers.AT_SMS_PATH, drivers.AT_DELIVERY_PATH])
@pytest.mark.parametrize("secret", [None, "", "guess", drivers.AT_SECRET[:-1]])
def test_an_africastalking_callback_without_our_secret_is_refused(
    client, africastalking_user, path, secret
):
    form = africastalking_user(KENYAN).form("STOP")
    assert drivers.africastalking_post(client, path, form, secret=secret).status_code == 403
    assert count(IN) == 0


def test_a_secret_in_a_header_or_the_form_is_not_the_secret_in_the_url(client, africastalking_user):
    form = africastalking_user(KENYAN).form("STOP") | {"secret": drivers.AT_SECRET}
    response = client.post(drivers.AT_SMS_PATH, data=form, headers={"X-Secret": drivers.AT_SECRET})
    assert response.status_code == 403
    assert count(IN) == 0


def test_without_a_secret_set_africastalking_callbacks_are_all_refused(
    client, settings, africastalking_user
):
    settings.africastalking_webhook_secret = ""
    form = africastalking_user(KENYAN).form("HELP")
    for secret in ("", drivers.AT_SECRET):
        response = drivers.africastalking_post(client, drivers.AT_SMS_PATH, form, secret=secret)
        assert response.status_code == 403
    assert count(IN) == 0


@pytest.mark.parametrize(
    "change",
    [
        lambda form: {},
        lambda form: {"text": "HELP"},
        lambda form: form | {"id": ""},
        lambda form: form | {"from": ""},
        lambda form: form | {"from": "Safaricom"},
        lambda form: form | {"id": "x" * 65},
        lambda form: {"id": "ATXid_1", "status": "Success", "phoneNumber": KENYAN},
    ],
    ids=["empty", "text only", "no id", "no sender", "alphanumeric sender", "long id",
         "a delivery report"],
)  # fmt: skip
def test_an_africastalking_form_that_is_not_a_message_gets_a_400(
    client, africastalking_user, africastalking_api, run_jobs, change
):
    form = change(africastalking_user(KENYAN).form("HELP"))
    assert drivers.africastalking_post(client, drivers.AT_SMS_PATH, form).status_code == 400
    run_jobs()
    assert count(IN) == 0
    assert africastalking_api.sent == []


@pytest.mark.parametrize(
    "text",
    ["", "a\x00b", "x" * 5000, "\u202eolleh", "'; DROP TABLE message; --", "{body} %s {{1}}",
     "🙂" * 300],
)  # fmt: skip
def test_hostile_text_to_the_shortcode_is_stored_and_answered_kindly(
    africastalking_user, run_jobs, text
):
    amina = africastalking_user(KENYAN)
    amina.says(text)
    run_jobs()
    assert len(amina.replies()) == 1
    assert "Sorry, something went wrong" not in amina.last_reply()


def test_text_that_is_not_utf8_is_stored_and_answered(client, africastalking_user, run_jobs):
    from urllib.parse import urlencode

    amina = africastalking_user(KENYAN)
    form = urlencode({k: v for k, v in amina.form("x").items() if k != "text"})
    response = client.post(
        drivers.AT_SMS_PATH,
        query_string={"secret": drivers.AT_SECRET},
        data=form + "&text=%FF%FEHELP",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    run_jobs()
    assert len(amina.replies()) == 1


class DatabaseAway:
    """The database refusing every write of an incoming message, until it comes back."""

    def __enter__(self):
        event.listen(get_engine(), "before_cursor_execute", self.refuse)
        return self

    def __exit__(self, *_):
        event.remove(get_engine(), "before_cursor_execute", self.refuse)

    @staticmethod
    def refuse(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO MESSAGE"):
            raise OperationalError(statement, parameters, Exception("the database is away"))


def test_an_africastalking_sms_we_could_not_store_gets_a_503_and_its_retry_is_answered(
    client, africastalking_user, run_jobs, caplog
):
    amina = africastalking_user(KENYAN)
    form = amina.form("HELP")
    with DatabaseAway():
        response = drivers.africastalking_post(client, drivers.AT_SMS_PATH, form)
    assert response.status_code == 503
    assert count(IN) == 0
    assert "not stored, answered 503: the database is away" in caplog.text
    assert drivers.africastalking_post(client, drivers.AT_SMS_PATH, form).status_code == 200
    run_jobs()
    assert len(amina.replies()) == 1


def test_a_twilio_sms_we_could_not_store_gets_a_503_never_a_200(client, sms_user, run_jobs):
    form = {"MessageSid": "SM1", "From": "+15550001", "To": drivers.SMS_FROM, "Body": "HELP"}
    with DatabaseAway():
        response = drivers.signed_twilio_post(client, "/webhooks/twilio", form)
    assert response.status_code == 503
    assert count(IN) == 0


def at_row():
    with session_scope() as session:
        return session.exec(select(Message).where(Message.direction == OUT)).one()


def test_delivery_reports_end_delivered_and_never_move_back(
    client, africastalking_user, africastalking_api, run_jobs
):
    africastalking_user(KENYAN).says("HELP")
    run_jobs()
    message_id = africastalking_api.sent[0]["messageId"]
    assert at_row().provider_id == message_id
    for value in ("Sent", "Submitted", "Buffered", "Success"):
        delivery(client, message_id, value)
    assert at_row().status == "delivered"
    delivery(client, message_id, "Failed", failureReason="DeliveryFailure")
    delivery(client, message_id, "Sent")
    assert at_row().status == "delivered"


def test_an_undelivered_report_records_its_reason(
    client, africastalking_user, africastalking_api, run_jobs
):
    africastalking_user(KENYAN).says("HELP")
    run_jobs()
    delivery(client, africastalking_api.sent[0]["messageId"], "AbsentSubscriber",
             failureReason="AbsentSubscriber")  # fmt: skip
    assert (at_row().status, at_row().error) == ("undelivered", "AbsentSubscriber")


@pytest.mark.parametrize(
    "form",
    [{}, {"status": "Success"}, {"id": "ATXid_nobody", "status": "Success"},
     {"id": "ATXid_nobody", "status": "SomethingNew"}],
    ids=["empty", "no id", "not ours", "a status we do not know"],
)  # fmt: skip
def test_a_delivery_report_we_cannot_place_changes_nothing(
    client, africastalking_user, run_jobs, form
):
    africastalking_user(KENYAN).says("HELP")
    run_jobs()
    response = drivers.africastalking_post(client, drivers.AT_DELIVERY_PATH, form)
    assert response.status_code == (400 if not form.get("id") else 200)
    assert at_row().status == "sent"


def scheduled_jobs_run_now(run_jobs) -> int:
    """Move the jobs RQ holds for later onto their queue and run them, as its scheduler will."""
    from rq.registry import ScheduledJobRegistry

    from bot import queue

    moved = 0
    for name in queue.QUEUES:
        target = queue.queue(name)
        registry = ScheduledJobRegistry(queue=target)
        for job_id in registry.get_job_ids():
            registry.remove(job_id)
            target.enqueue_job(target.fetch_job(job_id))
            moved += 1
    run_jobs()
    return moved


def test_a_delivery_report_that_beats_our_record_of_the_send_is_applied_after_it(
    client, africastalking_user, africastalking_api, run_jobs
):
    from bot.channels.base import SendResult
    from bot.config import get_settings
    from jobs.send_message import record

    africastalking_user(KENYAN).says("HELP")
    run_jobs()
    message_id = africastalking_api.sent[0]["messageId"]
    with session_scope() as session:
        # As if the batch were still between Africa's Talking's answer and writing it down.
        row = session.exec(select(Message).where(Message.direction == OUT)).one()
        row.status, row.provider_id = "sending", None
        row_id = row.id
    delivery(client, message_id, "Success")
    assert at_row().status == "sending"
    record(row_id, SendResult.sent(message_id), get_settings())
    assert at_row().status == "sent"
    assert scheduled_jobs_run_now(run_jobs) == 1
    assert at_row().status == "delivered"


def test_a_report_that_never_finds_its_message_is_tried_three_times_then_dropped(
    client, africastalking_user, run_jobs
):
    africastalking_user(KENYAN).says("HELP")
    run_jobs()
    delivery(client, "ATXid_nobody", "Success")
    tries = [scheduled_jobs_run_now(run_jobs) for _ in range(4)]
    assert tries == [1, 1, 1, 0]
    assert at_row().status == "sent"


def test_a_blacklisted_number_stops_the_contact(
    client, africastalking_user, africastalking_api, run_jobs
):
    amina = africastalking_user(KENYAN)
    amina.says("HELP")
    run_jobs()
    delivery(client, africastalking_api.sent[0]["messageId"], "Rejected",
             failureReason="UserInBlackList")  # fmt: skip
    assert at_row().status == "failed"
    with session_scope() as session:
        assert session.exec(select(Contact.opted_out_at)).one() is not None
    amina.says("HELP")
    run_jobs()
    assert amina.last_reply() == "Messages from circlebot are off. Reply START to get them again."
