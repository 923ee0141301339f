"""Scaling out: two web processes and four workers on one PostgreSQL and one Redis.

Every text must still be stored, handled and answered exactly once.

Each run starts W web processes (`gunicorn "app:create_app()"` as the Procfile's web line, its
access log included, each on its own port) and K of the Procfile's workers, all against the same
servers, with FakeTwilio, FakeTelegram and the clock's tick in this process (`jobs.tick.run()`
every `--tick-every` seconds, where the Procfile's clock has a worker run it every minute; in
this process so that no `flask` start-up takes the cores from the processes measured). People
the bot has known for two days text it (SMS and Telegram: HELP, NEXT, FIND, JOIN, hello), each
once, their webhooks dealt round-robin over the webs; every `--duplicate-every`th is posted to
two webs at the same instant, as a provider's retry that lands on another dyno. Then it checks,
by provider id, that each text was stored once, handled, and got exactly one reply at the fake,
and shows how the work spread: requests each web answered (its access log, and as this process
saw them) and, for each worker, the RQ jobs it ran (RQ's worker stats) and its CPU time, which
also counts handling done outside RQ's jobs. The same load runs on 1 web + 1 worker and on 2
webs + 4 workers, and
it prints the ratio of texts answered per second and the median text-to-reply time; on a
machine with few cores the processes share them, so the ratio says what they add there.

Needs DATABASE_URL (PostgreSQL) and REDIS_URL: processes scale out only against shared servers.
It empties both between runs, as the test suite does: point them at scratch ones.

    DATABASE_URL=postgresql://postgres@127.0.0.1/scaleout REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python -m bench.scale_out [--quick] [--texts 400] [--rounds 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shlex
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench import harness
from bench.outage import pending
from bench.reliability import telegram_update
from bot.procfile import read_procfile
from tests.support import drivers
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_twilio import FakeTwilio
from tests.support.processes import free_port

SINGLE, SCALED = (1, 1), (2, 4)  # (web processes, workers)
TWILIO_PATH, TELEGRAM_PATH = "/webhooks/twilio", "/webhooks/telegram"
# What people text: each gets one reply from someone with no circle, on both channels.
WORDS = ("HELP", "NEXT", "FIND Nakuru", "JOIN", "hello")
# Longer ago than the bot's "new person" day: no language hint as a second message.
# The Procfile's web line with the access log: one line per request answered.
ACCESS_LINE = re.compile(r'"POST (/webhooks/\S+) HTTP/[\d.]+" (\d{3}) ')
# A worker doing less than this part of an even share of the workers' CPU sat the load out.
MIN_SHARE = 0.25
QUICK = {"texts": 80, "rounds": 1, "tick_every": 5.0, "settle": 1.0}


@dataclass
class Text:
    """One person's text, the posts that carried it, and what became of it."""

    channel: str  # "sms" or "telegram"
    address: str  # as the bot stores it and the fake addresses it: "+1555…" or a user id
    provider_id: str  # as the bot stores it: the MessageSid, or "update:<update_id>"
    path: str
    body: bytes
    headers: dict[str, str]
    webs: tuple[int, ...]  # the web each post goes to; two for a retry to another dyno
    posted_at: float = 0.0
    acknowledged_at: float = 0.0  # when its last post was answered
    posts: list[tuple[int, int]] = field(default_factory=list)  # (web, status); 0: no answer

    @property
    def duplicate(self) -> bool:
        return len(self.webs) > 1


@dataclass
class Run:
    """One shape's run: its texts, the replies the fakes took, and how the work spread."""

    label: str
    webs: int
    workers: int
    texts: list[Text]
    replies: dict[str, list[float]] = field(default_factory=dict)
    rows: dict[str, list[str]] = field(default_factory=dict)  # provider id → statuses stored
    reply_rows: dict[str, list[str]] = field(default_factory=dict)  # address → reply statuses
    began: float = 0.0
    answered_at: float = 0.0
    served: dict[str, Counter] = field(default_factory=dict)  # web → access-log POSTs by status
    # Worker → RQ jobs run, failed, and CPU seconds: the inbox's handling is no RQ job.
    jobs: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    connections: int = 0  # the most PostgreSQL connections the bot's processes held at once
    web_cpu: float = 0.0  # CPU seconds of the web processes (masters and their workers)
    own_cpu: float = 0.0  # of this process: senders, fake providers, ticks, polling
    ticks: int = 0
    ticks_failed: int = 0

    @property
    def latencies(self) -> list[float]:
        return [
            min(self.replies[text.address]) - text.posted_at
            for text in self.texts
            if self.replies.get(text.address)
        ]

    @property
    def seconds(self) -> float:
        return self.answered_at - self.began

    @property
    def posts_per_second(self) -> float:
        posts = sum(len(text.posts) for text in self.texts)
        last = max((text.acknowledged_at for text in self.texts), default=self.began)
        return posts / (last - self.began) if last > self.began else 0.0

    @property
    def per_second(self) -> float:
        return len(self.texts) / self.seconds if self.seconds > 0 else 0.0


def make_texts(count: int, start: int, webs: int, every_duplicate: int, every_telegram: int):
    """`count` texts from as many people, numbered from `start`, dealt round-robin over `webs`."""
    texts = []
    for n in range(start, start + count):
        words = WORDS[n % len(WORDS)]
        duplicate = every_duplicate and n % every_duplicate == every_duplicate - 1
        # One web only: the retry lands on the same one, as two of its gunicorn workers.
        on = (n % webs, (n + 1) % webs) if duplicate else (n % webs,)
        if every_telegram and n % every_telegram == 0:
            user_id = 8_000_000 + n
            update = telegram_update(900_000_000 + n, user_id, words)
            headers = {
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": drivers.TELEGRAM_SECRET,
            }
            body = json.dumps(update).encode()
            texts.append(
                Text("telegram", str(user_id), f"update:{update['update_id']}", TELEGRAM_PATH,
                     body, headers, on)
            )  # fmt: skip
        else:
            number, sid = f"+1555{3000000 + n:07d}", f"SM{n:032x}"
            form = harness.sms_form(sid, number, words)
            headers = harness.signed_twilio(form, TWILIO_PATH)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            texts.append(
                Text("sms", number, sid, TWILIO_PATH, urlencode(form).encode(), headers, on)
            )
    return texts


def post(port: int, text: Text, web: int, barrier: threading.Barrier | None) -> None:
    """Post the text's webhook to one web, at the same instant as its twin when it has one."""
    if barrier is not None:
        barrier.wait(timeout=30)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    text.posted_at = text.posted_at or time.time()
    try:
        connection.request("POST", text.path, text.body, text.headers)
        response = connection.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0
    finally:
        connection.close()
    text.posts.append((web, status))
    text.acknowledged_at = max(text.acknowledged_at, time.time())


def send(texts: list[Text], ports: list[int], connections: int) -> None:
    """Post every text as fast as `connections` senders can, twins side by side."""
    with ThreadPoolExecutor(max_workers=max(2, connections)) as senders:
        futures = []
        for text in texts:
            # Both twins are queued one after the other, so the barrier never waits for long.
            barrier = threading.Barrier(len(text.webs)) if text.duplicate else None
            for web in text.webs:
                futures.append(senders.submit(post, ports[web], text, web, barrier))
        for future in futures:
            future.result()


def replies(twilio: FakeTwilio, telegram: FakeTelegram) -> dict[str, list[float]]:
    """When each address was sent something the fakes accepted, by address."""
    found: dict[str, list[float]] = defaultdict(list)
    for call in twilio.requests:
        if call["status"] == 201:
            found[call["params"]["To"]].append(call["at"])
    for call in telegram.requests:
        if call["status"] == 200 and call["method"] in ("sendMessage", "sendPhoto"):
            found[str(call["params"]["chat_id"])].append(call["at"])
    return dict(found)


def stored(texts: list[Text]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """What the bot stored: inbound statuses by provider id, reply statuses by address."""
    from sqlmodel import select

    from bot.db import session_scope
    from models.message import IN, OUT, Message
    from models.people import Contact

    rows: dict[str, list[str]] = defaultdict(list)
    reply_rows: dict[str, list[str]] = defaultdict(list)
    with session_scope() as session:
        found = session.exec(
            select(Message.direction, Message.provider_id, Message.status, Contact.address)
            .join(Contact, Contact.id == Message.contact_id)
            .where(Contact.address.in_([text.address for text in texts]))
        ).all()
    for direction, provider_id, status, address in found:
        if direction == IN:
            rows[provider_id].append(status)
        elif direction == OUT:
            reply_rows[address].append(status)
    return dict(rows), dict(reply_rows)


def worker_stats(names: dict[int, str]) -> dict[str, tuple[int, int, float]]:
    """Jobs each of our workers ran and failed (RQ's worker records), and its CPU seconds."""
    # CPU also counts handling done outside RQ's jobs, which RQ's records miss: the Procfile's
    # worker (bot.worker) pops contacts from an inbox list and handles them with no job.
    from rq import Worker

    from bot import queue

    return {
        names[worker.pid]: (
            worker.successful_job_count,
            worker.failed_job_count,
            harness.cpu_seconds(worker.pid),
        )
        for worker in Worker.all(connection=queue.connection())
        if worker.pid in names
    }


def served(log: str) -> Counter:
    """Webhook POSTs a web process answered, by path and status, from its access log."""
    return Counter(f"{path} {status}" for path, status in ACCESS_LINE.findall(log))


class ConnectionPeak(threading.Thread):
    """Sample pg_stat_activity for the most connections the bot's processes held at once."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self._stopping = threading.Event()

    def run(self) -> None:
        from sqlalchemy import text

        from bot.db import get_engine

        engine = get_engine()
        count = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        while not self._stopping.wait(0.2):
            with engine.connect() as connection:
                total = connection.execute(count).scalar_one()
            # This process's own pool is the bench's, not the bot's.
            ours = engine.pool.checkedin() + engine.pool.checkedout()
            self.peak = max(self.peak, total - ours)

    def stop(self) -> int:
        self._stopping.set()
        self.join(timeout=5)
        return self.peak


def access_log_arguments() -> str:
    """The Procfile web line's access-log flags, for GUNICORN_CMD_ARGS."""
    words = shlex.split(read_procfile(harness.ROOT / "Procfile")["web"])
    flags = []
    for flag in ("--access-logfile", "--access-logformat"):
        if flag in words:
            flags += words[words.index(flag) : words.index(flag) + 2]
    return shlex.join(flags)


class Ticks(threading.Thread):
    """Run `jobs.tick.run()` every few seconds in this process, as the clock's job every minute."""

    def __init__(self, every: float) -> None:
        super().__init__(daemon=True)
        self.every, self.runs, self.failed = every, 0, 0
        self._stopping = threading.Event()

    def run(self) -> None:
        from jobs import tick

        while not self._stopping.is_set():
            began = time.monotonic()
            try:
                tick.run()
                self.runs += 1
            except Exception:  # reported in the figures; the load goes on as it would
                self.failed += 1
            self._stopping.wait(max(0.0, self.every - (time.monotonic() - began)))

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=60)


def wait_until(condition, timeout: float, what: str) -> bool:
    """Poll gently (the bot's processes share this machine's cores); False after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    print(f"gave up waiting for {what} after {timeout:g} s")
    return False


def run_shape(
    instance: harness.Instance,
    twilio: FakeTwilio,
    telegram: FakeTelegram,
    env: dict[str, str],
    shape: tuple[int, int],
    number: int,
    args,
) -> Run:
    """Start the shape's processes on emptied servers, warm them, send the load, and judge it."""
    webs, workers = shape
    label = f"{webs} web{'s' * (webs > 1)} + {workers} worker{'s' * (workers > 1)}"
    instance.wipe()
    twilio.clear()
    telegram.clear()
    first = number * 1_000_000
    warmup = make_texts(2 * webs * args.web_concurrency, first, webs, 0, 2)
    texts = make_texts(args.texts, first + 1000, webs, args.duplicate_every, args.telegram_every)
    harness.known_people([(text.channel, text.address) for text in warmup + texts])
    tag = f"r{number}-{webs}w{workers}k"
    web_env = env | {"GUNICORN_CMD_ARGS": access_log_arguments()}
    run = Run(label, webs, workers, texts)
    ticks = Ticks(args.tick_every)
    with harness.Processes(env, instance.path) as processes:
        try:
            names = {}
            for k in range(workers):
                processes.rq_worker(f"{tag}-worker{k + 1}")
                names[processes.started[-1].pid] = f"worker {k + 1}"
            ports = [free_port() for _ in range(webs)]
            masters = []
            for w, port in enumerate(ports):
                processes.gunicorn(
                    f"{tag}-web{w + 1}", "app:create_app()", port, args.web_concurrency, web_env
                )
                masters.append(processes.started[-1].pid)
            harness.wait_for(
                lambda: len(worker_stats(names)) == workers, timeout=60, what="the workers"
            )
            ticks.start()
            # Every gunicorn worker and RQ worker takes its first requests and jobs unmeasured.
            send(warmup, ports, 1)
            wait_until(
                lambda: all(text.address in replies(twilio, telegram) for text in warmup),
                60,
                "the warm-up replies",
            )
            jobs_before = worker_stats(names)
            logs_before = {w: served(processes.log(f"{tag}-web{w + 1}")) for w in range(webs)}
            web_cpu = sum(harness.family_cpu_seconds(pid) for pid in masters)
            own_cpu = time.process_time()
            peak = ConnectionPeak()
            peak.start()
            run.began = time.time()
            send(texts, ports, args.connections)

            def answered() -> bool:
                got = replies(twilio, telegram)
                return all(text.address in got for text in texts) and not pending()

            wait_until(answered, args.drain_timeout, "every reply")
            run.connections = peak.stop()
            got = replies(twilio, telegram)
            firsts = [min(got[text.address]) for text in texts if text.address in got]
            run.answered_at = max(firsts, default=time.time())
            run.web_cpu = sum(harness.family_cpu_seconds(pid) for pid in masters) - web_cpu
            run.own_cpu = time.process_time() - own_cpu
            time.sleep(args.settle)  # a late double would still show
            got = replies(twilio, telegram)
            run.replies = {text.address: got[text.address] for text in texts if text.address in got}
            after = worker_stats(names)
            run.jobs = {
                name: tuple(a - b for a, b in zip(after[name], jobs_before[name], strict=True))
                for name in sorted(after)
                if name in jobs_before
            }
            run.served = {
                f"web {w + 1}": served(processes.log(f"{tag}-web{w + 1}")) - logs_before[w]
                for w in range(webs)
            }
        finally:
            ticks.stop()
            processes.stop()
    run.ticks, run.ticks_failed = ticks.runs, ticks.failed
    run.rows, run.reply_rows = stored(texts)
    return run


def judge(run: Run) -> dict[str, int]:
    """Count, for one run, what became of its texts."""
    counts: Counter = Counter()
    for text in run.texts:
        rows = run.rows.get(text.provider_id, [])
        sent = run.replies.get(text.address, [])
        reply_rows = run.reply_rows.get(text.address, [])
        counts["texts"] += 1
        counts["posted to two webs at once"] += text.duplicate
        counts["posts"] += len(text.posts)
        counts["posts answered 200"] += sum(status == 200 for _, status in text.posts)
        counts["stored once"] += len(rows) == 1
        counts["handled"] += rows == ["handled"]
        counts["one reply row, sent"] += reply_rows == ["sent"]
        counts["one reply at the provider"] += len(sent) == 1
        counts["twins: one row, one reply"] += text.duplicate and len(rows) == 1 and len(sent) == 1
        counts["doubles"] += len(rows) > 1 or len(sent) > 1 or len(reply_rows) > 1
        counts["lost"] += not rows or not sent
    counts["RQ jobs run"] = sum(ok for ok, _, _ in run.jobs.values())
    counts["RQ jobs failed"] = sum(failed for _, failed, _ in run.jobs.values())
    return dict(counts)


def exactly_once(counts: dict[str, int]) -> bool:
    n = counts["texts"]
    return (
        counts["posts answered 200"] == counts["posts"]
        and counts["stored once"] == counts["handled"] == n
        and counts["one reply row, sent"] == counts["one reply at the provider"] == n
        and counts["twins: one row, one reply"] == counts["posted to two webs at once"]
        and not counts["doubles"]
        and not counts["lost"]
    )


CHECKS = (
    "texts",
    "posted to two webs at once",
    "posts",
    "posts answered 200",
    "stored once",
    "handled",
    "one reply row, sent",
    "one reply at the provider",
    "twins: one row, one reply",
    "doubles",
    "lost",
    "RQ jobs run",
    "RQ jobs failed",
)


def spread_rows(run: Run) -> list[list[object]]:
    """One row per process: webhooks answered (client and access log), jobs run."""
    rows = []
    for w in range(run.webs):
        answered = sum(
            status == 200 for text in run.texts for web, status in text.posts if web == w
        )
        logged = run.served.get(f"web {w + 1}", Counter())
        rows.append([f"web {w + 1}", answered, sum(logged.values()), "", "", "", ""])
    cpu = sum(seconds for _, _, seconds in run.jobs.values()) or float("nan")
    for name, (ok, failed, seconds) in run.jobs.items():
        rows.append([name, "", "", ok, failed, f"{seconds:.2f}", f"{seconds / cpu:.0%}"])
    return rows


def spread(run: Run) -> bool:
    """Whether every web answered webhooks and every worker did a fair part of the work."""
    cpu = [seconds for _, _, seconds in run.jobs.values()]
    even = sum(cpu) / run.workers
    return (
        all(row[1] for row in spread_rows(run)[: run.webs])
        and len(cpu) == run.workers
        and all(seconds >= MIN_SHARE * even for seconds in cpu)
    )


def main(argv: list[str] | None = None) -> int:
    """Run both shapes, check every text once, and print the spread and the throughput ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="80 texts, one round (under a minute)")
    parser.add_argument("--texts", type=int, default=400, help="texts per run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each shape, alternating")
    parser.add_argument("--connections", type=int, default=8, help="concurrent senders")
    parser.add_argument("--duplicate-every", type=int, default=10, help="every Nth posted twice")
    parser.add_argument("--telegram-every", type=int, default=4, help="every Nth by Telegram")
    parser.add_argument("--web-concurrency", type=int, default=2, help="gunicorn workers per web")
    parser.add_argument("--tick-every", type=float, default=10, help="seconds between ticks")
    parser.add_argument("--drain-timeout", type=float, default=120, help="give up after this")
    parser.add_argument("--settle", type=float, default=2, help="seconds to wait for doubles")
    parser.add_argument("--report", help="write run_all's JSON report here")
    # --quick changes the defaults only: a flag given beside it still counts.
    if parser.parse_known_args(argv)[0].quick:
        parser.set_defaults(**QUICK)
    args = parser.parse_args(argv)
    harness.stop_on_sigterm()
    harness.quiet_logs()

    with (
        harness.Instance() as instance,
        FakeTwilio() as twilio,
        FakeTelegram() as telegram,
    ):
        from sqlalchemy.engine import make_url

        backend = make_url(instance.settings().sqlalchemy_url).get_backend_name()
        if backend != "postgresql" or not instance.redis_url:
            print(
                "bench.scale_out needs DATABASE_URL (PostgreSQL) and REDIS_URL: web and worker "
                "processes scale out only against servers they share, and SQLite and the "
                "embedded Redis belong to one machine. Set both (scratch ones: it empties them)."
            )
            harness.write_report(
                args.report, "scale_out",
                [{"measure": "2 webs + 4 workers on one PostgreSQL and Redis",
                  "figure": "needs DATABASE_URL on PostgreSQL and REDIS_URL", "target": "",
                  "verdict": "skipped"}],
            )  # fmt: skip
            return 0
        instance.use()
        env = instance.env(
            TWILIO_API_BASE_URL=twilio.url,
            TELEGRAM_API_BASE_URL=telegram.url,
            # Throttling is a product rule, not throughput: keep it out of the way.
            SMS_RATE_PER_SECOND="100000",
            TELEGRAM_RATE_PER_SECOND="100000",
            TELEGRAM_GROUP_RATE_PER_MINUTE="6000000",
        )
        print(
            f"scale-out: {args.texts} texts per run ({args.texts // max(1, args.duplicate_every)}"
            f" posted to two webs at once), {args.connections} senders, webs of "
            f"{args.web_concurrency} gunicorn workers, tick every {args.tick_every:g} s; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
            flush=True,
        )
        runs: list[Run] = []
        for number in range(args.rounds):
            for shape in (SINGLE, SCALED) if number % 2 == 0 else (SCALED, SINGLE):
                runs.append(run_shape(instance, twilio, telegram, env, shape, number + 1, args))
                print(f"  {runs[-1].label}: {runs[-1].per_second:.1f} texts/s", flush=True)

    return report(args, runs)


def report(args, runs: list[Run]) -> int:
    """Print the three tables and the ratio, write run_all's report; 1 if a text was not once."""
    verdicts = [(run, judge(run)) for run in runs]
    ok = all(exactly_once(counts) for _, counts in verdicts)
    columns = [f"{run.webs}+{run.workers} #{n // 2 + 1}" for n, run in enumerate(runs)]
    print("\nexactly once, by provider id (columns: webs+workers #round)")
    print(harness.table(["measure", *columns], [
        [check, *(counts[check] for _, counts in verdicts)] for check in CHECKS
    ]))  # fmt: skip
    print(f"every text stored, handled and answered exactly once: {'PASS' if ok else 'FAIL'}")

    scaled = [run for run in runs if (run.webs, run.workers) == SCALED]
    for n, run in enumerate(scaled):
        print(f"\nwork spread, {run.label} #{n + 1} (measured texts only)")
        print(harness.table(
            ["process", "webhooks answered 200", "access-log POSTs", "RQ jobs run",
             "RQ jobs failed", "CPU s", "share of workers' CPU"],
            spread_rows(run),
        ))  # fmt: skip
    spread_ok = all(spread(run) for run in scaled)

    print("\nthroughput: first post → last text's first reply")
    print(harness.table(
        ["run", "texts", "seconds", "posts/s", "texts/s", "p50 ms", "p95 ms", "PG conns",
         "CPU ms/text: webs", "workers", "this process", "ticks"],
        [[f"{run.label} #{n // 2 + 1}", len(run.texts), f"{run.seconds:.1f}",
          f"{run.posts_per_second:.0f}",
          f"{run.per_second:.1f}", f"{harness.median(run.latencies) * 1000:.0f}",
          f"{harness.percentile(run.latencies, 0.95) * 1000:.0f}", run.connections,
          *(f"{cpu / len(run.texts) * 1000:.1f}" for cpu in
            (run.web_cpu, sum(c for _, _, c in run.jobs.values()), run.own_cpu)),
          f"{run.ticks}" + (f" ({run.ticks_failed} failed)" if run.ticks_failed else "")]
         for n, run in enumerate(runs)],
    ))  # fmt: skip
    single = [run for run in runs if (run.webs, run.workers) == SINGLE]
    rate = harness.median([run.per_second for run in scaled])
    base = harness.median([run.per_second for run in single])
    ratio = rate / base if base else float("nan")
    p50 = harness.median([harness.median(run.latencies) for run in scaled]) * 1000
    base_p50 = harness.median([harness.median(run.latencies) for run in single]) * 1000
    verdict = "meets" if ratio > 1.0 else "MISSES"  # no DESIGN target: more, or not
    print(
        f"texts answered/s, 2 webs + 4 workers / 1 web + 1 worker: {ratio:.2f}× "
        f"({rate:.1f} vs {base:.1f}/s); p50 text-to-reply {p50:.0f} vs {base_p50:.0f} ms "
        f"({verdict} > 1×)"
    )

    once = [counts for run, counts in verdicts if (run.webs, run.workers) == SCALED]
    harness.write_report(
        args.report,
        "scale_out",
        [
            {
                "measure": "2 webs + 4 workers: every text stored, handled, answered once",
                "figure": (
                    f"{sum(c['one reply at the provider'] for c in once)}/"
                    f"{sum(c['texts'] for c in once)} once, "
                    f"{sum(c['posted to two webs at once'] for c in once)} posted to both webs, "
                    f"{sum(c['doubles'] for c in once)} doubles, "
                    f"{sum(c['lost'] for c in once)} lost"
                ),
                "target": "every text once",
                "verdict": "PASS" if ok else "FAIL",
            },
            {
                "measure": "work spread over 2 webs and 4 workers",
                "figure": "; ".join(
                    "webs "
                    + "/".join(str(row[1]) for row in spread_rows(run)[: run.webs])
                    + ", workers' CPU "
                    + "/".join(row[-1] for row in spread_rows(run)[run.webs :])
                    for run in scaled
                ),
                "target": "every process takes a share",
                "verdict": "meets" if spread_ok else "MISSES",
            },
            {
                "measure": "texts answered/s, 2 webs + 4 workers / 1 web + 1 worker",
                "figure": f"{ratio:.2f}× ({rate:.1f} vs {base:.1f}/s; p50 {p50:.0f} vs "
                f"{base_p50:.0f} ms)",
                "target": "> 1×",
                "verdict": verdict,
            },
        ],
        ok=ok,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
