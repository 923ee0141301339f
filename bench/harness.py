"""What the benchmarks share: scratch storage, the bot's processes, signed posts and figures."""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from twilio.request_validator import RequestValidator

from bot.procfile import read_procfile
from tests.support import drivers
from tests.support.processes import clean_database, provider_settings, wait_for

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
T = TypeVar("T")


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so that `finally` blocks stop our child processes."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def quiet_logs(level: int = logging.ERROR) -> None:
    """Keep the app's INFO logs (every Twilio request's headers) out of the figures."""
    logging.getLogger().setLevel(level)


class Instance:
    """Scratch storage: a temporary folder with SQLite and an embedded Redis, unless
    DATABASE_URL / REDIS_URL are set, in which case those servers are used (as `make test` does).
    """

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="circlebot-bench-"))
        self.database_url = os.environ.get("DATABASE_URL", "")
        self.redis_url = os.environ.get("REDIS_URL", "")

    def __enter__(self) -> Instance:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def settings(self, **overrides: Any):
        """Settings for this process: both providers configured, sending rates out of the way."""
        return provider_settings(self.path, self.database_url, self.redis_url, **overrides)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of the bot's processes, as an operator would set it for this run."""
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(
                ("TWILIO_", "AFRICASTALKING_", "TELEGRAM_", "OUTBOX", "SMS_RATE", "SMS_ROUTES")
            )
        }
        env = inherited | {
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "INSTANCE_PATH": str(self.path),
            # Spelled out so that a .env file cannot point the processes elsewhere than us.
            "DATABASE_URL": self.settings().sqlalchemy_url,
            "PUBLIC_BASE_URL": drivers.PUBLIC_BASE_URL,
            "TWILIO_ACCOUNT_SID": drivers.TWILIO_SID,
            "TWILIO_AUTH_TOKEN": drivers.TWILIO_TOKEN,
            "TWILIO_SMS_FROM": drivers.SMS_FROM,
            "TWILIO_WHATSAPP_FROM": drivers.WHATSAPP_FROM,
            "TELEGRAM_BOT_TOKEN": drivers.TELEGRAM_TOKEN,
            "TELEGRAM_BOT_USERNAME": drivers.BOT_USERNAME,
            "TELEGRAM_WEBHOOK_SECRET": drivers.TELEGRAM_SECRET,
            "OUTBOX": "providers",
            # Every number by Twilio's fake, whatever the operator's shell or .env routes.
            "SMS_ROUTES": '{"*": "twilio"}',
        }
        return env | extra

    def use(self, **overrides: Any):
        """Point this process at the instance and bring its database up to date."""
        from alembic import command
        from alembic.config import Config

        from bot import queue
        from bot.config import use_settings
        from bot.db import reset_engine

        settings = self.settings(**overrides)
        use_settings(settings)
        reset_engine()
        queue.reset()
        config = Config(str(ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(ROOT / "migrations"))
        command.upgrade(config, "head")
        return settings

    def wipe(self) -> None:
        """Empty every table and the Redis database, as the test suite does between tests."""
        from bot import queue
        from bot.db import get_engine

        clean_database(get_engine())
        queue.connection().flushdb()

    def close(self) -> None:
        """Stop the embedded Redis this run started (by its pid file) and remove the folder."""
        from bot.db import reset_engine

        reset_engine()
        pidfile = self.path / "redis.pid"
        if pidfile.exists():
            try:
                pid = int(pidfile.read_text().strip())
                os.kill(pid, signal.SIGTERM)
                wait_for(lambda: not _alive(pid), timeout=5, what="the embedded Redis to stop")
            except (ValueError, ProcessLookupError, TimeoutError):
                pass
        shutil.rmtree(self.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Processes:
    """Child processes a benchmark starts; all stopped by their pid when it ends."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.started: list[subprocess.Popen] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def spawn(self, name: str, *command: str, env: dict[str, str] | None = None):
        with open(self.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.started.append(process)
        return process

    def gunicorn(
        self, name: str, app: str, port: int, workers: int, env: dict[str, str] | None = None
    ) -> str:
        """Serve `app` as the Procfile's web process does; return its base URL once it answers."""
        self.spawn(
            name, str(BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--graceful-timeout", "5", env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(base + "/healthz"), what=f"{name} to answer on {base}")
        return base

    def rq_worker(self, name: str = "worker", worker_class: str | None = None) -> None:
        """Run the Procfile's worker process (with another worker class, for diagnostics)."""
        command = shlex.split(read_procfile(ROOT / "Procfile")["worker"])
        command[0] = str(BIN / command[0])
        if worker_class:
            for flag in ("-w", "--worker-class"):
                if flag in command:
                    index = command.index(flag)
                    del command[index : index + 2]
            command[2:2] = ["--worker-class", worker_class]
        self.spawn(name, *command)

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.started.clear()

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process and its children that it waited for (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def family_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live children (a gunicorn master and its workers)."""
    total = cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        total += sum(cpu_seconds(int(child)) for child in children)
    return total


KNOWN_FOR = timedelta(days=2)


def known_people(contacts: Sequence[tuple[str, str]]) -> None:
    """Make each (channel, address) a person the bot has known for two days: most texts come
    from people it knows, and a new number's first reply also offers a language."""
    from sqlalchemy import update

    from bot.clock import real
    from bot.db import session_scope
    from bot.identity import contact_for
    from models.people import Person

    with session_scope() as session:
        people = [contact_for(session, *contact).person_id for contact in contacts]
        session.execute(
            update(Person).where(Person.id.in_(people)).values(created_at=real() - KNOWN_FOR)
        )


def signed_twilio(form: dict[str, str], path: str = "/webhooks/twilio") -> dict[str, str]:
    """The headers Twilio would send with this form."""
    signature = RequestValidator(drivers.TWILIO_TOKEN).compute_signature(
        drivers.PUBLIC_BASE_URL + path, form
    )
    return {"X-Twilio-Signature": signature}


def sms_form(sid: str, sender: str, text: str, **extra: str) -> dict[str, str]:
    """An incoming-message webhook as Twilio posts it."""
    to = drivers.WHATSAPP_FROM if sender.startswith("whatsapp:") else drivers.SMS_FROM
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": drivers.TWILIO_SID,
        "From": sender,
        "To": to,
        "Body": text,
        "NumMedia": "0",
        "NumSegments": "1",
    } | extra


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain text table with aligned columns."""
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*headers), line.format(*("-" * w for w in widths))]
    out += [line.format(*row) for row in rows]
    return "\n".join(out)


def verdict(ratio: float, target: float, higher_is_better: bool) -> str:
    """Whether a ratio meets its DESIGN target; reported, never asserted."""
    met = ratio >= target if higher_is_better else ratio <= target
    return "meets" if met else "MISSES"


def write_report(path: str | None, name: str, rows: list[dict[str, Any]], ok: bool = True):
    """Hand the headline figures to bench.run_all (one JSON object in a file)."""
    if path:
        Path(path).write_text(json.dumps({"bench": name, "ok": ok, "rows": rows}))
