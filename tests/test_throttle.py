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
