"""The Procfile's worker: a text is answered from the inbox ahead of bulk sends, a lost or
garbled signal loses nothing, and a reply whose sender's rate is spent still goes once."""

from __future__ import annotations

from datetime import timedelta

from bot import queue
from bot.clock import now
from jobs import tick
from tests.test_send_batch import bulk


def test_a_text_is_answered_ahead_of_the_reminders_already_queued(sms_user, run_jobs, twilio_api):
    bulk(30)
    ann = sms_user("+15550001")
    ann.says("HELP")
    run_jobs()
    assert [form["To"] for form in twilio_api.sent][0] == "+15550001"
    assert len(twilio_api.sent) == 31
    assert len(ann.replies()) == 1


def test_a_garbled_inbox_entry_is_skipped_and_the_next_text_answered(sms_user, run_jobs):
    queue.connection().rpush(queue.INBOX, "not-a-contact")
    ann = sms_user("+15550001")
    ann.says("HELP")
    run_jobs()
    assert len(ann.replies()) == 1
    assert queue.connection().llen(queue.INBOX) == 0


def test_a_text_whose_signal_redis_lost_is_answered_after_the_next_tick(sms_user, run_jobs):
    ann = sms_user("+15550001")
    ann.says("HELP")
    queue.connection().delete(queue.INBOX)
    run_jobs()
    assert ann.replies() == []
    tick.run(at=(now() + timedelta(minutes=1)).isoformat())
    run_jobs()
    assert len(ann.replies()) == 1


def test_replies_beyond_the_senders_rate_wait_their_turn_and_each_goes_once(
    sms_user, run_jobs, settings
):
    # Two sends a second from the one number: the later replies wait for the rate, not fail.
    settings.sms_rate_per_second = 2.0
    people = [sms_user(f"+1555000{n}") for n in range(4)]
    for person in people:
        person.says("HELP")
    run_jobs()
    assert [len(person.replies()) for person in people] == [1, 1, 1, 1]
