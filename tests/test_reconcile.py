"""Reconciliation: what the providers received while our webhooks were down is stored once, in
arrival order, and answered; what we already have is left alone."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from bot import queue
from bot.clock import now
from bot.config import use_settings
from bot.db import session_scope
from jobs import reconcile, tick
from models.message import IN, Message
from tests.support.drivers import AT_SHORTCODE, SMS_FROM, WHATSAPP_FROM

AMINA, BRIAN, WANJIRU = "+15550001001", "+15550001002", "+254711000003"


def inbound_bodies() -> list[str]:
    """What we stored from people, in the order we stored it."""
    with session_scope() as session:
        rows = session.exec(select(Message).where(Message.direction == IN).order_by(Message.id))
        return [row.body for row in rows]


def test_messages_we_already_have_are_not_stored_again(sms_user, twilio_api, run_jobs):
    amina = sms_user(AMINA)
    sid = amina.says("HELP")
    run_jobs()
    answered = len(amina.replies())
    twilio_api.keep(sid, AMINA, SMS_FROM, "HELP", now() - timedelta(seconds=5))

    counts = reconcile.run()
    run_jobs()

    assert counts["twilio"] == 1 and counts["inserted"] == 0
    assert inbound_bodies() == ["HELP"]
    assert len(amina.replies()) == answered


def test_messages_we_missed_are_stored_once_in_arrival_order_and_answered(
    sms_user, whatsapp_user, twilio_api, africastalking_api, africastalking_user, run_jobs
):
    amina, brian = sms_user(AMINA), whatsapp_user(BRIAN)
    wanjiru = africastalking_user(WANJIRU)
    start = now() - timedelta(minutes=20)
    twilio_api.keep("SM" + "b" * 32, AMINA, SMS_FROM, "second", start + timedelta(minutes=2))
    twilio_api.keep("SM" + "a" * 32, "whatsapp:" + BRIAN, WHATSAPP_FROM, "first", start)
    africastalking_api.keep(WANJIRU, "third", start + timedelta(minutes=3), AT_SHORTCODE)

    counts = reconcile.run()
    run_jobs()

    assert counts == {"twilio": 2, "africastalking": 1, "inserted": 3, "errors": 0}
    assert inbound_bodies() == ["first", "second", "third"]
    assert amina.replies() and brian.replies() and wanjiru.replies()


def test_a_replayed_reconciliation_stores_and_answers_nothing_twice(
    sms_user, twilio_api, africastalking_api, africastalking_user, run_jobs
):
    amina, wanjiru = sms_user(AMINA), africastalking_user(WANJIRU)
    twilio_api.keep("SM" + "c" * 32, AMINA, SMS_FROM, "HELP", now() - timedelta(minutes=1))
    africastalking_api.keep(WANJIRU, "HELP", now() - timedelta(minutes=1), AT_SHORTCODE)
    reconcile.run()
    run_jobs()
    answered = (len(amina.replies()), len(wanjiru.replies()))

    queue.connection().delete(reconcile.LAST_RECEIVED_ID)  # Redis lost where it got to
    again = reconcile.run(now() - timedelta(hours=1))
    run_jobs()

    assert again["inserted"] == 0 and again["twilio"] == 1 and again["africastalking"] == 1
    assert inbound_bodies() == ["HELP", "HELP"]
    assert (len(amina.replies()), len(wanjiru.replies())) == answered


def test_africastalking_continues_from_the_last_message_it_gave_us(
    settings, twilio_api, africastalking_api
):
    africastalking_api.batch_size = 2
    for n in range(5):
        africastalking_api.keep(WANJIRU, f"m{n}", now() - timedelta(minutes=5 - n), AT_SHORTCODE)

    first = reconcile.run()
    africastalking_api.keep(WANJIRU, "m5", now(), AT_SHORTCODE)
    second = reconcile.run()

    assert first["africastalking"] == 5 and second["africastalking"] == 1
    assert inbound_bodies() == [f"m{n}" for n in range(6)]
    # Pages of two until an empty one, then the next run starts after the last id it read.
    after = [fetch["lastReceivedId"] for fetch in africastalking_api.fetches]
    assert after[:4] == ["0", "15072", "15074", "15075"]
    assert after[4] == "15075" and len(after) == 6


def test_twilio_list_is_followed_page_by_page(settings, twilio_api, africastalking_api):
    twilio_api.page_size = 2
    for n in range(5):
        sid = f"SM{n:032d}"
        twilio_api.keep(sid, AMINA, SMS_FROM, f"m{n}", now() - timedelta(minutes=10 - n))

    counts = reconcile.run()

    sms_pages = [r for r in twilio_api.list_requests if r["To"] == SMS_FROM]
    assert len(sms_pages) == 3
    assert counts["twilio"] == 5 and inbound_bodies() == [f"m{n}" for n in range(5)]


def test_our_own_messages_in_twilios_list_are_not_taken_for_a_persons(
    settings, twilio_api, africastalking_api
):
    sent = now() - timedelta(minutes=3)
    twilio_api.keep("SM" + "d" * 32, SMS_FROM, SMS_FROM, "Reminder", sent, "outbound-api")
    twilio_api.keep("SM" + "e" * 32, SMS_FROM, SMS_FROM, "Thanks", sent, "outbound-reply")

    counts = reconcile.run()

    assert counts["twilio"] == 0 and counts["inserted"] == 0
    assert inbound_bodies() == []


def test_messages_before_the_window_are_left_alone(settings, twilio_api, africastalking_api):
    twilio_api.keep("SM" + "f" * 32, AMINA, SMS_FROM, "old", now() - timedelta(hours=2))
    africastalking_api.keep(WANJIRU, "old", now() - timedelta(hours=2), AT_SHORTCODE)

    counts = reconcile.run()

    assert counts["inserted"] == 0 and inbound_bodies() == []


def test_a_message_in_the_same_second_as_a_fractional_since_is_found(
    settings, twilio_api, africastalking_api
):
    # Twilio keeps whole seconds: the message came half a second after `since`, at 12:00:00.
    since = now().replace(microsecond=500_000)
    twilio_api.keep("SM" + "e" * 32, AMINA, SMS_FROM, "HELP", since.replace(microsecond=0))

    counts = reconcile.run(since)

    assert counts["inserted"] == 1 and inbound_bodies() == ["HELP"]


def test_a_provider_that_fails_is_counted_and_the_other_still_read(
    settings, twilio_api, africastalking_api
):
    twilio_api.fail_list_next(status=503)
    africastalking_api.keep(WANJIRU, "still here", now() - timedelta(minutes=1), AT_SHORTCODE)

    counts = reconcile.run()

    assert counts["errors"] == 1 and counts["inserted"] == 1
    assert inbound_bodies() == ["still here"]


def test_a_failed_fetch_is_read_again_next_time(settings, twilio_api, africastalking_api):
    africastalking_api.keep(WANJIRU, "later", now() - timedelta(minutes=1), AT_SHORTCODE)
    africastalking_api.fail_fetch_next(status=500)

    failed = reconcile.run()
    retried = reconcile.run()

    assert failed["errors"] == 1 and retried["inserted"] == 1
    assert inbound_bodies() == ["later"]


def test_the_tick_reconciles_every_ten_minutes_and_not_on_its_first_run(
    settings, twilio_api, africastalking_api
):
    twilio_api.keep("SM" + "g" * 32, AMINA, SMS_FROM, "missed", now() - timedelta(minutes=5))

    tick.run()  # the first tick after Redis was emptied starts the ten minutes
    tick.run()
    assert twilio_api.list_requests == [] and africastalking_api.fetches == []

    queue.connection().delete(reconcile.RECENT_RUN)  # as ten minutes on Redis's clock do
    result = tick.run()
    tick.run()

    assert result["queued"].get("reconciled:inbound") == 1
    assert inbound_bodies() == ["missed"]
    assert len([r for r in twilio_api.list_requests if r["To"] == SMS_FROM]) == 1


def test_the_tick_asks_nothing_when_no_provider_is_configured(
    settings, twilio_api, africastalking_api
):
    use_settings(
        settings.model_copy(update={"twilio_account_sid": "", "africastalking_username": ""})
    )
    queue.connection().set(reconcile.STARTED, "1")

    tick.run()

    assert twilio_api.list_requests == [] and africastalking_api.fetches == []
    assert not queue.connection().exists(reconcile.RECENT_RUN)


def test_inbox_reconcile_prints_what_it_found(cli, twilio_api, africastalking_api):
    at = now() - timedelta(hours=3)
    twilio_api.keep("SM" + "h" * 32, AMINA, SMS_FROM, "HELP", at)

    since = (at - timedelta(minutes=1)).isoformat()
    result = cli("inbox", "reconcile", "--since", since, "--json")

    assert json.loads(result.stdout) == {
        "twilio": 1, "africastalking": 0, "inserted": 1, "errors": 0,
    }  # fmt: skip
    assert inbound_bodies() == ["HELP"]
    # Run again, for people: the same message is listed, and nothing is stored twice.
    again = cli("inbox", "reconcile", "--since", since)
    assert again.stdout.strip() == (
        "listed: twilio 1, africastalking 0; stored and answered: 0; provider errors: 0"
    )
    assert inbound_bodies() == ["HELP"]
    assert cli("inbox", "reconcile", "--since", "yesterday", ok=False).exit_code == 2
