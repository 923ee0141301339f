"""Webhook acknowledgement throughput: our signed `POST /webhooks/twilio` vs a bare Flask endpoint.

Both are served by real gunicorn with the same worker count and hammered by the same load
generator (threads on keep-alive http.client connections posting the same signed forms, each
with a fresh MessageSid). DESIGN target: ours ≥ 0.5 × the bare endpoint. Also checks that every
message we acknowledged was stored exactly once. No worker runs: handling jobs just queue up.

    .venv/bin/python -m bench.webhook_ack [--seconds 5] [--connections 8] [--workers 2]
"""

from __future__ import annotations

import argparse
import http.client
import resource
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from bench import harness
from tests.support.processes import free_port

TARGET = 0.5
PATH = "/webhooks/twilio"
# A hard bound on each connection's loop, whatever the duration asked for.
MAX_REQUESTS_PER_CONNECTION = 2_000_000


@dataclass
class Load:
    """What one load run saw."""

    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    acknowledged: set[str] = field(default_factory=set)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def add(self, other: Load) -> None:
        self.seconds += other.seconds
        self.statuses.update(other.statuses)
        self.latencies += other.latencies
        self.client_cpu += other.client_cpu
        self.server_cpu += other.server_cpu
        self.acknowledged |= other.acknowledged


def hammer(
    base: str, server_pid: int, tag: str, connections: int, seconds: float, contacts: int
) -> Load:
    """Post signed inbound SMS from `connections` threads for `seconds`; count the answers."""
    url = urlsplit(base)
    start = threading.Barrier(connections + 1)
    results: list[Load] = [Load() for _ in range(connections)]
    stop_at: list[float] = []

    def client(index: int) -> None:
        result = results[index]
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        start.wait()
        for n in range(MAX_REQUESTS_PER_CONNECTION):
            if time.monotonic() >= stop_at[0]:
                break
            # Twilio's SIDs are "SM" and 32 hex digits; ours say which run, thread and request.
            sid = f"SM{tag}{index:06x}{n:018x}"
            # Clear of our own numbers (+1555000000x), whose posts are rightly ignored.
            sender = f"+1555{1_000_000 + (index * 7919 + n) % contacts:07d}"
            form = harness.sms_form(sid, sender, "HELP")
            headers = harness.signed_twilio(form, PATH) | {
                "Content-Type": "application/x-www-form-urlencoded"
            }
            began = time.perf_counter()
            try:
                connection.request("POST", PATH, urlencode(form), headers)
                response = connection.getresponse()
                response.read()
                result.statuses[response.status] += 1
                if response.status == 200:
                    result.acknowledged.add(sid)
            except (OSError, http.client.HTTPException) as error:
                result.statuses[type(error).__name__] += 1
                connection.close()
                continue
            result.latencies.append(time.perf_counter() - began)
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    cpu_before = _own_cpu()
    server_before = harness.family_cpu_seconds(server_pid)
    began = time.monotonic()
    stop_at.append(began + seconds)
    start.wait()
    for thread in threads:
        thread.join()
    total = Load(seconds=time.monotonic() - began)
    for result in results:
        total.statuses.update(result.statuses)
        total.latencies += result.latencies
        total.acknowledged |= result.acknowledged
    total.client_cpu = _own_cpu() - cpu_before
    total.server_cpu = harness.family_cpu_seconds(server_pid) - server_before
    return total


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stored(tag: str) -> list[str]:
    """The MessageSids of the inbound rows stored for this run's messages, one per row."""
    from sqlmodel import select

    from bot.db import session_scope
    from models.message import IN, Message

    with session_scope() as session:
        return list(
            session.exec(
                select(Message.provider_id).where(
                    Message.direction == IN, Message.provider_id.like(f"SM{tag}%")
                )
            )
        )


def main(argv: list[str] | None = None) -> int:
    """Run both targets side by side and print their throughput and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per target")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring")
    parser.add_argument("--connections", type=int, default=8, help="load generator threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, both targets")
    parser.add_argument("--contacts", type=int, default=200, help="distinct senders")
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    harness.stop_on_sigterm()

    with harness.Instance() as instance:
        instance.use()
        instance.wipe()  # a shared database and Redis start empty, whatever ran before
        from bot import queue

        queue.connection().ping()  # start the embedded Redis before the web workers race to
        with harness.Processes(instance.env(), instance.path) as processes:
            targets = {
                "bare Flask": ("bench.baseline_app:create_app()", secrets.token_hex(4)),
                "circlebot": ("app:create_app()", secrets.token_hex(4)),
            }
            servers = {}
            for name, (spec, _tag) in targets.items():
                port = free_port()
                base = processes.gunicorn(name.replace(" ", "-"), spec, port, args.workers)
                servers[name] = (base, processes.started[-1].pid)
            loads = {name: Load() for name in targets}
            for name, (base, pid) in servers.items():
                tag = targets[name][1]
                warm = hammer(base, pid, tag + "w", args.connections, args.warmup, args.contacts)
                loads[name + " warmup"] = warm
            for round_ in range(args.rounds):
                for name, (base, pid) in servers.items():
                    tag = targets[name][1] + f"{round_:01x}"
                    loads[name].add(
                        hammer(base, pid, tag, args.connections, args.seconds, args.contacts)
                    )
            ours_tag = targets["circlebot"][1]
            sids = stored(ours_tag)
            web_log = processes.log("circlebot")

    bare, ours = loads["bare Flask"], loads["circlebot"]
    acknowledged = ours.acknowledged | loads["circlebot warmup"].acknowledged
    rows, distinct = len(sids), len(set(sids))
    # Stored but not acknowledged is fine (a 200 lost on the way); acknowledged and not stored
    # is a message lost.
    lost = acknowledged - set(sids)
    ratio = ours.per_second / bare.per_second if bare.per_second else float("nan")
    print(
        f"webhook acknowledgement: {args.workers} gunicorn workers (sync), "
        f"{args.connections} client threads, {args.rounds} × {args.seconds:g} s per target"
    )
    print(
        harness.table(
            ["target", "requests", "req/s", "p50 ms", "p99 ms", "server CPU ms/req",
             "client CPU ms/req", "answers"],
            [
                [
                    name,
                    load.requests,
                    f"{load.per_second:.0f}",
                    f"{harness.median(load.latencies) * 1000:.1f}",
                    f"{harness.percentile(load.latencies, 0.99) * 1000:.1f}",
                    f"{load.server_cpu / max(load.requests, 1) * 1000:.2f}",
                    f"{load.client_cpu / max(load.requests, 1) * 1000:.2f}",
                    dict(load.statuses),
                ]
                for name, load in (("bare Flask", bare), ("circlebot", ours))
            ],
        )
    )  # fmt: skip
    print(
        f"ratio circlebot / bare Flask: {ratio:.2f}× (target ≥ {TARGET}×: "
        f"{harness.verdict(ratio, TARGET, higher_is_better=True)})"
    )
    exact = rows == distinct and not lost
    print(
        f"stored: {rows} rows, {distinct} distinct MessageSids for {len(acknowledged)} messages "
        f"acknowledged with 200 → {'each exactly once' if exact else 'MISMATCH'}"
    )
    if lost:
        print(f"acknowledged but not stored: {len(lost)}, e.g. {sorted(lost)[:5]}")
    if "Traceback" in web_log:
        print("the web log has tracebacks; first one:")
        print(web_log[web_log.index("Traceback") :][:2000])
    harness.write_report(
        args.report,
        "webhook_ack",
        [
            {
                "measure": "webhook ack throughput (circlebot / bare Flask)",
                "figure": f"{ratio:.2f}×",
                "ours": f"{ours.per_second:.0f} req/s",
                "baseline": f"{bare.per_second:.0f} req/s",
                "target": f"≥ {TARGET}×",
                "verdict": harness.verdict(ratio, TARGET, higher_is_better=True),
            },
            {
                "measure": "acknowledged webhooks stored exactly once",
                "figure": f"{rows} rows / {distinct} sids / {len(acknowledged)} acks",
                "target": "equal",
                "verdict": "PASS" if exact else "FAIL",
            },
        ],
        ok=exact,
    )
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
