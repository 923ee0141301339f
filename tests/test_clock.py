"""The one clock: the product's instant can be simulated; the machine's never is."""

from datetime import UTC, datetime, timedelta

import time_machine

from bot import clock


def test_a_simulated_instant_is_the_products_now_and_leaves_the_machines_alone():
    week_ahead = clock.real() + timedelta(days=7)
    with clock.simulated(week_ahead):
        assert clock.now() == week_ahead
        assert clock.is_simulated()
        assert abs((clock.real() - datetime.now(UTC)).total_seconds()) < 1
    assert not clock.is_simulated()
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 1


def test_a_running_simulation_moves_on_from_its_instant():
    start = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
    with clock.simulated(start, running=True):
        first = clock.now()
        later = clock.now()
    assert start <= first <= later < start + timedelta(seconds=5)


def test_a_naive_instant_is_read_as_utc():
    with clock.simulated(datetime(2030, 1, 7, 9, 0)):
        assert clock.now() == datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def test_a_tests_fake_clock_moves_both_kinds_of_instant():
    with time_machine.travel(datetime(2031, 5, 1, 12, 0, tzinfo=UTC), tick=False):
        assert clock.now() == clock.real() == datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
