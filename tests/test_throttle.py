"""Sending rates: a token bucket in Redis shared by every worker."""

from bot.throttle import try_take


def test_a_long_code_sends_about_one_message_per_second(settings):
    assert try_take("twilio:+15550000000", 1.0, at=1000.0) == 0
    assert try_take("twilio:+15550000000", 1.0, at=1000.25) == 0.75
    assert try_take("twilio:+15550000000", 1.0, at=1001.0) == 0


def test_a_burst_is_allowed_up_to_the_bucket_size_and_buckets_are_separate(settings):
    taken = [try_take("telegram", 30.0, burst=3, at=5000.0) for _ in range(4)]
    assert taken[:3] == [0, 0, 0]
    assert taken[3] > 0
    assert try_take("telegram-group:1", 20 / 60, at=5000.0) == 0
    assert try_take("telegram-group:1", 20 / 60, at=5001.0) > 1.9


def test_a_batch_takes_its_sends_together_once_their_time_has_come(settings):
    # Ten sends at one a second: the first nine seconds are waited out, then all ten go.
    assert try_take("twilio:+15550000000", 1.0, at=2000.0, count=10) == 9.0
    assert try_take("twilio:+15550000000", 1.0, at=2009.0, count=10) == 0
    # The rate holds on average: the next send waits its second.
    assert try_take("twilio:+15550000000", 1.0, at=2009.0) == 1.0


def test_a_clock_behind_another_never_loses_tokens(settings):
    assert try_take("twilio:+15550000001", 1.0, at=3000.0) == 0
    assert try_take("twilio:+15550000001", 1.0, at=2999.5) == 1.0  # a worker half a second behind
    assert try_take("twilio:+15550000001", 1.0, at=3001.0) == 0
