"""Outage drill (issue 12): the database goes away for a minute during traffic, and every message
is still answered exactly once after it comes back.

The bot runs as in production: the web process (gunicorn, the Procfile's settings), the
Procfile's `rq worker`, and the clock's tick. The tick is `flask --app app tick` run every
`--tick-every` seconds (5 by default) from this process, where the Procfile's clock (`rq cron`)
runs it every minute: the same sweeps, only sooner, so that recovery is seen within the drill.
Its reconciliation sweep runs at most every ten minutes, and the first tick after Redis was
emptied only starts those ten minutes, so within the drill it never reconciles: the operator's
`flask --app app inbox reconcile --since <drill start>` does, run as the README says once the
database is back.

Both providers are faked in this process on loopback: `FakeTwilio` for the US numbers and
`FakeAfricasTalking` for the Kenyan ones (SMS_ROUTES {"+254": "africastalking", "*":
"twilio"}). Each phone is a person the bot already knows (set up two days ago, so no first-reply
language hint) and texts HELP once, which gets exactly one reply. The phones text at a steady
`--rate` before, during and after the outage, and each provider delivers as it does in
production: Twilio posts the signed webhook once, then once to the fallback URL (the same web
process here), then drops it; Africa's Talking tries three times a second apart. What neither
delivered stays only in the provider's own list, for reconciliation.

Taking the database away:

- PostgreSQL (DATABASE_URL set): the bot's processes reach the server through a TCP proxy in
  this process; for the outage the proxy closes every connection and refuses new ones, as a
  server that went down would. Webhooks fail at once and answer 503.
- SQLite (the default): this process holds `BEGIN EXCLUSIVE` on the database file for the
  outage. Reads still work (WAL), every write waits out the 5 s busy timeout and fails, so each
  webhook answers 503 after 5 s, and with the Procfile's two sync workers most posts wait in
  gunicorn's backlog past the provider's timeout instead: those count as "no answer".

Then it checks, by provider id, that every message a phone sent is stored once and handled, and
that its phone got exactly one reply, from the provider its number routes to; exit status 1
when not.

    .venv/bin/python -m bench.outage [--outage 60] [--rate 2] [--before 10] [--after 20]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench import harness
from tests.support import drivers
from tests.support.fake_africastalking import FakeAfricasTalking
from tests.support.fake_twilio import FakeTwilio
from tests.support.processes import free_port

TWILIO, AFRICASTALKING = "twilio", "africastalking"
PROVIDERS = (TWILIO, AFRICASTALKING)
ROUTES = '{"+254": "africastalking", "*": "twilio"}'
# Longer ago than the bot's "new person" day: HELP from them gets the help alone, no language hint.
TEXT = "HELP"


class DatabaseProxy:
    """A TCP proxy in front of PostgreSQL that the drill cuts: connections closed, new refused."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listening: threading.Event | None = None

    def start(self) -> None:
        """Listen on loopback and pass every connection on to the server."""
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        listener.settimeout(0.1)
        running = threading.Event()
        running.set()
        self._listening = running
        threading.Thread(target=self._accept, args=(listener, running), daemon=True).start()

    def cut(self) -> None:
        """Stop listening, so that new connections are refused, and close every open one."""
        if self._listening is not None:
            self._listening.clear()
            self._listening = None
        with self._lock:
            for sock in self._sockets:
                _close(sock)
            self._sockets.clear()

    stop = cut

    def _accept(self, listener: socket.socket, running: threading.Event) -> None:
        with listener:
            while running.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                try:
                    server = socket.create_connection(self.upstream, timeout=5)
                except OSError:
                    client.close()
                    continue
                server.settimeout(None)
                with self._lock:
                    if not running.is_set():
                        _close(client)
                        _close(server)
                        continue
                    self._sockets |= {client, server}
                for source, target in ((client, server), (server, client)):
                    threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._sockets -= {source, target}
        _close(source)
        _close(target)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class SQLiteLock:
    """Take SQLite away from the bot by holding its write lock: every write times out."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    def cut(self) -> None:
        """Take the write lock and keep it."""
        # Waits for a writer in the middle of its transaction, as a real lock-holder would.
        self._connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._connection.execute("BEGIN EXCLUSIVE")

    def start(self) -> None:
        """Let writes through again."""
        if self._connection is not None:
            self._connection.execute("ROLLBACK")
            self._connection.close()
            self._connection = None

    stop = start


class Clock:
    """Run `flask --app app tick` every few seconds, as the Procfile's clock does every minute."""

    def __init__(self, env: dict[str, str], every: float, log) -> None:
        self.env, self.every, self.log = env, every, log
        self.runs = 0
        self._stopping = threading.Event()
        self._running: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            began = time.monotonic()
            self._running = subprocess.Popen(
                [str(harness.BIN / "flask"), "--app", "app", "tick"],
                cwd=harness.ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            self._running.wait()
            self.runs += 1
            self._stopping.wait(max(0.0, self.every - (time.monotonic() - began)))

    def stop(self) -> None:
        self._stopping.set()
        running = self._running
        if running is not None and running.poll() is None:
            running.terminate()
            try:
                running.wait(timeout=10)
            except subprocess.TimeoutExpired:
                running.kill()
        self._thread.join(timeout=15)


class Outage(threading.Thread):
    """Take the database away at one instant and bring it back at another, noting when."""

    def __init__(self, database: DatabaseProxy | SQLiteLock, down_at: float, up_at: float):
        super().__init__(daemon=True)
        self.database, self.down_at, self.up_at = database, down_at, up_at

    def run(self) -> None:
        time.sleep(max(0.0, self.down_at - time.time()))
        self.database.cut()
        self.down_at = time.time()  # SQLite's lock may wait for a writer to finish first
        time.sleep(max(0.0, self.up_at - time.time()))
        self.database.start()
        self.up_at = time.time()


def reconcile_when_back(
    env: dict[str, str], since: datetime, outage: Outage, texts: list, futures: list
) -> tuple[dict, float]:
    """Run `flask inbox reconcile --since` as the operator would once the database is back and
    the providers gave up on what they could not deliver, while traffic goes on; return what
    it said and when it finished."""
    outage.join()
    # The lists grow as phones text; what was sent before the return is already in them.
    backlog = [f for f, m in zip(list(futures), list(texts), strict=False) if m.at < outage.up_at]
    for future in backlog:
        future.result()
    run = subprocess.run(
        [str(harness.BIN / "flask"), "--app", "app", "inbox", "reconcile",
         "--since", since.isoformat(), "--json"],
        cwd=harness.ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    try:
        return json.loads(run.stdout.strip().splitlines()[-1]), time.time()
    except (ValueError, IndexError):
        print(f"flask inbox reconcile failed: {run.stderr[-2000:]}")
        return {"inserted": 0, "errors": 1}, time.time()


@dataclass
class Text:
    """One phone's HELP and what became of it."""

    number: str
    provider: str
    at: float  # when the phone sent it
    provider_id: str = ""
    attempts: list[int] = field(default_factory=list)  # each post's status, 0: no answer
    done_at: float = 0.0  # when the provider stopped trying

    @property
    def acknowledged(self) -> bool:
        return any(200 <= status < 300 for status in self.attempts)


def phones(count: int) -> list[tuple[str, str]]:
    """Half US numbers on Twilio, half Kenyan ones on the shortcode, alternating."""
    return [
        (f"+1555{2000000 + n:07d}", TWILIO) if n % 2 == 0 else (f"+254711{n:06d}", AFRICASTALKING)
        for n in range(count)
    ]


def replies(twilio: FakeTwilio, africastalking: FakeAfricasTalking) -> dict[str, list]:
    """Every reply the providers took, by recipient: (provider, when) for each."""
    found: dict[str, list] = {}
    for call in twilio.requests:
        if call["status"] == 201:
            found.setdefault(call["params"]["To"], []).append((TWILIO, call["at"]))
    for call in africastalking.requests:
        if call["message_id"]:
            found.setdefault(call["params"]["to"], []).append((AFRICASTALKING, call["at"]))
    return found


def pending() -> int:
    """Messages the bot has not finished with: received and not handled, or replies not final."""
    from sqlalchemy import func, select

    from bot.db import session_scope
    from models.message import IN, OUT, QUEUED, RECEIVED, RETRY, SENDING, Message

    with session_scope() as session:
        return session.execute(
            select(func.count()).where(
                (Message.direction == IN) & (Message.status == RECEIVED)
                | (Message.direction == OUT) & Message.status.in_((QUEUED, RETRY, SENDING))
            )
        ).scalar_one()


def stored(texts: list[Text]) -> dict[str, list[tuple[str, str, str]]]:
    """What the bot stored for each provider id: (address, status, error) per row."""
    from sqlmodel import select

    from bot.db import session_scope
    from models.message import IN, Message
    from models.people import Contact

    ids = [text.provider_id for text in texts]
    with session_scope() as session:
        rows = session.exec(
            select(Message.provider_id, Contact.address, Message.status, Message.error)
            .join(Contact, Contact.id == Message.contact_id)
            .where(Message.direction == IN, Message.provider_id.in_(ids))
        ).all()
    found: dict[str, list] = {}
    for provider_id, address, status, error in rows:
        found.setdefault(provider_id, []).append((address, status, error))
    return found


def reply_statuses(numbers: list[str]) -> Counter:
    """The bot's own record of its replies to the phones, by status."""
    from sqlalchemy import func, select

    from bot.db import session_scope
    from models.message import OUT, Message
    from models.people import Contact

    with session_scope() as session:
        rows = session.execute(
            select(Message.status, func.count())
            .join(Contact, Contact.id == Message.contact_id)
            .where(Message.direction == OUT, Contact.address.in_(numbers))
            .group_by(Message.status)
        ).all()
    return Counter(dict(rows))


def main(argv: list[str] | None = None) -> int:
    """Run the drill and print what became of every message; 1 if any was lost or doubled."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=60, help="seconds without a database")
    parser.add_argument("--rate", type=float, default=2, help="texts per second, all phones")
    parser.add_argument("--before", type=float, default=10, help="seconds of traffic before")
    parser.add_argument("--after", type=float, default=20, help="seconds of traffic after")
    parser.add_argument("--tick-every", type=float, default=5, help="seconds between ticks")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (Procfile: 2)")
    parser.add_argument("--drain-timeout", type=float, default=180, help="give up after this")
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    harness.stop_on_sigterm()
    harness.quiet_logs()

    span = args.before + args.outage + args.after
    numbers = phones(max(2, round(args.rate * span)))
    with (
        harness.Instance() as instance,
        FakeTwilio(auth_token=drivers.TWILIO_TOKEN) as twilio,
        FakeAfricasTalking(api_key=drivers.AT_API_KEY, username=drivers.AT_USERNAME) as at,
    ):
        settings = instance.use()
        from sqlalchemy.engine import make_url

        from bot import queue

        queue.connection().ping()  # start the embedded Redis before the processes race to
        if instance.database_url or instance.redis_url:
            instance.wipe()  # a server's leftovers (reconcile's cursor, rows) would skew counts
        harness.known_people([("sms", number) for number, _ in numbers])

        url = make_url(settings.sqlalchemy_url)
        if url.get_backend_name() == "postgresql":
            database = DatabaseProxy((url.host or "127.0.0.1", url.port or 5432))
            bot_url = url.set(host="127.0.0.1", port=database.port)
            bot_url = bot_url.render_as_string(hide_password=False)
            way = f"TCP proxy in front of PostgreSQL at {url.host}:{url.port or 5432}, cut"
        else:
            database = SQLiteLock(url.database)
            bot_url = settings.sqlalchemy_url
            way = "SQLite write lock held (BEGIN EXCLUSIVE)"
        database.start()

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = instance.env(
            DATABASE_URL=bot_url,
            # Both fakes sign and post to the URL they call, as the providers do ours.
            PUBLIC_BASE_URL=base,
            TWILIO_API_BASE_URL=twilio.url,
            AFRICASTALKING_USERNAME=drivers.AT_USERNAME,
            AFRICASTALKING_API_KEY=drivers.AT_API_KEY,
            AFRICASTALKING_SHORTCODE=drivers.AT_SHORTCODE,
            AFRICASTALKING_WEBHOOK_SECRET=drivers.AT_SECRET,
            AFRICASTALKING_API_BASE_URL=at.url,
            SMS_ROUTES=ROUTES,
            # Throttling is a product rule, not recovery: keep it out of the way.
            SMS_RATE_PER_SECOND="100000",
            AFRICASTALKING_RATE_PER_SECOND="100000",
        )
        twilio_hook = base + "/webhooks/twilio"
        at_hook = f"{base}{drivers.AT_SMS_PATH}?secret={drivers.AT_SECRET}"
        tick_log = open(instance.path / "tick.log", "ab")  # noqa: SIM115 (closed below)
        clock = Clock(env, args.tick_every, tick_log)
        with harness.Processes(env, instance.path) as processes, ThreadPoolExecutor(
            max_workers=min(len(numbers), 400) + 1
        ) as phone_pool:  # fmt: skip
            try:
                processes.gunicorn("web", "app:create_app()", port, args.workers)
                processes.rq_worker()
                clock.start()
                # The first tick after Redis was emptied starts reconcile's ten minutes.
                harness.wait_for(lambda: clock.runs, timeout=60, what="the first tick")

                def text(message: Text) -> Text:
                    if message.provider == TWILIO:
                        got = twilio.receive_sms(
                            message.number, TEXT, twilio_hook, drivers.TWILIO_TOKEN
                        )
                        message.provider_id = got["sid"]
                    else:
                        got = at.receive_sms(message.number, TEXT, at_hook)
                        message.provider_id = got["id"]
                    message.attempts, message.done_at = got["attempts"], time.time()
                    return message

                # The operator's --since: the drill's start, to the second as one types it.
                since = datetime.now(UTC).replace(microsecond=0)
                began = time.time()
                down_at = began + args.before
                up_at = down_at + args.outage
                print(
                    f"outage drill: {len(numbers)} phones texting {TEXT} at {args.rate:g}/s, "
                    f"{args.before:g} s before, {args.outage:g} s without the database "
                    f"({way}), {args.after:g} s after; tick every {args.tick_every:g} s",
                    flush=True,
                )
                outage = Outage(database, down_at, up_at)
                outage.start()
                texts: list[Text] = []
                futures: list[Future] = []
                operator = phone_pool.submit(
                    reconcile_when_back, env, since, outage, texts, futures
                )
                for n, (number, provider) in enumerate(numbers):
                    time.sleep(max(0.0, began + n / args.rate - time.time()))
                    message = Text(number, provider, time.time())
                    texts.append(message)
                    futures.append(phone_pool.submit(text, message))
                outage.join()
                down_at, up_at = outage.down_at, outage.up_at
                reconciled, reconciled_at = operator.result()
                for future in futures:
                    future.result()

                # Drain: every phone answered and nothing pending, then a little longer, so
                # that a late double would still show.
                def drained() -> bool:
                    answered = replies(twilio, at)
                    return all(number in answered for number, _ in numbers) and not pending()

                try:
                    harness.wait_for(drained, timeout=args.drain_timeout, what="the drain")
                except TimeoutError:
                    print(f"not drained after {args.drain_timeout:g} s")
                time.sleep(max(2 * args.tick_every, 5))
            finally:
                clock.stop()
                tick_log.close()
                processes.stop()
                database.stop()

        outcome = judge(texts, replies(twilio, at), up_at, reconciled)
        outcome["replies recorded"] = reply_statuses([number for number, _ in numbers])

    return report(args, outcome, up_at - down_at, reconciled_at - up_at)


def judge(texts: list[Text], answered: dict[str, list], up_at: float, reconciled: dict) -> dict:
    """Count, per provider, what the phones sent and what became of it."""
    rows = stored(texts)
    counts = {provider: Counter() for provider in (*PROVIDERS, "all")}
    last_backlog_reply = None
    for text in texts:
        got = answered.get(text.number, [])
        right = [at for provider, at in got if provider == text.provider]
        row = rows.get(text.provider_id, [])
        tally = Counter()
        tally["sent"] += 1
        tally["acknowledged 200"] += text.acknowledged
        tally["posts refused 5xx"] += sum(status >= 500 for status in text.attempts)
        tally["posts not answered (timeout)"] += sum(status == 0 for status in text.attempts)
        tally["given up by the provider"] += not text.acknowledged
        once = len(row) == 1 and row[0][0] == text.number and row[0][1] == "handled"
        tally["stored once, handled"] += once
        tally["answered once"] += once and len(got) == 1 and len(right) == 1
        tally["doubles"] += len(got) > 1 or len(row) > 1
        tally["lost"] += not got or not row
        tally["wrong provider"] += len(got) != len(right)
        for provider in (text.provider, "all"):
            counts[provider].update(tally)
        if text.at < up_at and right:
            last_backlog_reply = max(last_backlog_reply or 0.0, max(right))
    counts["all"]["reconciled"] = reconciled.get("inserted", 0)
    slowest = max(texts, key=lambda text: text.done_at - text.at)
    return {
        "slowest": (
            slowest.provider,
            slowest.done_at - slowest.at,
            slowest.attempts,
            slowest.at - up_at,
        ),
        "counts": counts,
        "reconcile": reconciled,
        "back_to_last_reply": (last_backlog_reply - up_at) if last_backlog_reply else None,
    }


MEASURES = (
    "sent",
    "acknowledged 200",
    "posts refused 5xx",
    "posts not answered (timeout)",
    "given up by the provider",
    "reconciled",
    "stored once, handled",
    "answered once",
    "doubles",
    "lost",
    "wrong provider",
)


def report(args, outcome: dict, outage: float, reconcile_after: float) -> int:
    """Print the table, write run_all's report, and say whether every text was answered once."""
    counts = outcome["counts"]
    total = counts["all"]
    refused = total["posts refused 5xx"] + total["posts not answered (timeout)"]
    ok = (
        total["answered once"] == total["sent"]
        and not total["doubles"]
        and not total["lost"]
        and not total["wrong provider"]
        and refused > 0  # the webhooks did meet the outage
    )
    back = outcome["back_to_last_reply"]
    print(
        harness.table(
            ["measure", TWILIO, AFRICASTALKING, "all"],
            [
                [m, *(counts[p][m] if m != "reconciled" else "" for p in PROVIDERS), total[m]]
                for m in MEASURES
            ]
            + [["DB back → last reply to a text sent before", "", "", _seconds(back)]],
        )
    )
    reconcile = outcome["reconcile"]
    print(
        f"database away {outage:.1f} s; `flask inbox reconcile` ran {reconcile_after:.1f} s after "
        f"it came back: listed twilio {reconcile.get('twilio')}, africastalking "
        f"{reconcile.get('africastalking')}, stored {reconcile.get('inserted')}, provider errors "
        f"{reconcile.get('errors')}"
    )
    provider, seconds, attempts, sent = outcome["slowest"]
    print(
        f"longest a provider spent on one text: {seconds:.1f} s ({provider}, posts {attempts}, "
        f"sent {sent:+.1f} s from the database's return)"
    )
    late = total["given up by the provider"] - total["reconciled"]
    if late > 0 and not total["lost"]:
        # A post the provider stopped waiting for still sat in gunicorn's backlog, and stored
        # its message once the database was back; reconcile found it already there.
        print(f"given up by their provider but stored by a post that waited it out: {late}")
    print(f"the bot's replies to the phones, by status: {dict(outcome['replies recorded'])}")
    verdict = "PASS" if ok else "FAIL"
    print(f"every text answered exactly once: {verdict}")
    harness.write_report(
        args.report,
        "outage",
        [
            {
                "measure": f"database away {args.outage:g} s during traffic: answered once",
                "figure": (
                    f"{total['answered once']}/{total['sent']} once, {total['doubles']} doubles, "
                    f"{total['lost']} lost; {refused} posts refused, {total['reconciled']} "
                    f"reconciled; last reply {_seconds(back)} after"
                ),
                "target": "every text once",
                "verdict": verdict,
            }
        ],
        ok=ok,
    )
    return 0 if ok else 1


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


if __name__ == "__main__":
    raise SystemExit(main())
