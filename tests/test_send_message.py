"""Sending: retries with backoff, permanent failures, opt-outs, stuck sends and a flushed Redis."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlmodel import select

from bot import outbox, queue
from bot.clock import now
from bot.db import session_scope
from bot.identity import contact_for
from jobs import send_message, tick
from models.message import OUT, Message
from models.people import Contact


def outbound_rows() -> list[Message]:
    with session_scope() as session:
        return list(
            session.exec(select(Message).where(Message.direction == OUT).order_by(Message.id)).all()
        )


def queue_to(channel: str, address: str, body: str, **kwargs) -> int:
    with session_scope() as session:
        contact = contact_for(session, channel, address)
        contact.last_inbound_at = now()
        return outbox.to_contact(session, contact, body, **kwargs).id


def test_a_provider_failing_with_500_is_retried_until_sent(sms_user, run_jobs, twilio_api):
    twilio_api.fail_next(2, status=500)
    alice = sms_user("+15550001")
    alice.says("HELP")
    run_jobs()
    assert outbound_rows()[0].status == "retry"
    for minutes in (1, 3):
        with time_machine.travel(now() + timedelta(minutes=minutes)):
            tick.run()
            run_jobs()
    row = outbound_rows()[0]
    assert row.status == "sent"
    assert row.attempts == 3
    assert len(alice.replies()) == 1


def test_a_429_is_retried_after_a_pause(sms_user, run_jobs, twilio_api):
    twilio_api.fail_next(1, status=429, code=20429)
    alice = sms_user("+15550001")
    alice.says("HELP")
    run_jobs()
    row = outbound_rows()[0]
    assert row.status == "retry"
    assert row.next_attempt_at > now()
    run_jobs()  # too early: nothing is sent before its time
    assert alice.replies() == []
    with time_machine.travel(now() + timedelta(minutes=2)):
        tick.run()
        run_jobs()
    assert len(alice.replies()) == 1


def test_21610_stops_the_contact_without_retrying(sms_user, run_jobs, twilio_api):
    twilio_api.fail_next(1, status=400, code=21610)
    alice = sms_user("+15550001")
    alice.says("HELP")
    run_jobs()
    row = outbound_rows()[0]
    assert (row.status, row.attempts) == ("failed", 1)
    assert "21610" in row.error
    with session_scope() as session:
        assert session.exec(select(Contact)).one().opted_out_at is not None
    with time_machine.travel(now() + timedelta(hours=1)):
        tick.run()
        run_jobs()
    assert len(twilio_api.attempts) == 1


def test_a_permanent_error_is_recorded_and_not_retried(sms_user, run_jobs, twilio_api):
    twilio_api.fail_next(1, status=400, code=21211)
    alice = sms_user("+15550001")
    alice.says("HELP")
    run_jobs()
    row = outbound_rows()[0]
    assert row.status == "failed" and "21211" in row.error
    with time_machine.travel(now() + timedelta(hours=1)):
        tick.run()
        run_jobs()
    assert len(twilio_api.attempts) == 1


def test_retries_give_up_after_the_last_attempt(sms_user, run_jobs, twilio_api, settings):
    twilio_api.fail_next(20, status=503)
    sms_user("+15550001").says("HELP")
    run_jobs()
    for hour in range(1, 10):
        with time_machine.travel(now() + timedelta(hours=hour)):
            tick.run()
            run_jobs()
    row = outbound_rows()[0]
    assert row.status == "failed"
    assert row.attempts == settings.max_send_attempts
    assert len(twilio_api.attempts) == settings.max_send_attempts


def test_a_send_left_in_sending_becomes_unknown_and_is_never_resent(run_jobs, twilio_api):
    message_id = queue_to("sms", "+15550001", "Your circle meets tomorrow")
    with session_scope() as session:
        message = session.get(Message, message_id)
        # The worker claimed it and died before it could record the provider's answer.
        message.status, message.claimed_at, message.attempts = "sending", now(), 1
    queue.connection().flushdb()
    with time_machine.travel(now() + timedelta(minutes=10)):
        result = tick.run()
        run_jobs()
    assert result["queued"]["unknown"] == 1
    assert outbound_rows()[0].status == "unknown"
    send_message.run(message_id)
    assert twilio_api.attempts == []


def test_a_tick_as_of_next_week_leaves_a_send_in_flight_alone(run_jobs, twilio_api):
    message_id = queue_to("sms", "+15550001", "Your circle meets tomorrow")
    with session_scope() as session:
        message = session.get(Message, message_id)
        message.status, message.claimed_at, message.attempts = "sending", now(), 1
    # A simulated tick (the demo's `tick --at`) is not a week of the worker's time.
    result = tick.run(at=(now() + timedelta(days=7)).isoformat())
    assert "unknown" not in result["queued"]
    assert outbound_rows()[0].status == "sending"


def test_after_redis_is_flushed_the_next_tick_sends_each_message_exactly_once(run_jobs, twilio_api):
    ids = [queue_to("sms", f"+1555000{n}", f"Hello {n}") for n in range(5)]
    queue.connection().flushdb()
    run_jobs()
    assert twilio_api.sent == []
    with time_machine.travel(now() + timedelta(minutes=1)):
        tick.run()
        tick.run()
        run_jobs()
    with time_machine.travel(now() + timedelta(minutes=2)):
        tick.run()
        run_jobs()
    assert sorted(form["Body"] for form in twilio_api.sent) == [f"Hello {n}" for n in range(5)]
    assert {row.id for row in outbound_rows() if row.status == "sent"} == set(ids)


def test_running_the_send_job_twice_sends_once(run_jobs, twilio_api):
    message_id = queue_to("sms", "+15550001", "Hello")
    send_message.run(message_id)
    send_message.run(message_id)
    run_jobs()
    assert len(twilio_api.sent) == 1


def test_telegram_retry_after_is_honoured(telegram_user, run_jobs, fake_telegram):
    fake_telegram.fail_next(1, status=429, retry_after=7, method="sendMessage")
    ann = telegram_user(4242)
    ann.says("/help")
    started = now()
    run_jobs()
    row = outbound_rows()[0]
    assert row.status == "retry"
    assert timedelta(seconds=6) <= row.next_attempt_at - started <= timedelta(seconds=9)
    with time_machine.travel(now() + timedelta(seconds=30)):
        tick.run()
        run_jobs()
    assert len(ann.replies()) == 1


def test_a_telegram_user_who_blocked_the_bot_is_stopped(telegram_user, run_jobs, fake_telegram):
    fake_telegram.fail_next(
        1, status=403, method="sendMessage", description="Forbidden: bot was blocked by the user"
    )
    telegram_user(4242).says("/help")
    run_jobs()
    assert outbound_rows()[0].status == "failed"
    with session_scope() as session:
        assert session.exec(select(Contact)).one().opted_out_at is not None


def test_whatsapp_outside_the_window_without_a_template_fails_with_a_reason(run_jobs, twilio_api):
    with session_scope() as session:
        contact = contact_for(session, "whatsapp", "+254712345678")
        outbox.to_contact(session, contact, "Reminder", purpose="reminder")
    run_jobs()
    row = outbound_rows()[0]
    assert row.status == "failed"
    assert "24-hour window" in row.error and "reminder" in row.error
    assert twilio_api.attempts == []


def test_whatsapp_outside_the_window_uses_the_purposes_template(run_jobs, twilio_api, settings):
    settings.twilio_whatsapp_templates = {"reminder": "HX" + "a" * 32}
    with session_scope() as session:
        contact = contact_for(session, "whatsapp", "+254712345678")
        contact.last_inbound_at = now() - timedelta(days=3)
        outbox.to_contact(session, contact, "Python circle, Tue 18:00", purpose="reminder")
    run_jobs()
    form = twilio_api.sent[0]
    assert form["ContentSid"] == "HX" + "a" * 32
    assert "Python circle, Tue 18:00" in form["ContentVariables"]
    assert "Body" not in form
    assert outbound_rows()[0].template == "HX" + "a" * 32


def test_whatsapp_inside_the_window_sends_free_text(run_jobs, twilio_api):
    queue_to("whatsapp", "+254712345678", "Karibu!")
    run_jobs()
    assert twilio_api.sent[0]["Body"] == "Karibu!"
    assert twilio_api.sent[0]["To"] == "whatsapp:+254712345678"


def test_sms_carries_a_status_callback(run_jobs, twilio_api):
    queue_to("sms", "+15550001", "Hi")
    run_jobs()
    message_id = outbound_rows()[0].id
    assert twilio_api.sent[0]["StatusCallback"] == (
        f"https://circlebot.test/webhooks/twilio/status?m={message_id}"
    )


def test_recovery_does_not_pile_up_jobs_tick_after_tick(run_jobs, twilio_api):
    queue_to("sms", "+15550001", "Hello")
    queue.connection().flushdb()
    later = now() + timedelta(minutes=1)
    with time_machine.travel(later):
        counts = [tick.run()["queued"].get("recovered:reply", 0) for _ in range(3)]
    assert counts == [1, 0, 0]
    assert queue.queue(queue.HIGH).count == 1
    run_jobs()
    assert len(twilio_api.sent) == 1


def test_a_send_job_that_crashed_before_its_claim_is_recovered(run_jobs, twilio_api, monkeypatch):
    from bot import throttle

    def redis_hiccup(*args, **kwargs):
        raise ConnectionError("redis went away for a moment")

    message_id = queue_to("sms", "+15550001", "Hello")
    monkeypatch.setattr(throttle, "take", redis_hiccup)
    run_jobs()  # the job fails before claiming; its RQ hash stays around as "failed"
    monkeypatch.undo()
    assert outbound_rows()[0].status == "queued"
    with time_machine.travel(now() + timedelta(minutes=1)):
        tick.run()
        run_jobs()
    assert [form["Body"] for form in twilio_api.sent] == ["Hello"]
    assert outbound_rows()[0].id == message_id


def test_a_reply_echoes_a_link_id_only_within_the_hour_of_the_message(
    africastalking_user, africastalking_api, run_jobs
):
    amina = africastalking_user("+254711000001")
    amina.says("HELP", link_id="41000000000000000001")
    run_jobs()
    assert africastalking_api.sent[-1]["linkId"] == "41000000000000000001"
    for minutes, echoed in ((30, "41000000000000000001"), (90, None)):
        with time_machine.travel(now() + timedelta(minutes=minutes)):
            with session_scope() as session:
                contact = session.exec(select(Contact)).one()
                outbox.to_contact(session, contact, "Your circle meets in the hall today.")
            run_jobs()
        assert africastalking_api.sent[-1].get("linkId") == echoed, minutes
