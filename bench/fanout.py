"""Reminder fan-out: one circle's reminder to N learners, sent by W `rq worker` processes.

The bot side seeds one circle of N SMS learners whose first reminder is due, runs one tick in
this process (it writes the rows and queues the send jobs), then starts W of the Procfile's
workers with `--burst` and waits until they have emptied the queues. The baseline is a raw
loop in W processes replaying the very requests the fake Twilio recorded from the bot, with
twilio's `Client.messages.create` pointed at the same fake the way bot/channels/twilio.py
points it: no database, no Redis. DESIGN target: bot ≥ 0.7 × raw, per worker count, and more
workers sending faster.

    .venv/bin/python -m bench.fanout [--learners 2000] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shlex
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bench import harness
from tests.support import drivers
from tests.support.fake_twilio import FakeTwilio

TARGET = 0.7
TIMEZONE = "Africa/Nairobi"
ORGANIZER = "+15550009000"
FACILITATOR = "+15550009001"
# Keyword names of Messages.create for the form fields Twilio receives.
CREATE_ARGUMENTS = {
    "To": "to",
    "From": "from_",
    "Body": "body",
    "StatusCallback": "status_callback",
}


@dataclass
class Run:
    """One side's run at one worker count: messages sent and where the time went."""

    messages: int
    seconds: float  # the sending itself: first send claimed (or loop started) → last answer
    startup: float = 0.0  # bot: workers spawned → first send claimed
    tick: float = 0.0  # bot: the tick that wrote the rows and queued their jobs
    cpu: float = 0.0  # user + system CPU of the sending processes
    fake_cpu: float = 0.0  # of this process, which serves the fake provider

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def per_second_from_start(self) -> float:
        total = self.startup + self.seconds
        return self.messages / total if total else 0.0

    @property
    def cpu_per_message(self) -> float:
        return self.cpu / self.messages if self.messages else 0.0

    @property
    def fake_cpu_per_message(self) -> float:
        return self.fake_cpu / self.messages if self.messages else 0.0


def seed(learners: int) -> int:
    """One team and circle with `learners` SMS learners whose first reminder is due; returns
    the meeting's id. People, contacts and signups go in as bulk inserts, as many as asked."""
    from sqlalchemy import insert
    from sqlmodel import select

    from bot.clock import now
    from bot.db import session_scope
    from bot.identity import contact_for
    from models.circles import Meeting, Signup, create_circle
    from models.people import Contact, Person
    from models.teams import create_team

    at = now()
    with session_scope() as session:
        organizer = contact_for(session, "sms", ORGANIZER)
        team = create_team(session, "Fan-out", TIMEZONE, organizer.person_id)
        facilitator = contact_for(session, "sms", FACILITATOR)
        # A day ahead: inside the 48-hour lead, so the reminder is due and the circle still open.
        first = (at + timedelta(days=1)).astimezone(ZoneInfo(TIMEZONE))
        circle = create_circle(
            session,
            team,
            facilitator.person_id,
            name="Python at scale",
            course="Python",
            venue="Library",
            city="Nakuru",
            first=first.replace(tzinfo=None, second=0, microsecond=0),
            weeks=1,
        )
        people = session.scalars(
            insert(Person).returning(Person.id, sort_by_parameter_order=True),
            [{"name": f"Learner {n}", "language": "en", "created_at": at} for n in range(learners)],
        ).all()
        contacts = session.scalars(
            insert(Contact).returning(Contact.id, sort_by_parameter_order=True),
            [
                {"person_id": person, "channel": "sms", "address": learner_number(n)}
                for n, person in enumerate(people)
            ],
        ).all()
        session.execute(
            insert(Signup),
            [
                {
                    "circle_id": circle.id,
                    "person_id": person,
                    "contact_id": contact,
                    "joined_at": at,
                }
                for person, contact in zip(people, contacts, strict=True)
            ],
        )
        return session.exec(select(Meeting.id).where(Meeting.circle_id == circle.id)).one()


def learner_number(n: int) -> str:
    return f"+1666{n:07d}"


def make_due(meeting_id: int) -> None:
    """Forget the last run's reminders, so that the next tick finds the same one due again."""
    from sqlalchemy import delete, update

    from bot import queue
    from bot.db import session_scope
    from models.circles import Meeting
    from models.message import Message

    with session_scope() as session:
        session.execute(delete(Message))
        session.execute(
            update(Meeting).where(Meeting.id == meeting_id).values(reminder_sent_at=None)
        )
    # Message ids start over, and so would their send jobs' ids.
    queue.connection().flushdb()


def worker_command() -> list[str]:
    """The Procfile's worker line, in burst mode: it exits once the queues are empty."""
    from bot.procfile import read_procfile

    command = shlex.split(read_procfile(harness.ROOT / "Procfile")["worker"])
    command[0] = str(harness.BIN / command[0])
    return [*command, "--burst"]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bot_run(
    instance: harness.Instance,
    fake: FakeTwilio,
    meeting_id: int,
    learners: int,
    workers: int,
    timeout: float,
) -> tuple[Run, list[str]]:
    """Queue the reminder with one tick, send it with `workers` burst workers; return the run
    and what went wrong (nothing, when every learner got the reminder once)."""
    from jobs import tick

    make_due(meeting_id)
    fake.clear()
    began = time.perf_counter()
    queued = tick.run()["queued"]
    tick_seconds = time.perf_counter() - began

    env = instance.env(
        TWILIO_API_BASE_URL=fake.url,
        # The throttle is a product rule for real senders, not fan-out cost: out of the way.
        SMS_RATE_PER_SECOND="100000",
    )
    cpu_before, fake_cpu_before = children_cpu(), own_cpu()
    with harness.Processes(env, instance.path) as processes:
        spawned_at = time.time()
        started = [
            processes.spawn(f"worker-{workers}-{n}", *worker_command()) for n in range(workers)
        ]
        deadline = time.monotonic() + timeout
        for process in started:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        statuses = [process.returncode for process in started]
        logs = [processes.log(f"worker-{workers}-{n}") for n in range(workers)]
    run = Run(messages=0, seconds=0.0, tick=tick_seconds, cpu=children_cpu() - cpu_before)
    run.fake_cpu = own_cpu() - fake_cpu_before
    problems = [
        f"worker {n} exited with {status}: …{logs[n][-400:]}"
        for n, status in enumerate(statuses)
        if status != 0
    ]
    if queued.get("reminder") != learners:
        problems.append(f"the tick queued {queued}, expected {learners} reminders")
    problems += check_sent(fake, meeting_id, learners, run, spawned_at)
    return run, problems


def check_sent(fake: FakeTwilio, meeting_id: int, learners: int, run: Run, spawned_at: float):
    """Every learner, and the facilitator, sent the reminder once; fill in the run's figures
    from the rows."""
    from sqlalchemy import func, select

    from bot.db import session_scope
    from models.message import SENT, Message

    with session_scope() as session:
        statuses = dict(
            session.execute(
                select(Message.status, func.count())
                .where(Message.meeting_id == meeting_id)
                .group_by(Message.status)
            ).all()
        )
        first_claim, last_sent = session.execute(
            select(func.min(Message.claimed_at), func.max(Message.sent_at)).where(
                Message.meeting_id == meeting_id
            )
        ).one()
    expected = learners + 1  # the facilitator's copy
    sent_to = Counter(params.get("To") for params in fake.messages())
    missed = {learner_number(n) for n in range(learners)} | {FACILITATOR}
    missed -= sent_to.keys()
    problems = []
    if missed:
        problems.append(f"{len(missed)} never got it, e.g. {sorted(missed)[:3]}")
    if statuses != {SENT: expected}:
        problems.append(f"rows by status {statuses}, expected {expected} sent")
    if sum(sent_to.values()) != expected or len(sent_to) != expected:
        problems.append(
            f"the fake accepted {sum(sent_to.values())} messages to {len(sent_to)} numbers, "
            f"expected {expected} to as many"
        )
    doubled = [number for number, count in sent_to.items() if count > 1]
    if doubled:
        problems.append(f"sent twice or more to {len(doubled)} numbers, e.g. {doubled[:3]}")
    if first_claim and last_sent:
        run.messages = sum(sent_to.values())
        run.startup = first_claim.timestamp() - spawned_at
        run.seconds = (last_sent - first_claim).total_seconds()
    return problems


def raw_loop(calls: list[dict], base_url: str, timeout: float, start, results) -> None:
    """One baseline process: post these requests one after another, as plainly as can be."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    client = Client(
        drivers.TWILIO_SID, drivers.TWILIO_TOKEN, http_client=TwilioHttpClient(timeout=timeout)
    )
    client.api.base_url = base_url  # TWILIO_API_BASE_URL, applied as the bot applies it
    # Like for like: the bot's client reads the environment's proxy settings once, not per call.
    client.http_client.session.trust_env = False
    start.wait()
    began = time.time()
    for call in calls:
        client.messages.create(**call)
    results.put((began, time.time()))


def raw_run(fake: FakeTwilio, calls: list[dict], workers: int, timeout: float) -> Run:
    """Post `calls` from `workers` forked processes, each its share, timed from one start."""
    from bot.config import get_settings

    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(workers + 1), context.Queue()
    shares = [calls[n::workers] for n in range(workers)]
    send_timeout = get_settings().send_timeout_seconds
    fake.clear()
    cpu_before = children_cpu()
    processes = [
        context.Process(target=raw_loop, args=(share, fake.url, send_timeout, start, results))
        for share in shares
    ]
    for process in processes:
        process.start()
    fake_cpu_before = own_cpu()
    start.wait(timeout=60)
    spans = [results.get(timeout=timeout) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    if any(process.exitcode != 0 for process in processes):
        raise RuntimeError(f"raw loop exit codes {[p.exitcode for p in processes]}")
    accepted = len(fake.messages())
    if accepted != len(calls):
        raise RuntimeError(f"the raw loop got {accepted} of {len(calls)} messages accepted")
    began, ended = min(span[0] for span in spans), max(span[1] for span in spans)
    return Run(
        messages=accepted,
        seconds=ended - began,
        cpu=children_cpu() - cpu_before,
        fake_cpu=own_cpu() - fake_cpu_before,
    )


def recorded_calls(fake: FakeTwilio) -> list[dict]:
    """The bot's accepted requests, as keyword arguments of Messages.create, in sending order."""
    return [
        {
            CREATE_ARGUMENTS[name]: value
            for name, value in params.items()
            if name in CREATE_ARGUMENTS
        }
        for params in fake.messages()
    ]


def main(argv: list[str] | None = None) -> int:
    """Fan the reminder out at each worker count, bot then raw loop, and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=2000, help="learners in the circle")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts")
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.workers = sorted(set(args.workers))
    harness.stop_on_sigterm()
    # Generous: the bot at a few messages a second per worker would still finish.
    timeout = 120 + args.learners / 5

    results: list[tuple[int, Run, Run]] = []
    problems: list[str] = []
    with harness.Instance() as instance, FakeTwilio() as fake:
        instance.use(twilio_api_base_url=fake.url)
        instance.wipe()
        harness.quiet_logs()
        began = time.perf_counter()
        meeting_id = seed(args.learners)
        seeded = time.perf_counter() - began
        for workers in args.workers:
            bot, wrong = bot_run(instance, fake, meeting_id, args.learners, workers, timeout)
            problems += [f"{workers} worker(s): {problem}" for problem in wrong]
            raw = raw_run(fake, recorded_calls(fake), workers, timeout)
            results.append((workers, bot, raw))

    print(
        f"reminder fan-out: {args.learners} learners (+1 facilitator copy) in one circle, "
        f"seeded in {seeded:.1f} s; the Procfile's workers in burst mode vs a raw twilio loop"
    )
    first_bot, first_raw = results[0][1].per_second, results[0][2].per_second
    rows, report = [], []
    for workers, bot, raw in results:
        ratio = bot.per_second / raw.per_second if raw.per_second else 0.0
        verdict = harness.verdict(ratio, TARGET, higher_is_better=True)
        rows.append(
            [
                workers,
                f"{bot.per_second:.0f}",
                f"{raw.per_second:.0f}",
                f"{ratio:.2f}×",
                f"≥ {TARGET:g}×",
                verdict,
                f"{bot.per_second / first_bot:.2f}×" if first_bot else "",
                f"{raw.per_second / first_raw:.2f}×" if first_raw else "",
                f"{bot.per_second_from_start:.0f}",
            ]
        )
        report.append(
            {
                "measure": f"reminder fan-out, {workers} worker(s), bot / raw loop",
                "figure": f"{ratio:.2f}×",
                "ours": f"{bot.per_second:.0f} msg/s",
                "baseline": f"{raw.per_second:.0f} msg/s",
                "target": f"≥ {TARGET:g}×",
                "verdict": verdict,
            }
        )
    fewest = results[0][0]
    print(
        harness.table(
            ["workers", "bot msg/s", "raw msg/s", "ratio", "target", "verdict",
             f"bot vs {fewest}", f"raw vs {fewest}", "bot msg/s incl. start"],
            rows,
        )
    )  # fmt: skip
    print("where the time goes:")
    print(
        harness.table(
            ["workers", "tick s", "workers up s", "bot send s", "raw send s",
             "bot CPU ms/msg", "raw CPU ms/msg", "fake CPU ms/msg bot / raw"],
            [
                [
                    workers, f"{bot.tick:.2f}", f"{bot.startup:.2f}",
                    f"{bot.seconds:.2f}", f"{raw.seconds:.2f}",
                    f"{bot.cpu_per_message * 1000:.2f}", f"{raw.cpu_per_message * 1000:.2f}",
                    f"{bot.fake_cpu_per_message * 1000:.2f} / "
                    f"{raw.fake_cpu_per_message * 1000:.2f}",
                ]
                for workers, bot, raw in results
            ],
        )
    )  # fmt: skip
    print(
        "(msg/s: first send claimed → last row sent for the bot, loop start → last answer for "
        "the raw loop; 'incl. start' adds the workers' start-up; the tick is not counted. "
        "Bot CPU includes the workers' start-up; the fake runs in this process.)"
    )
    if len(results) > 1:
        speeds = [bot.per_second for _, bot, _ in results]
        verdict = "meets" if speeds[-1] > speeds[0] else "MISSES"
        scaling = " → ".join(f"{w}: {bot.per_second:.0f}" for w, bot, _ in results)
        report.append(
            {
                "measure": "reminder fan-out scaling, bot msg/s by workers",
                "figure": scaling,
                "target": "grows with workers",
                "verdict": verdict,
            }
        )
        print(f"scaling with workers (bot msg/s): {scaling} → {verdict}")
    for problem in problems:
        print(f"CORRECTNESS: {problem}")
    if not problems:
        print("every reminder was sent, once, to its own learner, at every worker count")
    harness.write_report(args.report, "fanout", report, ok=not problems)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
