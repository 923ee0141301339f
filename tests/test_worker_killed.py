"""A worker killed mid-batch: the rows it never handed to Twilio go out once from another worker
within two minutes, and the ones it did are reported `unknown`, never resent."""

from __future__ import annotations

import math
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

from bot import clock
from bot.db import session_scope
from bot.procfile import read_procfile
from jobs import tick
from models.message import OUT, Message
from models.people import Contact
from tests.support import drivers
from tests.support.fake_twilio import FakeTwilio
from tests.support.processes import wait_for
from tests.test_send_batch import bulk, statuses

ROOT = Path(__file__).resolve().parent.parent
# The Procfile's worker, on this test's clock: machines' clocks agree, and this test's may be
# faked days ahead (--clock-ahead).
WORKER = """
import sys
from datetime import datetime

import time_machine

time_machine.travel(datetime.fromisoformat(sys.argv[1])).start()
from rq.cli import main

main(sys.argv[2:], prog_name="rq")
"""


class SlowTwilio(FakeTwilio):
    """A fake Twilio that answers only as many messages as the test allows; the next ones hang
    as on a provider slow to answer."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[str] = []  # the recipient of every request that reached Twilio
        self.allowed: float = 0
        self._turn = threading.Condition()

    def allow(self, answers: float) -> None:
        """Answer this many requests in all, counting from the first."""
        with self._turn:
            self.allowed = answers
            self._turn.notify_all()

    def handle(self, method, path, authorization, form):
        with self._turn:
            self.arrivals.append(form.get("To"))
            place = len(self.arrivals)
            self._turn.wait_for(lambda: place <= self.allowed, timeout=120)
        return super().handle(method, path, authorization, form)


@pytest.fixture
def twilio(settings):
    with SlowTwilio() as fake:
        settings.twilio_api_base_url = fake.url  # the worker of this process sends there too
        yield fake
        fake.allow(math.inf)  # let the held requests go; the worker that made them is gone


def start_worker(settings, twilio: SlowTwilio, log: Path) -> subprocess.Popen:
    """Start the Procfile's worker process against the slow Twilio."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWILIO_", "TELEGRAM_", "OUTBOX"))
    } | {
        "INSTANCE_PATH": str(settings.instance_path),
        "DATABASE_URL": settings.database_url or settings.sqlalchemy_url,
        "PUBLIC_BASE_URL": drivers.PUBLIC_BASE_URL,
        "TWILIO_ACCOUNT_SID": drivers.TWILIO_SID,
        "TWILIO_AUTH_TOKEN": drivers.TWILIO_TOKEN,
        "TWILIO_SMS_FROM": drivers.SMS_FROM,
        "TWILIO_API_BASE_URL": twilio.url,
        "SMS_RATE_PER_SECOND": "1000",  # chunks of ten
        "SEND_TIMEOUT_SECONDS": "60",  # the held send waits for the kill, not for a timeout
    }
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    rq = shlex.split(read_procfile(ROOT / "Procfile")["worker"])[1:]
    with open(log, "ab") as output:
        return subprocess.Popen(
            [sys.executable, "-c", WORKER, clock.real().isoformat(), *rq],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def unknown_recipients() -> list[str]:
    with session_scope() as session:
        return list(
            session.exec(
                select(Contact.address)
                .join(Message, Message.contact_id == Contact.id)
                .where(Message.direction == OUT, Message.status == "unknown")
                .order_by(Message.id)
            ).all()
        )


@pytest.mark.parametrize(
    ("learners", "answered", "in_flight"),
    [(10, 4, 5), (100, 12, 3)],
    ids=["five-of-a-chunk-of-ten-handed-over", "a-hundred-killed-in-the-second-chunk"],
)
def test_a_worker_killed_mid_batch_leaves_the_rest_to_go_out_once_within_two_minutes(
    settings, twilio, run_jobs, tmp_path, learners, answered, in_flight
):
    bulk(learners)  # one batch job, sent ten rows to a chunk
    twilio.allow(answered)
    worker = start_worker(settings, twilio, tmp_path / "worker.log")
    try:
        wait_for(lambda: len(twilio.arrivals) > answered, what="a send held by Twilio")
        # Half a minute on, the batch is slow, not dead: recovery leaves its rows to it.
        with time_machine.travel(clock.real() + timedelta(seconds=35)):
            assert "recovered:announcement" not in tick.run()["queued"]
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    killed = clock.real()
    twilio.allow(math.inf)
    reached = list(twilio.arrivals)
    recorded = answered + 1 - in_flight  # the chunks before the last one, recorded as sent
    # Only the rows whose call may have reached Twilio are `sending`; the rest never left.
    assert statuses() == Counter(sent=recorded, sending=in_flight, queued=learners - len(reached))

    with time_machine.travel(killed + timedelta(minutes=2)):
        recovered = tick.run()["queued"]
        run_jobs()
    assert recovered["recovered:announcement"] == learners - len(reached)
    with time_machine.travel(killed + timedelta(minutes=6)):
        assert tick.run()["queued"]["unknown"] == in_flight
        run_jobs()

    assert statuses() == Counter(sent=learners - in_flight, unknown=in_flight)
    assert unknown_recipients() == reached[recorded:]
    # Every learner's message reached Twilio exactly once: none lost, none doubled.
    assert Counter(twilio.arrivals) == Counter(f"+1555400{n:04d}" for n in range(learners))
