"""Run every benchmark with its small defaults and print one summary (`make bench`).

Each runs in its own process, so that one's settings, engine and Redis never leak into the
next. Time ratios are reported, never asserted; the exit status is 1 only when a correctness
check failed (a reliability check, webhooks not stored exactly once, reminders not sent exactly
once) or a benchmark crashed.

    .venv/bin/python -m bench.run_all [--only queries --only reliability]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import harness

BENCHMARKS = ("webhook_ack", "inbound_latency", "fanout", "queries", "reliability", "outage")
# Shorter than its default: the drill's minute without a database would take `make bench` past
# its few minutes.
QUICK = {"outage": ["--outage", "20", "--before", "5", "--after", "5"]}
# Far above any small default; a benchmark that takes this long is stuck.
TIMEOUT_SECONDS = 900
FIGURE_WIDTH = 90


def run(name: str, report: Path) -> tuple[int, float]:
    """Run one benchmark module, its output passing straight through; return status, seconds."""
    began = time.monotonic()
    command = [sys.executable, "-m", f"bench.{name}", "--report", str(report), *QUICK.get(name, [])]
    process = subprocess.Popen(command, cwd=harness.ROOT)
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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks one after another and sum up their headline figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=BENCHMARKS, action="append", help="run only these")
    args = parser.parse_args(argv)
    harness.stop_on_sigterm()

    rows, failed = [], []
    with tempfile.TemporaryDirectory(prefix="circlebot-bench-reports-") as folder:
        for name in args.only or BENCHMARKS:
            print(f"\n=== bench.{name} ===", flush=True)
            report = Path(folder) / f"{name}.json"
            status, seconds = run(name, report)
            if status != 0:
                failed.append(name)
            if not report.exists():
                rows.append([name, "did not finish", "", "", f"CRASHED ({status})", ""])
                continue
            for row in json.loads(report.read_text())["rows"]:
                figure = row["figure"]
                if len(figure) > FIGURE_WIDTH:  # the benchmark's own output has all of it
                    figure = figure[: FIGURE_WIDTH - 1] + "…"
                rows.append(
                    [name, row["measure"], figure, row["target"], row["verdict"],
                     f"{seconds:.0f} s"]
                )  # fmt: skip

    print("\n=== summary ===")
    print(harness.table(["bench", "measure", "figure", "target", "verdict", "took"], rows))
    if failed:
        print(f"\ncorrectness failures or crashes in: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
