"""Fixtures: a real database and Redis (servers when configured, embedded otherwise), fakes at
the HTTP boundary, signed-webhook drivers, and an RQ worker in burst mode."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import responses
import time_machine
from sqlalchemy import text

from bot import queue
from bot.config import Settings, use_settings
from bot.db import get_engine, reset_engine
from bot.worker import Worker
from tests.support import drivers
from tests.support.africastalking_api import AfricasTalkingAPI
from tests.support.fake_telegram import FakeTelegram
from tests.support.processes import clean_database, provider_settings
from tests.support.twilio_api import TwilioAPI


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--clock-ahead",
        type=int,
        default=int(os.environ.get("CLOCK_AHEAD_DAYS") or 0),
        metavar="DAYS",
        help="run with the clock faked DAYS after today (also CLOCK_AHEAD_DAYS): a test that "
        "leans on today's date fails here before it fails on everyone's machine",
    )


def pytest_configure(config) -> None:
    days = config.getoption("--clock-ahead")
    if days:
        # The whole run lives that far ahead, running on; a test's own travels nest inside.
        config.clock_ahead = time_machine.travel(datetime.now(UTC) + timedelta(days=days))
        config.clock_ahead.start()


def pytest_report_header(config) -> str | None:
    days = config.getoption("--clock-ahead")
    return f"clock faked {days} days ahead: now is {datetime.now(UTC):%Y-%m-%d}" if days else None


@pytest.fixture(scope="session")
def fake_telegram():
    with FakeTelegram(username=drivers.BOT_USERNAME) as fake:
        yield fake


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("instance")


def make_settings(instance_dir: Path, telegram_url: str, **overrides) -> Settings:
    """Settings as a deployment with both providers configured would have them."""
    return provider_settings(
        instance_dir,
        os.environ.get("DATABASE_URL", ""),
        os.environ.get("REDIS_URL", ""),
        telegram_url,
        **overrides,
    )


@pytest.fixture(scope="session")
def database(instance_dir, fake_telegram):
    """Migrate a fresh database once per run."""
    use_settings(make_settings(instance_dir, fake_telegram.url))
    reset_engine()
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    from alembic import command
    from alembic.config import Config

    from bot.config import ROOT

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    command.upgrade(config, "head")
    yield engine
    reset_engine()
    queue.stop_embedded()


@pytest.fixture
def settings(database, instance_dir, fake_telegram):
    """Fresh settings, empty tables and an empty Redis for each test."""
    current = make_settings(instance_dir, fake_telegram.url)
    use_settings(current)
    clean_database(database)
    queue.reset()
    queue.connection().flushdb()
    fake_telegram.clear()
    yield current


@pytest.fixture
def app(settings):
    from app import create_app

    application = create_app(settings)
    application.testing = True
    return application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def provider_http():
    """The one `responses` mock for every provider faked at HTTP: a mock opened inside another
    hides the outer one's providers, whose calls then fail as unreachable."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def twilio_api(provider_http):
    return TwilioAPI(provider_http)


@pytest.fixture
def africastalking_api(provider_http):
    return AfricasTalkingAPI(provider_http, api_key=drivers.AT_API_KEY)


@pytest.fixture
def run_jobs(settings):
    """Run every queued job with a real RQ worker in burst mode, as production workers do."""

    def run() -> None:
        worker = Worker([queue.queue(name) for name in queue.QUEUES], connection=queue.connection())
        worker.work(burst=True)

    return run


@pytest.fixture
def sms_user(client, twilio_api):
    return lambda number: drivers.PhoneUser(client, twilio_api, number)


@pytest.fixture
def whatsapp_user(client, twilio_api):
    return lambda number: drivers.PhoneUser(client, twilio_api, number, whatsapp=True)


@pytest.fixture
def africastalking_user(client, africastalking_api):
    return lambda number: drivers.AfricasTalkingUser(client, africastalking_api, number)


@pytest.fixture
def telegram_user(client, fake_telegram):
    return lambda user_id, name="Ann": drivers.TelegramUser(client, fake_telegram, user_id, name)


@pytest.fixture
def cli(app):
    """Run a `flask --app app …` command in-process; stdout and stderr apart."""
    runner = app.test_cli_runner(mix_stderr=False) if _mixes() else app.test_cli_runner()

    def invoke(*args: str, input: str | None = None, ok: bool = True):
        result = runner.invoke(args=list(args), input=input)
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return invoke


def _mixes() -> bool:
    import inspect

    from click.testing import CliRunner

    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters
