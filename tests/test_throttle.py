"""Sending rates: a token bucket in Redis shared by every worker."""

import pytest

from bot.throttle import try_take


def test_a_long_code_sends_about_one_message_per_second(settings):
    assert try_take("twilio:+15550000000", 1.0, at=1000.0) == 0
    assert try_take("twilio:+15550000000", 1.0, at=1000.25) == pytest.approx(0.75, abs=0.002)
    assert try_take("twilio:+15550000000", 1.0, at=1001.0) == 0


def test_a_burst_is_allowed_up_to_the_bucket_size_and_buckets_are_separate(settings):
    taken = [try_take("telegram", 30.0, burst=3, at=5000.0) for _ in range(4)]
    assert taken[:3] == [0, 0, 0]
    assert taken[3] > 0
    assert try_take("telegram-group:1", 20 / 60, at=5000.0) == 0
    assert try_take("telegram-group:1", 20 / 60, at=5001.0) > 1.9


def test_a_batch_goes_together_and_the_sends_after_it_wait_their_turn(settings):
    assert try_take("twilio:+15550000000", 1.0, at=2000.0, count=5) == 0
    # The five sends are paid for: the next one waits until they have caught up with the rate.
    assert try_take("twilio:+15550000000", 1.0, at=2001.0) == pytest.approx(4.0, abs=0.002)
    assert try_take("twilio:+15550000000", 1.0, at=2005.0) == 0


def test_single_sends_between_batches_never_starve_a_batch(settings):
    for second in range(0, 8, 2):  # a reply every two seconds on a number sending at 1/s
        assert try_take("twilio:+15550000001", 1.0, at=3000.0 + second) == 0
    assert try_take("twilio:+15550000001", 1.0, at=3008.0, count=5) == 0


def test_a_worker_whose_clock_is_behind_waits_until_the_others_time(settings):
    assert try_take("twilio:+15550000002", 1.0, at=4000.0) == 0
    assert try_take("twilio:+15550000002", 1.0, at=3999.5) == pytest.approx(1.5, abs=0.002)
    assert try_take("twilio:+15550000002", 1.0, at=4001.0) == 0


def test_provider_pacing_follows_the_redis_clock_not_a_simulated_or_faked_one(settings):
    from datetime import UTC, datetime, timedelta

    import time_machine

    from bot import clock

    # A send from a chat run a week ahead, then one from a test's clock three days back: the
    # second waits its one-second turn, never the days between the two fake instants.
    with clock.simulated(clock.now() + timedelta(days=7)):
        assert try_take("twilio:+15550000003", 1.0) == 0
    with time_machine.travel(datetime.now(UTC) - timedelta(days=3)):
        assert 0 < try_take("twilio:+15550000003", 1.0) <= 1.0
