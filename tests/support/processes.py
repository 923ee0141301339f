"""Helpers for tests and benchmarks that run the bot's real processes on loopback."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.config import Settings
from tests.support import drivers
from tests.support.africastalking_api import LIVE_API

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], T], timeout: float = 30.0, what: str = "condition") -> T:
    """Poll until `condition` returns something truthy; give up after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(f"timed out waiting for {what}")


def provider_settings(
    instance: Path, database_url: str, redis_url: str, telegram_url: str = "", **overrides
) -> Settings:
    """Settings of a deployment with every provider configured and sending rates out of the way;
    SMS goes by Twilio unless a test routes it (SMS_ROUTES)."""
    values = dict(
        database_url=database_url,
        redis_url=redis_url,
        instance_path=instance,
        public_base_url=drivers.PUBLIC_BASE_URL,
        twilio_account_sid=drivers.TWILIO_SID,
        twilio_auth_token=drivers.TWILIO_TOKEN,
        twilio_sms_from=drivers.SMS_FROM,
        twilio_whatsapp_from=drivers.WHATSAPP_FROM,
        twilio_api_base_url="",
        africastalking_username=drivers.AT_USERNAME,
        africastalking_api_key=drivers.AT_API_KEY,
        africastalking_shortcode=drivers.AT_SHORTCODE,
        africastalking_webhook_secret=drivers.AT_SECRET,
        africastalking_api_base_url=LIVE_API,  # where the `responses` fake answers
        sms_routes={"*": "twilio"},
        telegram_bot_token=drivers.TELEGRAM_TOKEN,
        telegram_bot_username=drivers.BOT_USERNAME,
        telegram_webhook_secret=drivers.TELEGRAM_SECRET,
        outbox="providers",
        sms_rate_per_second=100000.0,
        whatsapp_rate_per_second=100000.0,
        africastalking_rate_per_second=100000.0,
        telegram_rate_per_second=100000.0,
        telegram_group_rate_per_minute=6000000.0,
    )
    if telegram_url:
        values["telegram_api_base_url"] = telegram_url
    return Settings(**(values | overrides))


def clean_database(engine) -> None:
    """Empty every table, keeping the schema (between tests and benchmark checks)."""
    from sqlalchemy import text
    from sqlmodel import SQLModel

    import models  # noqa: F401  (registers the tables)

    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{name}"' for name in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                connection.execute(text(f'DELETE FROM "{name}"'))
