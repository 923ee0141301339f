"""End to end: real gunicorn, rq worker and tick processes against fake providers on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator

from bot.procfile import read_procfile
from tests.support import drivers
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_twilio import FakeTwilio
from tests.support.processes import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


class Deployment:
    """The bot's processes, started from the Procfile's commands with test providers."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port = env, port
        self.base = f"http://127.0.0.1:{port}"
        self.processes: list[subprocess.Popen] = []
        self.logs = env["INSTANCE_PATH"]

    def spawn(self, name: str, command: str) -> subprocess.Popen:
        with open(Path(self.logs) / f"{name}.log", "ab") as log:
            # The child keeps its own copy of the file descriptor.
            process = subprocess.Popen(
                command, shell=True, cwd=ROOT, env=self.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.processes.append(process)
        return process

    def start(self) -> None:
        """Run the release step, then start web, worker and clock, exactly as the Procfile says
        and as a host does."""
        processes = read_procfile(ROOT / "Procfile")
        release = self.spawn("release", processes.pop("release"))
        assert release.wait(timeout=120) == 0
        self.processes.remove(release)  # done: nothing of it is left to stop
        for name, command in processes.items():
            self.spawn(name, command)
        wait_for(self._ready, what="the web process to be ready")

    def _ready(self) -> bool:
        try:
            return requests.get(self.base + "/readyz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def tick(self) -> str:
        return subprocess.run(
            [str(BIN / "flask"), "--app", "app", "tick", "--json"],
            cwd=ROOT, env=self.env, capture_output=True, text=True, check=True, timeout=60,
        ).stdout  # fmt: skip

    def sms(self, number: str, text: str) -> requests.Response:
        form = {"MessageSid": "SM" + os.urandom(16).hex(), "From": number,
                "To": drivers.SMS_FROM, "Body": text, "AccountSid": drivers.TWILIO_SID}  # fmt: skip
        url = self.env["PUBLIC_BASE_URL"] + "/webhooks/twilio"
        signature = RequestValidator(drivers.TWILIO_TOKEN).compute_signature(url, form)
        return requests.post(
            self.base + "/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature},
            timeout=5,
        )  # fmt: skip

    def telegram(self, update: dict) -> requests.Response:
        return requests.post(
            self.base + "/webhooks/telegram", json=update, timeout=5,
            headers={"X-Telegram-Bot-Api-Secret-Token": drivers.TELEGRAM_SECRET},
        )  # fmt: skip

    def alive(self) -> list[str]:
        return [str(p.args) for p in self.processes if p.poll() is None]

    def stop(self) -> None:
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def deployment(settings, instance_dir):
    with FakeTwilio() as twilio, FakeTelegram(username=drivers.BOT_USERNAME) as telegram:
        port = free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(
                ("TWILIO_", "AFRICASTALKING_", "TELEGRAM_", "OUTBOX", "SMS_ROUTES")
            )
        } | {
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "INSTANCE_PATH": str(instance_dir),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "TWILIO_ACCOUNT_SID": drivers.TWILIO_SID,
            "TWILIO_AUTH_TOKEN": drivers.TWILIO_TOKEN,
            "TWILIO_SMS_FROM": drivers.SMS_FROM,
            "TWILIO_WHATSAPP_FROM": drivers.WHATSAPP_FROM,
            "TWILIO_API_BASE_URL": twilio.url,
            "TELEGRAM_BOT_TOKEN": drivers.TELEGRAM_TOKEN,
            "TELEGRAM_BOT_USERNAME": drivers.BOT_USERNAME,
            "TELEGRAM_WEBHOOK_SECRET": drivers.TELEGRAM_SECRET,
            "TELEGRAM_API_BASE_URL": telegram.url,
            "SMS_RATE_PER_SECOND": "1000",
            # Every number by Twilio's fake, whatever the operator's shell or .env routes.
            "SMS_ROUTES": '{"*": "twilio"}',
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
        }
        if settings.database_url:
            env["DATABASE_URL"] = settings.database_url
        else:
            env["DATABASE_URL"] = settings.sqlalchemy_url
        if settings.redis_url:
            env["REDIS_URL"] = settings.redis_url
        bot = Deployment(env, port)
        bot.twilio, bot.telegram_api = twilio, telegram
        try:
            bot.start()
            yield bot
        finally:
            bot.stop()


def test_the_procfile_starts_web_worker_and_clock(deployment):
    clock_log = Path(deployment.logs) / "clock.log"
    wait_for(lambda: "jobs.tick.run" in clock_log.read_text(), what="the clock to register tick")
    assert len(deployment.alive()) == 3


def test_sms_help_round_trip_through_real_processes(deployment):
    response = deployment.sms("+15557770001", "HELP")
    assert response.status_code == 200
    bodies = wait_for(
        lambda: deployment.twilio.sent_bodies("+15557770001"), what="the HELP reply by SMS"
    )
    assert "You can reply:" in bodies[0]


def test_telegram_group_help_round_trip_through_real_processes(deployment):
    ann = drivers.TelegramUser(None, deployment.telegram_api, 31337)
    update = ann.update(
        f"/help@{drivers.BOT_USERNAME}", chat={"id": -100987, "type": "group", "title": "Team"}
    )
    assert deployment.telegram(update).status_code == 200
    texts = wait_for(
        lambda: deployment.telegram_api.sent_texts(chat_id=-100987), what="the group reply"
    )
    assert "/link CODE" in texts[0]


def test_after_stop_a_contact_hears_nothing_more(deployment):
    number = "+15557770002"
    deployment.sms(number, "STOP")
    wait_for(lambda: deployment.twilio.sent_bodies(number), what="the STOP confirmation")
    for text in ("HELP", "hello", "LANG sw"):
        assert deployment.sms(number, text).status_code == 200
    # Give the worker time to handle them, and let a tick recover anything pending.
    time.sleep(2)
    deployment.tick()
    time.sleep(1)
    # The confirmation, and one answer to HELP saying how to START (carriers allow HELP).
    sent = deployment.twilio.sent_bodies(number)
    assert len(sent) == 2
    assert all("START" in body for body in sent)


class Phone:
    """Someone texting the deployed bot, waiting for each answer."""

    def __init__(self, deployment: Deployment, number: str) -> None:
        self.deployment, self.number = deployment, number

    def replies(self) -> list[str]:
        return self.deployment.twilio.sent_bodies(self.number)

    def wait(self, count: int, what: str) -> list[str]:
        return wait_for(lambda: (r := self.replies()) and len(r) >= count and r, what=what)

    def says(self, text: str) -> str:
        """Send `text` and return the bot's (last) reply to it."""
        before = len(self.replies())
        assert self.deployment.sms(self.number, text).status_code == 200
        return self.wait(before + 1, f"the reply to {text!r}")[-1]


def test_a_whole_circle_from_creation_to_report(deployment, settings):
    from datetime import UTC, datetime, timedelta

    from bot.db import session_scope
    from tests.support import world

    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15557770100")
        invite = team.invite_code
    facilitator = Phone(deployment, "+15557770101")
    learner = Phone(deployment, "+15557770102")
    assert facilitator.says(f"TEAM {invite}") == "Welcome! What's your name?"
    facilitator.says("Zawadi")
    # The first meeting three days from today, 18:00 in Nairobi (15:00 UTC).
    first = (datetime.now(UTC) + timedelta(days=3)).date()
    for answer in ("NEW", "Python for Everybody", "Python", "Nakuru Library", "Nakuru",
                   f"{first.isoformat()} 18:00", "2", "OK", "OK"):  # fmt: skip
        facilitator.says(answer)
    before = len(facilitator.replies())
    facilitator.says("YES")
    created, share = facilitator.wait(before + 2, "the join code and share line")[-2:]
    code = created.split("join code is ")[1].rstrip(".")
    assert share == f"Text JOIN {code} to {drivers.SMS_FROM} to join."
    for answer in (f"JOIN {code}", "Amina", "learn loops"):
        learner.says(answer)
    assert learner.says("YES").startswith("You're in")

    def tick_at(instant: datetime) -> dict:
        import json

        out = subprocess.run(
            [str(BIN / "flask"), "--app", "app", "tick", "--json", "--at", instant.isoformat()],
            cwd=ROOT, env=deployment.env, capture_output=True, text=True, check=True, timeout=60,
        ).stdout  # fmt: skip
        return json.loads(out)["queued"]

    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
    before = len(learner.replies())
    tick_at(start - timedelta(hours=47, minutes=59))
    assert learner.wait(before + 1, "the reminder")[-1].startswith("Reminder: Python")
    assert learner.says("yes").startswith("Thanks")
    for week in range(2):
        end = start + timedelta(days=7 * week, minutes=90)
        before = len(facilitator.replies())
        tick_at(end + timedelta(minutes=15))
        assert facilitator.wait(before + 1, "the reflection")[-1].startswith("How did Python")
        for answer in ("5", "OK", "Good questions", "skip"):
            facilitator.says(answer)
        facilitator.says("skip" if week else "Bring your laptops")
        if not week:
            facilitator.says("yes")
    last_end = start + timedelta(days=7, minutes=90)
    before = len(learner.replies())
    tick_at(last_end + timedelta(hours=1))
    assert "learn loops" in learner.wait(before + 1, "the learner survey")[-1]
    for answer in ("5", "Great group", "skip"):
        learner.says(answer)
    assert learner.says("skip").startswith("Thank you!")
    before = len(facilitator.replies())
    tick_at(last_end + timedelta(days=1))
    facilitator.wait(before + 1, "the facilitator survey")
    for answer in ("5", "skip", "Start on time"):
        facilitator.says(answer)
    facilitator.says("yes")
    before = len(learner.replies())
    assert tick_at(last_end + timedelta(days=1, minutes=5)).get("report") == 2
    short = learner.wait(before + 1, "the report")[-1]
    assert short.startswith("Python is complete: 2 meetings.")
    url = short.split("Report: ")[1]
    page = requests.get(url.replace(deployment.env["PUBLIC_BASE_URL"], deployment.base), timeout=5)
    assert page.status_code == 200 and "Great group" in page.text and "Amina" not in page.text
