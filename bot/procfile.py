"""Run the Procfile's processes together in one terminal (`make run`), stopping all on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from bot import queue
from bot.config import ROOT

STOP_SECONDS = 15  # RQ's warm shutdown lets the job at hand finish first
# A host runs this once per deploy, before the new processes start, and never alongside them:
# `make run` has already migrated (the Makefile's `migrate`).
RELEASE = "release"


def read_procfile(path: Path) -> dict[str, str]:
    """The process types of a Procfile: name -> command line."""
    processes = {}
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.startswith("#"):
            processes[name.strip()] = command.strip()
    return processes


def _relay(name: str, stream) -> None:
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{name:>6} | {line.decode(errors='replace')}")
        sys.stdout.flush()


def main(
    procfile: Path = ROOT / "Procfile", after: Callable[[], None] = queue.stop_embedded
) -> int:
    """Start every process; when one exits or we are interrupted, stop them all, then `after`
    (the embedded Redis)."""
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    children, relays = {}, []
    for name, command in read_procfile(procfile).items():
        if name == RELEASE:
            continue
        # exec: the process is the program itself, not a shell that dies first on a signal.
        child = subprocess.Popen(
            f"exec {command}",
            shell=True,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        children[name] = child
        relays.append(threading.Thread(target=_relay, args=(name, child.stdout), daemon=True))
        relays[-1].start()
    try:
        while all(child.poll() is None for child in children.values()):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    # Worker and clock first, and every process of theirs (RQ's scheduler is a fork of the
    # worker); Redis only once none is left to lose it and retry.
    for child in children.values():
        _signal_group(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for child in children.values():
        if not _group_ended(child, deadline):
            _signal_group(child.pid, signal.SIGKILL)
            _group_ended(child, time.monotonic() + 1)
    for relay in relays:
        relay.join(timeout=1)  # the last lines they said on their way out
    after()
    return 0


def _signal_group(pgid: int, signum: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _group_ended(child: subprocess.Popen, deadline: float) -> bool:
    """Wait until the child and every process in its group have exited, or the deadline."""
    while time.monotonic() < deadline:
        child.poll()
        try:
            os.killpg(child.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


if __name__ == "__main__":
    sys.exit(main())
