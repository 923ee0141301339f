"""Scripted checks of DESIGN's reliability targets, with real Redis, a real database and fakes.

The bot runs in this process: signed webhooks through Flask's test client, jobs by a real RQ
worker (bot.worker) in burst mode, providers faked on loopback (tests.support's FakeTwilio and
FakeTelegram), time advanced with time-machine. Checks:

  replays      100 messages × 10 replays → each stored, handled and answered once
  forgeries    forged, tampered and unsigned webhooks → 403 and nothing stored
  failures     providers failing 30% of calls → every reply final, none lost, none doubled
  redis flush  Redis flushed mid-run → every reply still sent exactly once after the next tick
  hostile      hostile inputs through both webhooks → no 5xx, no crash, a helpful reply each

    .venv/bin/python -m bench.reliability [--hostile 10000] [--only hostile]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import time_machine

from bench import harness
from tests.support import drivers
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_twilio import FakeTwilio

TELEGRAM_PATH = "/webhooks/telegram"
TWILIO_PATH = "/webhooks/twilio"
# Each hostile input is sent from its own contact, so a reply can be traced to its input.
REPLY, REFUSE, IGNORE, ANY = "reply", "refuse", "ignore", "any"


@dataclass
class Check:
    """One check's verdict and the figures behind it."""

    name: str
    passed: bool
    figures: str
    notes: list[str] = field(default_factory=list)


class ErrorLog(logging.Handler):
    """Keep the app's ERROR records (a caught crash is still a crash), one traceback per kind."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []
        self.tracebacks: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        error = f" ({record.exc_info[0].__name__}: {record.exc_info[1]})" if record.exc_info else ""
        summary = f"{record.name}: {record.getMessage()}{error}"[:300]
        self.records.append(summary)
        if record.exc_info and summary not in self.tracebacks:
            self.tracebacks[summary] = logging.Formatter().formatException(record.exc_info)


class Rig:
    """The bot in this process, the fake providers it talks to, and a burst-mode worker."""

    def __init__(self, instance: harness.Instance, twilio: FakeTwilio, telegram: FakeTelegram):
        from app import create_app

        self.instance, self.twilio, self.telegram = instance, twilio, telegram
        instance.use(twilio_api_base_url=twilio.url, telegram_api_base_url=telegram.url)
        app = create_app()
        app.testing = False  # answer a crash with a 500, as gunicorn would
        self.client = app.test_client()
        harness.quiet_logs()
        self.errors = ErrorLog()
        # Errors are counted and summed up in the table; their tracebacks print at the end.
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.addHandler(self.errors)
        self._ids = iter(range(10_000_000, 10**9))

    def reset(self) -> None:
        """Empty tables, Redis and the fakes' records."""
        self.instance.wipe()
        self.twilio.clear()
        self.telegram.clear()
        self.errors.records.clear()

    def next_id(self) -> int:
        return next(self._ids)

    def sms(self, sender: str, text: str, **extra: str) -> tuple[str, int]:
        """Post a signed incoming message from `sender`; return its MessageSid and HTTP status."""
        sid = extra.pop("MessageSid", None) or f"SM{self.next_id():032d}"
        form = harness.sms_form(sid, sender, text, **extra)
        return sid, self.post_twilio(form)

    def post_twilio(self, form: dict[str, str], headers: dict[str, str] | None = None) -> int:
        if headers is None:
            headers = harness.signed_twilio(form, TWILIO_PATH)
        return self.client.post(TWILIO_PATH, data=form, headers=headers).status_code

    def post_telegram(self, body: dict | bytes, secret: str | None = drivers.TELEGRAM_SECRET):
        """Post an update (or raw bytes) with the secret Telegram would send."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        data = body if isinstance(body, bytes) else json.dumps(body)
        response = self.client.post(
            TELEGRAM_PATH, data=data, content_type="application/json", headers=headers
        )
        return response.status_code

    def run_jobs(self, max_jobs: int | None = None) -> None:
        """Run queued jobs with a real RQ worker in burst mode, as the tests do."""
        from bot import queue
        from bot.worker import Worker

        worker = Worker([queue.queue(name) for name in queue.QUEUES], connection=queue.connection())
        worker.work(burst=True, max_jobs=max_jobs, logging_level="ERROR")

    def tick(self) -> dict:
        from jobs import tick

        return tick.run()

    def failed_jobs(self) -> int:
        from rq.registry import FailedJobRegistry

        from bot import queue

        return sum(len(FailedJobRegistry(queue=queue.queue(name))) for name in queue.QUEUES)


def telegram_update(update_id: int, user_id: int, text: object = None, **message: object) -> dict:
    """A private-chat message update, as Telegram posts it."""
    body = {
        "message_id": update_id % 1_000_000,
        "from": {"id": user_id, "is_bot": False, "first_name": "Ann"},
        "chat": {"id": user_id, "type": "private", "first_name": "Ann"},
        "date": 1790000000,
    }
    if text is not None:
        body["text"] = text
    return {"update_id": update_id, "message": body | message}


# -- what the database and the fakes say ---------------------------------------------------


def inbound_rows(provider_ids: Iterable[str] | None = None) -> list:
    from sqlmodel import select

    from bot.db import session_scope
    from models.message import IN, Message

    query = select(Message).where(Message.direction == IN)
    with session_scope() as session:
        rows = session.exec(query).all()
    if provider_ids is None:
        return rows
    wanted = set(provider_ids)
    return [row for row in rows if row.provider_id in wanted]


def outbound_rows() -> list:
    from sqlmodel import select

    from bot.db import session_scope
    from models.message import OUT, Message

    with session_scope() as session:
        return session.exec(select(Message).where(Message.direction == OUT)).all()


def row_count() -> int:
    from sqlalchemy import func
    from sqlmodel import select

    from bot.db import session_scope
    from models.message import Message
    from models.people import Contact

    with session_scope() as session:
        messages = session.exec(select(func.count()).select_from(Message)).one()
        contacts = session.exec(select(func.count()).select_from(Contact)).one()
    return messages + contacts


def accepted_ids(rig: Rig) -> Counter:
    """Provider ids of every message the fakes accepted, as the bot records them."""
    accepted = Counter(call["sid"] for call in rig.twilio.requests if call["status"] == 201)
    for call in rig.telegram.requests:
        if call["status"] == 200 and call["method"] in ("sendMessage", "sendPhoto"):
            result = call["response"]["result"]
            accepted[f"{result['chat']['id']}/{result['message_id']}"] += 1
    return accepted


def pending() -> int:
    """Work not yet in a final state: unhandled inbound, unsent outbound."""
    from models.message import QUEUED, RECEIVED, RETRY, SENDING

    waiting = sum(row.status == RECEIVED for row in inbound_rows())
    return waiting + sum(row.status in (QUEUED, RETRY, SENDING) for row in outbound_rows())


def delivery(rig: Rig) -> tuple[bool, str, list[str]]:
    """Compare the sent rows with what the fakes accepted: none lost, none doubled."""
    from models.message import FINAL, SENT

    rows = outbound_rows()
    statuses = Counter(row.status for row in rows)
    sent = Counter(row.provider_id for row in rows if row.status == SENT)
    accepted = accepted_ids(rig)
    doubled = sorted(pid for pid, n in accepted.items() if n > 1 or sent[pid] > 1)
    unrecorded = sorted(set(accepted) - set(sent))  # accepted, but the row does not say sent
    unsent = sorted(set(sent) - set(accepted))  # the row says sent, the provider never took it
    recipients = Counter((row.channel, row.contact_id, row.group_chat_id) for row in rows)
    notes = []
    if doubled:
        notes.append(f"accepted more than once: {doubled[:10]}")
    if unrecorded:
        notes.append(f"accepted by a provider but not recorded as sent: {unrecorded[:10]}")
    if unsent:
        notes.append(f"recorded as sent but never accepted: {unsent[:10]}")
    open_rows = [row.id for row in rows if row.status not in FINAL and row.status != SENT]
    if open_rows:
        notes.append(f"not in a final state: {len(open_rows)} rows, e.g. {open_rows[:10]}")
    ok = not (doubled or unrecorded or unsent or open_rows)
    figures = (
        f"{len(rows)} replies to {len(recipients)} recipients: {dict(statuses)}; "
        f"{sum(accepted.values())} accepted by the fakes"
    )
    return ok, figures, notes


# -- the checks ------------------------------------------------------------------------------


def replays(rig: Rig, messages: int, replays: int) -> Check:
    """Post each message `replays` times, in shuffled rounds, handling jobs between rounds."""
    rig.reset()
    chosen = random.Random(1)
    posts: list[Callable[[], int]] = []
    provider_ids = []
    for n in range(messages):
        if n % 2:
            update = telegram_update(rig.next_id(), 5_000_000 + n, "HELP")
            posts.append(lambda update=update: rig.post_telegram(update))
            provider_ids.append(f"update:{update['update_id']}")
        else:
            form = harness.sms_form(f"SM{rig.next_id():032d}", f"+1555400{n:04d}", "HELP")
            posts.append(lambda form=form: rig.post_twilio(form))
            provider_ids.append(form["MessageSid"])
    statuses: Counter = Counter()
    for round_ in range(replays):
        order = list(range(messages))
        chosen.shuffle(order)
        for index in order:
            statuses[posts[index]()] += 1
        if round_ in (0, replays // 2):
            rig.run_jobs()  # later replays arrive after the message was handled and answered
    rig.run_jobs()
    from models.message import HANDLED

    rows = inbound_rows()
    handled = sum(row.status == HANDLED for row in rows)
    ok, figures, notes = delivery(rig)
    sent = sum(accepted_ids(rig).values())
    passed = (
        ok
        and statuses == Counter({200: messages * replays})
        and len(rows) == handled == messages
        and sent == messages
        and {row.provider_id for row in rows} == set(provider_ids)
    )
    return Check(
        "1,000 replayed webhooks → 0 double processing",
        passed,
        f"{sum(statuses.values())} posts {dict(statuses)}; {len(rows)} inbound rows, "
        f"{handled} handled; {figures}",
        notes,
    )


def forgeries(rig: Rig, n: int) -> Check:
    """Forged, tampered, replayed-elsewhere and unsigned webhooks must change nothing."""
    rig.reset()
    before = row_count()
    statuses: Counter = Counter()
    for i in range(n):
        form = harness.sms_form(f"SM{rig.next_id():032d}", f"+1555500{i:04d}", "HELP")
        signed = harness.signed_twilio(form, TWILIO_PATH)
        attempts = [
            (form, {}),  # unsigned
            (form, {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}),  # made up
            (form | {"Body": "STOP"}, signed),  # signed, then tampered with
            (form, harness.signed_twilio(form, TWILIO_PATH + "/status")),  # signed for elsewhere
        ]
        from twilio.request_validator import RequestValidator

        forged = RequestValidator("someone-elses-token").compute_signature(
            drivers.PUBLIC_BASE_URL + TWILIO_PATH, form
        )
        attempts.append((form, {"X-Twilio-Signature": forged}))
        for body, headers in attempts:
            statuses[f"twilio {rig.post_twilio(body, headers)}"] += 1
        update = telegram_update(rig.next_id(), 6_000_000 + i, "HELP")
        for secret in (None, "wrong-secret", drivers.TELEGRAM_SECRET + "x", ""):
            statuses[f"telegram {rig.post_telegram(update, secret)}"] += 1
    rig.run_jobs()
    stored = row_count() - before
    refused = sum(count for key, count in statuses.items() if key.endswith(" 403"))
    total = sum(statuses.values())
    return Check(
        "forged or unsigned → 403 and nothing stored",
        refused == total and stored == 0 and not accepted_ids(rig),
        f"{total} posts {dict(statuses)}; {stored} rows stored; "
        f"{sum(accepted_ids(rig).values())} sends",
    )


def failures(rig: Rig, messages: int, rate: float, max_rounds: int) -> Check:
    """Providers fail `rate` of calls; ticks under advancing time must settle every reply."""
    rig.reset()
    rig.twilio.fail_rate(rate, 500, seed=3)
    rig.telegram.fail_rate(rate, 500, seed=4)
    rounds = 0
    try:
        with time_machine.travel(datetime.now(UTC), tick=True) as traveller:
            for n in range(messages):
                if n % 3 == 2:
                    rig.post_telegram(telegram_update(rig.next_id(), 7_000_000 + n, "HELP"))
                else:
                    prefix = "whatsapp:" if n % 3 == 1 else ""
                    rig.sms(f"{prefix}+1555600{n:04d}", "HELP")
            rig.run_jobs()
            while pending() and rounds < max_rounds:
                traveller.shift(timedelta(seconds=60))
                rig.tick()
                rig.run_jobs()
                rounds += 1
    finally:
        rig.twilio.fail_rate(0)
        rig.telegram.fail_rate(0)
    from models.message import HANDLED

    rows = inbound_rows()
    handled = sum(row.status == HANDLED for row in rows)
    attempts = len(rig.twilio.requests) + len(rig.telegram.requests)
    refused = sum(call["status"] >= 500 for call in rig.twilio.requests + rig.telegram.requests)
    ok, figures, notes = delivery(rig)
    replies = len(outbound_rows())
    return Check(
        f"providers failing {rate:.0%} → all final, none lost, none doubled",
        ok and handled == len(rows) == messages and replies == messages and not pending(),
        f"{messages} messages; {attempts} provider calls, {refused} failed; settled after "
        f"{rounds} ticks (1 min apart); {figures}",
        notes,
    )


def redis_flush(rig: Rig, messages: int) -> Check:
    """Flush Redis with replies queued, retries scheduled and messages unhandled; tick once."""
    from bot import queue
    from jobs.tick import RECOVERY_GRACE
    from models.message import HANDLED, SENT

    rig.reset()
    first, late = messages * 2 // 3, messages - messages * 2 // 3
    with time_machine.travel(datetime.now(UTC), tick=True) as traveller:
        for n in range(first):
            rig.sms(f"+1555700{n:04d}", "HELP")
        rig.twilio.fail_next(first // 10, 503)  # some replies wait for a retry when Redis goes
        rig.run_jobs(max_jobs=first + first // 2)  # all handled, about half the replies tried
        for n in range(late):
            if n % 2:
                rig.post_telegram(telegram_update(rig.next_id(), 8_000_000 + n, "HELP"))
            else:
                rig.sms(f"+1555710{n:04d}", "HELP")
        before = Counter(row.status for row in outbound_rows())
        waiting = sum(row.status != HANDLED for row in inbound_rows())
        queue.connection().flushdb()
        rig.run_jobs()  # nothing left to run: Redis forgot it all
        traveller.shift(RECOVERY_GRACE + timedelta(seconds=60))
        rig.tick()
        rig.run_jobs()
        after_one = Counter(row.status for row in outbound_rows())
        extra_ticks = 0
        while pending() and extra_ticks < 10:
            traveller.shift(timedelta(seconds=60))
            rig.tick()
            rig.run_jobs()
            extra_ticks += 1
    ok, figures, notes = delivery(rig)
    replies = len(outbound_rows())
    all_sent_after_one = after_one.get(SENT, 0) == messages
    if extra_ticks:
        notes.append(f"{extra_ticks} more ticks were needed to finish")
    return Check(
        "Redis flushed mid-run → all sent exactly once after the next tick",
        ok and all_sent_after_one and replies == messages,
        f"at the flush: {waiting} messages unhandled, replies {dict(before)}; after one tick: "
        f"{dict(after_one)}; {figures}",
        notes,
    )


# -- hostile inputs --------------------------------------------------------------------------

TEXTS = {
    "empty": "",
    "whitespace only": " \t\r\n \u00a0\u3000",
    "5,000 characters": "a" * 5000,
    "5,000 digits": "9" * 5000,
    "5,000 emoji": "😀" * 5000,
    "control characters": "".join(map(chr, range(1, 32))) + "\x7f\x85\x9b",
    "NUL byte": "HELP\x00",
    "ANSI escapes": "\x1b[31mHELP\x1b[0m\x1b]0;title\x07",
    "emoji": "👋🏽 hi 🎉",
    "ZWJ sequences": "👩‍👩‍👧‍👦🏳️‍🌈🧑🏿‍🦯",
    "lone skin-tone modifier": "🏽",
    "Arabic, right-to-left": "مرحبا، أريد الانضمام إلى الحلقة",
    "Hebrew and Latin": "שלום HELP עזרה",
    "RTL override": "\u202eHELP\u202c \u2067JOIN\u2069",
    "zero-width characters": "H\u200bE\u200dL\ufeffP",
    "combining marks": "Z̴̢̛͓a̷l̶g̷o̵" * 50,
    "fullwidth letters": "ＨＥＬＰ",
    "math alphanumerics": "𝕳𝖊𝖑𝖕 Ⅻ ℌ ǅ",
    "byte order mark": "\ufeffHELP",
    "500 newlines": "\n" * 500,
    "SQL: drop table": "'; DROP TABLE message; --",
    "SQL: or 1=1": "JOIN ' OR '1'='1",
    "SQL: union": "1 UNION SELECT * FROM contact --",
    "SQL: stacked in LANG": "LANG '; DROP TABLE person; --",
    "template: {body}": "{body}",
    "template: %s": "%s %s %s %n %(name)s",
    "template: {0}": "{0} {1} {} {{}}",
    "template: jinja": "{{7*7}} {% raw %} ${7*7}",
    "template: attribute walk": "{language.__class__.__mro__}",
    "template: in LANG": "LANG {language}",
    "template: in JOIN": "JOIN {code}%s'; --",
    "HTML": "<script>alert(1)</script>",
    "path traversal": "../../etc/passwd",
    "percent-encoding": "%00%FF%2e%2e/%0d%0a",
    "huge number": "1" + "0" * 400,
    "float overflow": "1e309",
    "negative huge number": "-99999999999999999999",
    "NaN": "NaN",
    "keyword plus 2,000 characters": "HELP " + "x" * 2000,
    "keyword 1,250 times": "HELP" * 1250,
    "STOP inside a sentence": "please don't STOP",
    "LANG with emoji": "LANG 🇰🇪",
    "EXIT with junk": "EXIT \x00\x1b",
}

# Characters hostile inputs are made of: controls, marks, scripts, direction marks, syntax.
FUZZ_ALPHABET = (
    [chr(c) for c in range(1, 32)]
    + ["\x7f", "\x85", "\u00a0", "\u200b", "\u200d", "\u200e", "\u200f", "\u2028", "\u2029"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + [chr(c) for c in range(0x0300, 0x0370, 7)]
    + list("مرحباשלוםこんにちは你好Привет")
    + list("😀👋🏽🎉🏳️‍🌈🇰🇪")
    + list("'\";-%{}()[]$\\/<>&|`*?#!@^~=+")
    + ["HELP", "JOIN", "LANG", "YES", "NO", " ", " ", " ", "0", "9", "\ufeff", "\ufffd"]
)


@dataclass
class Hostile:
    """One hostile input: what it is, how to post it, what a correct bot does with it."""

    kind: str
    channel: str  # twilio or telegram
    expect: str  # REPLY, REFUSE, IGNORE or ANY (no 5xx; if stored, answered)
    post: Callable[[Rig], int]
    provider_id: str | None = None


def _twilio_case(kind: str, sender: str, text: str, expect: str = REPLY, **extra) -> Callable:
    def make(rig: Rig, n: int) -> Hostile:
        sid = extra.get("MessageSid", f"SM{rig.next_id():032d}")
        address = sender.format(n=n)
        form = harness.sms_form(sid, address, text) | {
            key: value for key, value in extra.items() if value is not None
        }
        for key in [key for key, value in extra.items() if value is None]:
            form.pop(key, None)
        return Hostile(
            kind, "twilio", expect, lambda rig: rig.post_twilio(form), form.get("MessageSid")
        )

    return make


def _telegram_case(kind: str, expect: str = REPLY, **shape) -> Callable:
    """A Telegram update built by `shape["update"](update_id, user_id)`, or raw bytes."""

    def make(rig: Rig, n: int) -> Hostile:
        update_id, user_id = rig.next_id(), 900_000_000 + n
        body = shape["update"](update_id, user_id)
        provider = None
        try:
            parsed = json.loads(body) if isinstance(body, bytes) else body
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("update_id"), int):
            provider = f"update:{parsed['update_id']}"
        return Hostile(kind, "telegram", expect, lambda rig: rig.post_telegram(body), provider)

    return make


def _telegram_text(text: object, **message) -> Callable:
    return lambda update_id, user_id: telegram_update(update_id, user_id, text, **message)


SMS = "+1555800{n:05d}"
WHATSAPP = "whatsapp:+1555810{n:05d}"

CASES: list[Callable] = [
    *(_twilio_case(f"SMS: {kind}", SMS, text) for kind, text in TEXTS.items()),
    *(_twilio_case(f"WhatsApp: {kind}", WHATSAPP, text) for kind, text in TEXTS.items()),
    *(_telegram_case(f"Telegram: {kind}", update=_telegram_text(text)) for kind, text in TEXTS.items()),
    _twilio_case("SMS: media only", SMS, "", NumMedia="1",
                 MediaUrl0="https://api.twilio.com/media/ME1", MediaContentType0="image/jpeg"),
    _twilio_case("WhatsApp: ten attachments, no text", WHATSAPP, "", NumMedia="10",
                 **{f"MediaUrl{i}": f"https://api.twilio.com/media/ME{i}" for i in range(10)}),
    _twilio_case("SMS: NumMedia huge", SMS, "", NumMedia="9" * 30),
    _twilio_case("SMS: NumMedia negative", SMS, "", NumMedia="-3"),
    _twilio_case("SMS: NumMedia not a number", SMS, "", NumMedia="many"),
    _twilio_case("SMS: Body missing", SMS, "", Body=None),
    _twilio_case("WhatsApp: ButtonText only", WHATSAPP, "", ButtonText="Yes 👍"),
    _twilio_case("WhatsApp: hostile ProfileName", WHATSAPP, "hi",
                 ProfileName="\u202e'; DROP TABLE person; -- {name} %s"),
    _twilio_case("SMS: unknown fields", SMS, "hi", **{"X{0}": "%s", "Body2": "{body}"}),
    _twilio_case("SMS: sender not E.164", "555-0100 ext {n}", "HELP", expect=ANY),
    _twilio_case("SMS: sender a 30-digit number", "+9{n:029d}", "HELP", expect=ANY),
    _twilio_case("SMS: sender empty", "", "HELP", expect=REFUSE),
    _twilio_case("SMS: sender on another channel", "messenger:{n}", "HELP", expect=REFUSE),
    _twilio_case("SMS: MessageSid missing", SMS, "HELP", expect=REFUSE,
                 MessageSid=None, SmsMessageSid=None),
    _twilio_case("SMS: body over 1 MB", SMS, "x" * 1_100_000, expect=REFUSE),
    _telegram_case("Telegram: photo only", update=_telegram_text(
        None, photo=[{"file_id": "AgAD1", "file_unique_id": "u1", "width": 90, "height": 90}])),
    _telegram_case("Telegram: photo with hostile caption", update=_telegram_text(
        None, caption="{body} '; DROP TABLE --",
        photo=[{"file_id": "AgAD2", "file_unique_id": "u2", "width": 90, "height": 90}])),
    _telegram_case("Telegram: document only", update=_telegram_text(
        None, document={"file_id": "BQAD1", "file_unique_id": "d1", "mime_type": "text/x-sh"})),
    _telegram_case("Telegram: sticker only", update=_telegram_text(
        None, sticker={"file_id": "CAAD1", "file_unique_id": "s1", "type": "regular",
                       "width": 512, "height": 512, "is_animated": False, "is_video": False})),
    _telegram_case("Telegram: command entity out of range", update=_telegram_text(
        "/help", entities=[{"type": "bot_command", "offset": 100, "length": 9999}])),
    _telegram_case("Telegram: hostile command", update=_telegram_text(
        "/help@circlebot_test_bot {body}%s'; --")),
    _telegram_case("Telegram: unknown command", update=_telegram_text("/drop_table")),
    _telegram_case("Telegram: NUL escape", update=lambda u, p: json.dumps(
        telegram_update(u, p, "HELP\u0000")).encode()),
    _telegram_case("Telegram: lone surrogate escape", ANY, update=lambda u, p: json.dumps(
        telegram_update(u, p, "HELP")).replace('"HELP"', '"\\ud800HELP"').encode()),
    _telegram_case("Telegram: invalid UTF-8", REFUSE, update=lambda u, p: json.dumps(
        telegram_update(u, p, "HELP")).replace("HELP", "\udcff").encode("utf-8", "surrogateescape")),
    _telegram_case("Telegram: user id of 62 bits", update=lambda u, p: telegram_update(
        u, 2**62 + p, "HELP")),
    _telegram_case("Telegram: user id beyond 64 bits", ANY, update=lambda u, p: telegram_update(
        u, 2**70 + p, "HELP")),
    _telegram_case("Telegram: update_id beyond 64 bits", ANY, update=lambda u, p: telegram_update(
        10**30 + u, p, "HELP")),
    _telegram_case("Telegram: negative update_id", ANY, update=lambda u, p: telegram_update(
        -u, p, "HELP")),
    _telegram_case("Telegram: update_id a string", REFUSE, update=lambda u, p: telegram_update(
        u, p, "HELP") | {"update_id": str(u)}),
    _telegram_case("Telegram: update_id a float", REFUSE, update=lambda u, p: telegram_update(
        u, p, "HELP") | {"update_id": u + 0.5}),
    _telegram_case("Telegram: update_id true", REFUSE, update=lambda u, p: telegram_update(
        u, p, "HELP") | {"update_id": True}),
    _telegram_case("Telegram: date far in the future", ANY, update=_telegram_text(
        "HELP", date=10**15)),
    _telegram_case("Telegram: message_id huge", ANY, update=_telegram_text(
        "HELP", message_id=2**70)),
    _telegram_case("Telegram: text a number", ANY, update=_telegram_text(12345)),
    _telegram_case("Telegram: text a list", ANY, update=_telegram_text(["HELP"])),
    _telegram_case("Telegram: sender missing", IGNORE, update=lambda u, p: {
        "update_id": u, "message": {k: v for k, v in telegram_update(u, p, "HELP")[
            "message"].items() if k != "from"}}),
    _telegram_case("Telegram: a channel post", IGNORE, update=lambda u, p: {
        "update_id": u, "channel_post": {"message_id": 1, "date": 1790000000, "text": "HELP",
                                         "chat": {"id": -100 - p, "type": "channel"}}}),
    _telegram_case("Telegram: group chatter", IGNORE, update=_telegram_text(
        "'; DROP TABLE --", chat={"id": -1, "type": "group", "title": "{body}"})),
    _telegram_case("Telegram: unknown update type", IGNORE, update=lambda u, p: {
        "update_id": u, "something_new": {"x": 1}}),
    _telegram_case("Telegram: edited message", IGNORE, update=lambda u, p: {
        "update_id": u, "edited_message": telegram_update(u, p, "HELP")["message"]
        | {"edit_date": 1790000001}}),
    _telegram_case("Telegram: not an object", REFUSE, update=lambda u, p: b"[]"),
    _telegram_case("Telegram: null", REFUSE, update=lambda u, p: b"null"),
    _telegram_case("Telegram: empty body", REFUSE, update=lambda u, p: b""),
    _telegram_case("Telegram: truncated JSON", REFUSE, update=lambda u, p: json.dumps(
        telegram_update(u, p, "HELP")).encode()[:40]),
    _telegram_case("Telegram: deeply nested JSON", ANY, update=lambda u, p: (
        f'{{"update_id": {u}, "x": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()),
    _telegram_case("Telegram: body over 1 MB", REFUSE, update=_telegram_text("x" * 1_100_000)),
]  # fmt: skip


def _fuzz_case(seed: int) -> Callable:
    """A random string of hostile characters, 0 to 5,000 long, on a random channel."""
    chosen = random.Random(seed)
    length = chosen.choice([0, 1, 2, 5, 20, 160, 161, 1600, 1601, 4096, 5000])
    text = "".join(chosen.choice(FUZZ_ALPHABET) for _ in range(length))[:5000]
    channel = chosen.choice(["sms", "whatsapp", "telegram"])
    if channel == "telegram":
        return _telegram_case("fuzz: Telegram", update=_telegram_text(text))
    return _twilio_case(f"fuzz: {channel}", SMS if channel == "sms" else WHATSAPP, text)


def hostile_inputs(count: int) -> list[Callable]:
    """Every fixed case once, then random ones until there are `count`."""
    cases = list(CASES[:count])
    cases += [_fuzz_case(seed) for seed in range(count - len(cases))]
    return cases


def hostile(rig: Rig, count: int, batch: int, by_kind_table: bool = False) -> Check:
    """Post hostile inputs in batches, run the jobs, and trace each input to its reply."""
    from bot.i18n import LANGUAGES, t
    from models.message import SENT

    rig.reset()
    apologies = {t("error.sorry", language) for language in LANGUAGES}
    inputs: list[tuple[Hostile, int]] = []
    makers = hostile_inputs(count)
    for start in range(0, len(makers), batch):
        for n, make in enumerate(makers[start : start + batch], start=start):
            case = make(rig, n)
            inputs.append((case, case.post(rig)))
        rig.run_jobs()
    rig.tick()
    rig.run_jobs()

    stored = {row.provider_id: row for row in inbound_rows()}
    helpful_to: dict[tuple[str, int], int] = defaultdict(int)
    for row in outbound_rows():
        if row.status == SENT and row.body.strip() and row.body not in apologies:
            key = ("group", row.group_chat_id) if row.group_chat_id else ("contact", row.contact_id)
            helpful_to[key] += 1

    def answered(row) -> bool:
        key = ("group", row.group_chat_id) if row.group_chat_id else ("contact", row.contact_id)
        return helpful_to[key] > 0

    by_kind: dict[str, Counter] = defaultdict(Counter)
    server_errors, unanswered, surprises = [], [], []
    for case, status in inputs:
        row = stored.get(case.provider_id)
        outcome = "stored" if row else "not stored"
        by_kind[case.kind][f"{status} {outcome}"] += 1
        if status >= 500:
            server_errors.append(f"{case.kind} → {status}")
        if row is not None and not answered(row):
            unanswered.append(f"{case.kind} (message {row.id}, status {row.status})")
        expected = {
            REPLY: status == 200 and row is not None,
            REFUSE: 400 <= status < 500 and row is None,
            IGNORE: status == 200 and row is None,
            ANY: status < 500,
        }[case.expect]
        if not expected and case.expect != ANY:  # a 5xx is listed on its own
            surprises.append(f"{case.kind}: expected {case.expect}, got {status} {outcome}")
    errored = [row for row in stored.values() if row.status == "error"]
    failed_jobs = rig.failed_jobs()
    logged = list(rig.errors.records)
    answered_count = sum(answered(row) for row in stored.values())
    passed = not (server_errors or unanswered or errored or failed_jobs or logged)
    notes = []
    if server_errors:
        notes.append(f"5xx answers ({len(server_errors)}): {_distinct(server_errors)}")
    if errored:
        notes.append(
            f"messages with status 'error' ({len(errored)}): "
            + _distinct(f"{row.id} {row.error}" for row in errored)
        )
    if unanswered:
        notes.append(f"stored but no helpful reply ({len(unanswered)}): {_distinct(unanswered)}")
    if failed_jobs:
        notes.append(f"failed RQ jobs: {failed_jobs}")
    if logged:
        notes.append(f"errors logged ({len(logged)}): {_distinct(logged)}")
    if surprises:
        notes.append(f"not as expected ({len(surprises)}): {_distinct(surprises)}")
    if by_kind_table:
        print(
            harness.table(
                ["hostile input", "outcomes (HTTP status, stored?)"],
                [[kind, dict(outcomes)] for kind, outcomes in by_kind.items()],
            )
        )
    statuses = Counter(status for _, status in inputs)
    return Check(
        f"{count:,} hostile inputs → no 5xx, no crash, a helpful reply",
        passed,
        f"{len(inputs)} posts {dict(statuses)}; {len(stored)} stored, {answered_count} answered "
        f"helpfully, {len(errored)} status 'error', {failed_jobs} failed jobs, "
        f"{len(logged)} errors logged",
        notes,
    )


def _distinct(items: Iterable[str], limit: int = 8) -> str:
    counts = Counter(items)
    shown = [f"{item} ×{n}" if n > 1 else item for item, n in list(counts.items())[:limit]]
    more = f" … and {len(counts) - limit} more kinds" if len(counts) > limit else ""
    return "; ".join(shown) + more


CHECKS = ("replays", "forgeries", "failures", "redis", "hostile")


def main(argv: list[str] | None = None) -> int:
    """Run the checks and print a table of verdicts with their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100, help="distinct replayed messages")
    parser.add_argument("--replays", type=int, default=10, help="times each is posted")
    parser.add_argument("--forgeries", type=int, default=20, help="messages forged 9 ways each")
    parser.add_argument("--failing", type=int, default=300, help="messages under failures")
    parser.add_argument("--fail-rate", type=float, default=0.3)
    parser.add_argument("--flushed", type=int, default=90, help="messages around the flush")
    parser.add_argument("--hostile", type=int, default=500, help="hostile inputs (DESIGN: 10000)")
    parser.add_argument("--batch", type=int, default=250, help="hostile inputs between job runs")
    parser.add_argument("--by-kind", action="store_true", help="print each input kind's fate")
    parser.add_argument("--only", choices=CHECKS, action="append", help="run only these checks")
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    harness.stop_on_sigterm()
    chosen = args.only or CHECKS

    checks: list[Check] = []
    with (
        harness.Instance() as instance,
        FakeTwilio() as twilio,
        FakeTelegram(username=drivers.BOT_USERNAME) as telegram,
    ):
        rig = Rig(instance, twilio, telegram)
        plan = {
            "replays": lambda: replays(rig, args.messages, args.replays),
            "forgeries": lambda: forgeries(rig, args.forgeries),
            "failures": lambda: failures(rig, args.failing, args.fail_rate, max_rounds=60),
            "redis": lambda: redis_flush(rig, args.flushed),
            "hostile": lambda: hostile(rig, args.hostile, args.batch, args.by_kind),
        }
        tracebacks: dict[str, str] = {}
        for name in chosen:
            began = time.monotonic()
            check = plan[name]()
            check.figures += f" [{time.monotonic() - began:.1f} s]"
            checks.append(check)
            tracebacks |= rig.errors.tracebacks
            print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}", flush=True)

    print()
    print(
        harness.table(
            ["check", "verdict", "figures"],
            [[c.name, "PASS" if c.passed else "FAIL", c.figures] for c in checks],
        )
    )
    for check in checks:
        if check.notes:
            print(f"\n{check.name}:")
            for note in check.notes:
                print(f"  - {note}")
    for summary, text in list(tracebacks.items())[:5]:
        tail = "\n".join(text.splitlines()[-12:])  # the frames nearest the error
        print(f"\nlast frames of the first {summary}:\n{tail}")
    ok = all(check.passed for check in checks)
    harness.write_report(
        args.report,
        "reliability",
        [
            {
                "measure": check.name,
                "figure": check.figures,
                "target": "no failure",
                "verdict": "PASS" if check.passed else "FAIL",
            }
            for check in checks
        ],
        ok=ok,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
