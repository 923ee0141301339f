"""Inbound-to-reply latency: a signed "HELP" SMS until the fake Twilio receives the answer.

The bot runs as in production (real gunicorn and `rq worker` processes); the baseline is
bench/baseline_app.py's `/minimal/twilio`, which receives the form, inserts one SQLite row and
posts one reply to the same fake provider synchronously, served by the same gunicorn. Samples
alternate between the two, one message at a time. DESIGN target: median ≤ 3 × the baseline's.

    .venv/bin/python -m bench.inbound_latency [--samples 40] [--workers 2]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict

import requests

from bench import harness
from tests.support.fake_twilio import FakeTwilio
from tests.support.processes import free_port

TARGET = 3.0
BASELINE = "minimal baseline"
KNOWN = "circlebot, a person it knows"
NEW = "circlebot, a new number"


def one_message(
    http: requests.Session, fake: FakeTwilio, base: str, path: str, number: str, sid: str
) -> float:
    """Post one signed HELP and return the seconds until the fake provider took the reply."""
    form = harness.sms_form(sid, number, "HELP")
    headers = harness.signed_twilio(form, path)
    seen = len(fake.requests)
    began = time.time()
    response = http.post(base + path, data=form, headers=headers, timeout=10)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:200]}")

    def reply_at() -> float | None:
        for call in fake.requests[seen:]:
            if call["status"] == 201 and call["params"].get("To") == number:
                return call["at"]
        return None

    return harness.wait_for(reply_at, timeout=30, what=f"the reply to {number}") - began


def _drop_baseline_table() -> None:
    """A baseline's rows of an earlier run would refuse this run's message ids."""
    from sqlalchemy import text

    from bot.db import get_engine

    with get_engine().begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS baseline_inbound"))


def stages(numbers: list[str]) -> dict[str, list[float]]:
    """Where the bot's time went, from the timestamps its rows carry."""
    from sqlmodel import select

    from bot.db import session_scope
    from models.message import IN, OUT, Message
    from models.people import Contact

    spans: dict[str, list[float]] = defaultdict(list)
    with session_scope() as session:
        for number in numbers:
            contact = session.exec(select(Contact).where(Contact.address == number)).first()
            if contact is None:
                continue
            rows = session.exec(select(Message).where(Message.contact_id == contact.id)).all()
            inbound = next((m for m in rows if m.direction == IN), None)
            reply = next((m for m in rows if m.direction == OUT), None)
            if not (inbound and reply and inbound.handled_at and reply.sent_at):
                continue
            spans["webhook stored → handling claimed it"].append(
                (inbound.handled_at - inbound.created_at).total_seconds()
            )
            spans["handling claimed → reply row written"].append(
                (reply.created_at - inbound.handled_at).total_seconds()
            )
            spans["reply written → send claimed it"].append(
                (reply.claimed_at - reply.created_at).total_seconds()
            )
            spans["send claimed → provider answered"].append(
                (reply.sent_at - reply.claimed_at).total_seconds()
            )
    return spans


def main(argv: list[str] | None = None) -> int:
    """Measure both paths, alternating, and print their percentiles and the ratio of medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=15, help="messages per target")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured messages per target")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, both targets")
    parser.add_argument(
        "--worker-class",
        help="diagnostic: run `rq worker --worker-class` this (e.g. rq.worker.SimpleWorker)",
    )
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    harness.stop_on_sigterm()

    with harness.Instance() as instance, FakeTwilio() as fake:
        instance.use()
        instance.wipe()  # a shared database and Redis start empty, whatever ran before
        from bot import queue

        queue.connection().ping()  # start the embedded Redis before the processes race to
        _drop_baseline_table()
        env = instance.env(
            TWILIO_API_BASE_URL=fake.url,
            # Throttling is a product rule, not latency: keep it out of the way.
            SMS_RATE_PER_SECOND="100000",
            # The bot's own database: on PostgreSQL the baseline's insert commits there too.
            BASELINE_DATABASE=(
                instance.settings().sqlalchemy_url
                if instance.database_url
                else str(instance.path / "baseline.db")
            ),
        )
        with harness.Processes(env, instance.path) as processes:
            bot = processes.gunicorn("web", "app:create_app()", free_port(), args.workers)
            processes.rq_worker(worker_class=args.worker_class)
            bare = processes.gunicorn(
                "baseline", "bench.baseline_app:create_app()", free_port(), args.workers
            )
            targets = {
                BASELINE: (bare, "/minimal/twilio"),
                KNOWN: (bot, "/webhooks/twilio"),
                NEW: (bot, "/webhooks/twilio"),
            }
            count = args.warmup + args.samples
            phones = {
                name: [f"+1555{index}{n:06d}" for n in range(count)]
                for index, name in enumerate(targets)
            }
            harness.known_people([("sms", number) for number in phones[KNOWN]])
            latencies: dict[str, list[float]] = {name: [] for name in targets}
            with requests.Session() as http:
                for n in range(count):
                    for index, (name, (base, path)) in enumerate(targets.items()):
                        sid = f"SM{index:02d}{n:030x}"
                        seconds = one_message(http, fake, base, path, phones[name][n], sid)
                        if n >= args.warmup:
                            latencies[name].append(seconds)
            numbers = phones[KNOWN][args.warmup :] + phones[NEW][args.warmup :]
            bodies = [body for number in numbers for body in fake.sent_bodies(number)]
            spans = {name: stages(phones[name][args.warmup :]) for name in (KNOWN, NEW)}

    base_median = harness.median(latencies[BASELINE])
    ours_median = harness.median(latencies[KNOWN])
    ratio = ours_median / base_median
    new_median = harness.median(latencies[NEW])
    from bot.i18n import t

    answers = Counter(body.splitlines()[0] if body else "" for body in bodies)
    apologies = sum(body == t("error.sorry") for body in bodies)
    print(f"inbound-to-reply latency: {args.samples} messages per target, one at a time")
    print(
        harness.table(
            ["target", "p50 ms", "p95 ms", "max ms"],
            [
                [
                    name,
                    f"{harness.median(values) * 1000:.1f}",
                    f"{harness.percentile(values, 0.95) * 1000:.1f}",
                    f"{max(values) * 1000:.1f}",
                ]
                for name, values in latencies.items()
            ],
        )
    )
    verdict = harness.verdict(ratio, TARGET, higher_is_better=False)
    print(f"ratio of medians circlebot / baseline: {ratio:.2f}× (target ≤ {TARGET:g}×: {verdict})")
    print(
        f"a new number's first message, which also makes the person: {new_median / base_median:.2f}×"
    )
    print(
        f"circlebot's answers seen by the fake provider: {len(bodies)} for {len(numbers)} "
        f"messages, {apologies} of them the apology; first lines: {dict(answers)}"
    )
    print("where circlebot's time goes (median, from the rows' timestamps):")
    print(
        harness.table(
            ["stage", "known p50 ms", "new p50 ms"],
            [
                [stage, *(f"{harness.median(spans[name][stage]) * 1000:.1f}" for name in spans)]
                for stage in spans[KNOWN]
            ],
        )
    )
    harness.write_report(
        args.report,
        "inbound_latency",
        [
            {
                "measure": "inbound-to-reply latency, a person it knows (median)",
                "figure": f"{ratio:.2f}×",
                "ours": f"{ours_median * 1000:.1f} ms",
                "baseline": f"{base_median * 1000:.1f} ms",
                "target": f"≤ {TARGET:g}×",
                "verdict": verdict,
            },
            {
                "measure": "inbound-to-reply latency, a new number's first message (median)",
                "figure": f"{new_median / base_median:.2f}×",
                "ours": f"{new_median * 1000:.1f} ms",
                "baseline": f"{base_median * 1000:.1f} ms",
                "target": "(shown)",
                "verdict": "",
            },
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
