"""Run every benchmark in its quick mode and print one table of ratios (`make bench`).

Each runs in its own process, so that one's settings, engine and Redis never leak into the
next. With `--postgres` (and `--redis`), the three ratio benchmarks run on SQLite and on
PostgreSQL, and the national season and the scale-out run on PostgreSQL; without it, everything
runs on what DATABASE_URL and REDIS_URL say (the embedded defaults when unset), and the two that
need PostgreSQL say they were skipped. `--full` runs each at the sizes bench/README.md gives.
Time ratios are reported, never asserted; the exit status is 1 only when a correctness check
failed (a reliability check, webhooks not stored exactly once, reminders not sent exactly once)
or a benchmark crashed.

    .venv/bin/python -m bench.run_all [--only queries] [--postgres URL --redis URL] [--full]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import harness

BENCHMARKS = (
    "webhook_ack", "inbound_latency", "fanout", "queries", "reliability", "outage", "national",
    "scale_out",
)  # fmt: skip
# DESIGN's three ratios: measured on each database given.
RATIOS = ("webhook_ack", "inbound_latency", "fanout")
# Only PostgreSQL and a shared Redis hold a national season or processes on several machines.
POSTGRES_ONLY = ("national", "scale_out")
# Quick mode: small enough that all of `make bench` stays within a few minutes.
QUICK = {
    "webhook_ack": ["--seconds", "3", "--warmup", "1"],
    "inbound_latency": ["--samples", "30"],
    "fanout": ["--learners", "1000"],
    "queries": ["--scale", "20"],
    "reliability": ["--hostile", "200", "--failing", "100"],
    "outage": ["--outage", "10", "--before", "4", "--after", "4"],
    "national": ["--quick"],
    "scale_out": ["--quick"],
}
# The sizes the DESIGN names (bench/README.md): minutes each.
FULL = {
    "webhook_ack": ["--seconds", "20", "--rounds", "3"],
    "inbound_latency": ["--samples", "100"],
    "fanout": ["--learners", "10000", "--workers", "1", "2", "4"],
    "queries": ["--scale", "1000"],
    "reliability": ["--hostile", "10000"],
    "outage": [],
    "national": [],
    "scale_out": [],
}
# Far above any quick run; a benchmark that takes this long is stuck.
TIMEOUT_SECONDS = 900
FIGURE_WIDTH = 60


def run(name: str, report: Path, env: dict[str, str], extra: list[str]) -> tuple[int, float]:
    """Run one benchmark module, its output passing straight through; return status, seconds."""
    began = time.monotonic()
    command = [sys.executable, "-m", f"bench.{name}", "--report", str(report), *extra]
    process = subprocess.Popen(command, cwd=harness.ROOT, env=env)
    try:
        status = process.wait(timeout=TIMEOUT_SECONDS)
    except (subprocess.TimeoutExpired, KeyboardInterrupt, SystemExit):
        # SIGTERM lets it stop its own gunicorn and worker processes first.
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        status = -1
    return status, time.monotonic() - began


def plan(names: list[str], postgres: str, redis: str) -> list[tuple[str, str, dict[str, str]]]:
    """Each run: (benchmark, backend, environment)."""
    here = {key: value for key, value in os.environ.items()}
    if not postgres:
        backend = "postgresql" if here.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
        return [(name, backend, here) for name in names]
    sqlite = {k: v for k, v in here.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    shared = here | {"DATABASE_URL": postgres, "REDIS_URL": redis}
    runs = []
    for name in names:
        if name in RATIOS or name not in POSTGRES_ONLY:
            runs.append((name, "sqlite", sqlite))
        if name in RATIOS or name in POSTGRES_ONLY:
            runs.append((name, "postgresql", shared))
    return runs


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks one after another and sum up their headline figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=BENCHMARKS, action="append", help="run only these")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", ""),
        help="a scratch PostgreSQL database (emptied!): the ratios run on it too",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"),
        help="a scratch Redis database (emptied!) beside --postgres",
    )
    parser.add_argument("--full", action="store_true", help="DESIGN's sizes, not the quick ones")
    args = parser.parse_args(argv)
    harness.stop_on_sigterm()

    rows, failed = [], []
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="circlebot-bench-reports-") as folder:
        for name, backend, env in plan(args.only or list(BENCHMARKS), args.postgres, args.redis):
            print(f"\n=== bench.{name} on {backend} ===", flush=True)
            report = Path(folder) / f"{name}-{backend}.json"
            extra = (FULL if args.full else QUICK).get(name, [])
            status, seconds = run(name, report, env, extra)
            if status != 0:
                failed.append(f"{name} ({backend})")
            if not report.exists():
                rows.append([name, backend, "did not finish", "", "", "", "", f"CRASHED ({status})",
                             f"{seconds:.0f} s"])  # fmt: skip
                continue
            for row in json.loads(report.read_text())["rows"]:
                figure = row["figure"]
                if len(figure) > FIGURE_WIDTH:  # the benchmark's own output has all of it
                    figure = figure[: FIGURE_WIDTH - 1] + "…"
                rows.append(
                    [name, backend, row["measure"], row.get("ours", ""), row.get("baseline", ""),
                     figure, row["target"], row["verdict"], f"{seconds:.0f} s"]
                )  # fmt: skip

    mode = "full" if args.full else "quick"
    print(f"\n=== summary ({mode} mode, {time.monotonic() - began:.0f} s) ===")
    print(
        harness.table(
            ["bench", "backend", "measure", "circlebot", "baseline", "ratio or figure", "target",
             "verdict", "took"],
            rows,
        )
    )  # fmt: skip
    if failed:
        print(f"\ncorrectness failures or crashes in: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
