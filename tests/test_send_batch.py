"""Bulk sends many to a job: each message still once, never after STOP, and recovered when its
batch is lost."""

from __future__ import annotations

from collections import Counter

from sqlmodel import select

from bot import outbox, queue
from bot.clock import now
from bot.db import get_engine, session_scope
from bot.identity import contact_for
from jobs import send_batch, tick
from models.message import OUT, Message
from models.people import Contact


def bulk(count: int) -> list[int]:
    """Queue `count` announcements to as many SMS contacts, as a sweep does."""
    with session_scope() as session:
        rows = []
        for n in range(count):
            contact = contact_for(session, "sms", f"+1555400{n:04d}")
            rows.append({"channel": "sms", "contact_id": contact.id, "body": f"Hello {n}",
                         "purpose": "announcement", "dedupe_key": f"bulk:{n}"})  # fmt: skip
        return outbox.queue_once(session, rows, queue_name=queue.LOW)


def statuses() -> Counter:
    with session_scope() as session:
        return Counter(session.exec(select(Message.status).where(Message.direction == OUT)).all())


def test_bulk_rows_go_a_hundred_to_a_job_and_each_is_sent_once(run_jobs, twilio_api):
    bulk(250)
    jobs = queue.queue(queue.LOW).get_jobs()
    assert [len(job.args[0]) for job in jobs] == [100, 100, 50]
    run_jobs()
    assert statuses() == {"sent": 250}
    assert sorted(form["To"] for form in twilio_api.sent) == [
        f"+1555400{n:04d}" for n in range(250)
    ]
    with session_scope() as session:
        ids = session.exec(select(Message.provider_id).where(Message.direction == OUT)).all()
    assert len(set(ids)) == 250 and all(ids)


def test_a_batch_run_twice_sends_nothing_twice(run_jobs, twilio_api):
    ids = bulk(30)
    send_batch.run(ids)
    send_batch.run(ids)
    run_jobs()
    assert len(twilio_api.sent) == 30
    assert statuses() == {"sent": 30}


def test_a_contact_who_stops_before_the_batch_runs_gets_nothing(run_jobs, twilio_api):
    bulk(5)
    with session_scope() as session:
        contact = session.exec(select(Contact).where(Contact.address == "+15554000002")).one()
        contact.opted_out_at = now()
    run_jobs()
    assert "+15554000002" not in [form["To"] for form in twilio_api.sent]
    assert statuses() == {"sent": 4, "suppressed": 1}


def test_a_contact_who_stops_while_the_batch_is_sending_gets_nothing_more(run_jobs):
    import responses

    from tests.support.twilio_api import TwilioAPI

    class TwilioWhileSomeoneStops(TwilioAPI):
        """Twilio, while the fourth learner texts STOP as the first reminder goes out."""

        def _answer(self, request):
            if not self.attempts:
                with session_scope() as session:
                    contact = session.exec(
                        select(Contact).where(Contact.address == "+15554000003")
                    ).one()
                    contact.opted_out_at = now()
            return super()._answer(request)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        twilio = TwilioWhileSomeoneStops(mock)
        bulk(5)  # one chunk: each row is claimed, and STOP checked, just before it goes
        run_jobs()
    assert "+15554000003" not in [form["To"] for form in twilio.sent]
    assert statuses() == {"sent": 4, "suppressed": 1}


def test_a_failing_send_is_retried_alone_and_the_rest_go(run_jobs, twilio_api):
    twilio_api.fail_next(1, status=500)
    bulk(5)
    run_jobs()
    assert statuses() == {"sent": 4, "retry": 1}


def test_recovery_leaves_a_waiting_batch_alone_and_takes_over_a_lost_one(run_jobs, twilio_api):
    from datetime import timedelta

    bulk(10)
    later = now() + timedelta(minutes=2)
    assert "recovered:announcement" not in tick.run(at=later.isoformat())["queued"]
    # Redis loses the batch job: the next tick sends each row on its own, once.
    for job in queue.queue(queue.LOW).get_jobs():
        job.delete()
    assert tick.run(at=later.isoformat())["queued"]["recovered:announcement"] == 10
    run_jobs()
    assert statuses() == {"sent": 10}
    assert len(twilio_api.sent) == 10


def test_a_delivery_callback_before_the_batch_records_keeps_its_status(client, twilio_api):
    from tests.support import drivers

    [message_id] = bulk(1)
    with session_scope() as session:
        session.get(Message, message_id).status = "sending"
    form = {"MessageSid": "SMfirst", "MessageStatus": "delivered", "AccountSid": drivers.TWILIO_SID}
    response = drivers.signed_twilio_post(client, f"/webhooks/twilio/status?m={message_id}", form)
    assert response.status_code == 200
    with get_engine().connect() as claims:
        send_batch._record_sent(claims, [(message_id, "SMfirst", None)])
    with session_scope() as session:
        row = session.get(Message, message_id)
        assert (row.status, row.provider_id) == ("delivered", "SMfirst")
    assert row.direction == OUT


def test_a_row_that_cannot_go_is_failed_with_its_reason_and_the_rest_go(run_jobs, twilio_api):
    with session_scope() as session:
        whatsapp = contact_for(session, "whatsapp", "+15554100000")  # never wrote: no window
        telegram = contact_for(session, "telegram", "4100")
        rows = [
            {"channel": "whatsapp", "contact_id": whatsapp.id, "body": "Hi",
             "purpose": "announcement", "dedupe_key": "odd:1"},
            {"channel": "telegram", "contact_id": telegram.id, "body": "Chart",
             "purpose": "digest", "dedupe_key": "odd:2", "media": [{"chart": {"broken": True}}]},
        ]  # fmt: skip
        outbox.queue_once(session, rows, queue_name=queue.LOW)
    bulk(3)
    run_jobs()
    with session_scope() as session:
        failed = session.exec(select(Message).where(Message.status == "failed")).all()
        reasons = sorted(row.error for row in failed)
    assert reasons[0].startswith("outside WhatsApp's 24-hour window and no template")
    assert reasons[1].startswith("send error: KeyError")
    assert statuses() == {"sent": 3, "failed": 2}


def test_a_batch_out_of_time_hands_the_rest_on_and_each_still_goes_once(
    run_jobs, twilio_api, monkeypatch
):
    # No time at all: every batch sends one chunk and puts the rest back behind any replies.
    monkeypatch.setattr(send_batch, "BATCH_SECONDS", 0)
    bulk(35)
    run_jobs()
    assert statuses() == {"sent": 35}
    assert len(twilio_api.sent) == 35
    # Four jobs of ten or fewer: the first batch and the three it handed on.
    assert queue.queue(queue.LOW).finished_job_registry.count == 4


def test_a_batch_of_several_senders_hands_each_its_own_and_all_go_once(
    run_jobs, twilio_api, fake_telegram
):
    with session_scope() as session:
        rows = []
        for n in range(6):
            channel, address = ("telegram", f"42{n}") if n % 2 else ("sms", f"+1555400{n:04d}")
            contact = contact_for(session, channel, address)
            rows.append({"channel": channel, "contact_id": contact.id, "body": f"Hello {n}",
                         "purpose": "announcement", "dedupe_key": f"mixed:{n}"})  # fmt: skip
        ids = outbox.queue_once(session, rows, queue_name=queue.LOW)
    [mixed] = queue.queue(queue.LOW).get_jobs()
    send_batch.run(mixed.args[0])
    channels = []
    *handed_on, left = queue.queue(queue.LOW).get_jobs()
    assert left.id == mixed.id  # the handed-on batches go ahead of what was queued behind it
    with session_scope() as session:
        for job in handed_on:
            found = session.exec(select(Message.channel).where(Message.id.in_(job.args[0])))
            channels.append(set(found.all()))
    assert sorted(map(sorted, channels)) == [["sms"], ["telegram"]]
    run_jobs()
    assert statuses() == {"sent": 6}
    assert len(twilio_api.sent) == 3
    assert len(fake_telegram.calls("sendMessage")) == 3
    assert len(ids) == 6
