"""Run the Procfile's processes together in one terminal (`make run`), stopping all on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bot import queue
from bot.config import ROOT


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


def main() -> int:
    """Start every process; when one exits or we are interrupted, stop them all."""
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    children = {}
    for name, command in read_procfile(ROOT / "Procfile").items():
        child = subprocess.Popen(
            command,
            shell=True,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        children[name] = child
        threading.Thread(target=_relay, args=(name, child.stdout), daemon=True).start()
    try:
        while all(child.poll() is None for child in children.values()):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for child in children.values():
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
    queue.stop_embedded()
    return 0


if __name__ == "__main__":
    sys.exit(main())
