"""Settings read once from the environment (and `.env`), named as DESIGN's operator interface."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path

import phonenumbers
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything an operator can set; empty strings count as unset."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    database_url: str = ""
    redis_url: str = ""
    instance_path: Path = ROOT / "instance"
    public_base_url: str = "http://localhost:5000"
    # Behind N reverse proxies that set X-Forwarded-*: trust them for the URL Twilio signed.
    trusted_proxies: int = 0

    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_sms_from: str = ""
    twilio_whatsapp_from: str = ""
    twilio_api_base_url: str = ""
    twilio_whatsapp_templates: dict[str, str] = Field(default_factory=dict)
    # Quick replies inside WhatsApp's 24-hour window: a Content SID (twilio/quick-reply) by the
    # number of buttons, "2" and "3" (WhatsApp allows three in session). Without one, plain text.
    twilio_whatsapp_quick_replies: dict[str, str] = Field(default_factory=dict)

    # Africa's Talking: two-way SMS on a Kenyan shortcode (bot/channels/africastalking.py).
    africastalking_username: str = ""
    africastalking_api_key: str = ""
    africastalking_shortcode: str = ""
    africastalking_api_base_url: str = "https://api.africastalking.com"
    africastalking_webhook_secret: str = ""  # in the callback URLs: its callbacks are unsigned
    africastalking_rate_per_second: float = 10.0
    # The SMS provider by the number's prefix (+254, or +1876 within +1), the longest matching
    # first, "*" for the rest. Someone who writes to us is answered through the provider they
    # wrote to, whatever this says: the routes pick for everyone else.
    sms_routes: dict[str, str] = Field(default_factory=lambda: {"*": "twilio"})

    telegram_bot_token: str = ""
    telegram_bot_username: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"

    outbox: str = ""
    # Sends per second per sender: a Twilio long code takes about one, a Telegram bot thirty.
    sms_rate_per_second: float = 1.0
    # Twilio's WhatsApp senders take 80 messages a second by default, far above an SMS long code.
    whatsapp_rate_per_second: float = 80.0
    telegram_rate_per_second: float = 30.0
    telegram_group_rate_per_minute: float = 20.0
    send_timeout_seconds: float = 10.0
    max_send_attempts: int = 6
    dialog_expiry_hours: int = 24
    # Learners are anonymized this many days after their last circle ended, and every message
    # body is blanked once this old (jobs/retention.py).
    retention_days: int = 90
    default_language: str = "en"
    # The language a new number hears first, by its country (ISO code, e.g. {"KE": "sw"}), when
    # its first message does not show which language the person writes in.
    country_languages: dict[str, str] = Field(default_factory=dict)
    # Off: only members of a team may create circles (NEW explains how to get an invite code).
    allow_teamless_facilitators: bool = False
    default_timezone: str = "UTC"  # for circles created without a team
    # Signs the console's session cookies and CSRF tokens. Unset, one is made once and kept in
    # the instance folder, so that every web process of one install shares it.
    secret_key: str = ""

    @field_validator(
        "twilio_whatsapp_templates",
        "twilio_whatsapp_quick_replies",
        "country_languages",
        "sms_routes",
        mode="before",
    )
    @classmethod
    def _templates_from_json(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @field_validator("sms_routes")
    @classmethod
    def _routes_name_known_providers(cls, routes: dict[str, str]) -> dict[str, str]:
        # Here and not at send time: a typo would fail every message on its route, quietly.
        from bot.channels.base import ANY_NUMBER, SMS_PROVIDERS, is_calling_code_prefix

        for prefix, provider in routes.items():
            if provider not in SMS_PROVIDERS:
                raise ValueError(f"SMS_ROUTES: {provider!r} is none of {', '.join(SMS_PROVIDERS)}")
            country = prefix in phonenumbers.SUPPORTED_REGIONS  # "KE": a country's numbers
            if prefix != ANY_NUMBER and not country and not is_calling_code_prefix(prefix):
                raise ValueError(
                    f"SMS_ROUTES: {prefix!r} is neither a calling-code prefix like +254 nor a "
                    "country like KE"
                )
        return routes

    @model_validator(mode="after")
    def _shared_storage_on_many_machines(self) -> Settings:
        # Heroku-style hosts (they set DYNO) run each process on its own machine: the embedded
        # defaults would give every one its own database, Redis and secret, quietly.
        if os.environ.get("DYNO"):
            missing = [
                name
                for name, value in (("DATABASE_URL", self.database_url),
                                    ("REDIS_URL", self.redis_url), ("SECRET_KEY", self.secret_key))
                if not value
            ]  # fmt: skip
            if missing:
                raise ValueError(
                    f"{', '.join(missing)} must be set on a host of many machines (DYNO is set): "
                    "each process would otherwise keep its own"
                )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to SQLite under the instance folder."""
        if self.database_url:
            url = self.database_url
            for bare in ("postgres://", "postgresql://"):
                if url.startswith(bare):
                    # psycopg 3 is the driver we ship; SQLAlchemy would default to psycopg2.
                    url = "postgresql+psycopg://" + url[len(bare) :]
            return url
        return f"sqlite:///{self.instance_path / 'circlebot.db'}"

    def session_secret(self) -> str:
        """SECRET_KEY, or the install's own, made on first use under the instance folder."""
        if self.secret_key:
            return self.secret_key
        path = self.instance_path / "secret_key"
        if not path.exists():
            self.instance_path.mkdir(parents=True, exist_ok=True)
            # Written whole beside it, then linked in place: two web processes starting together
            # keep the one that came first, and neither reads a half-written file.
            draft = path.with_name(f".secret_key.{os.getpid()}")
            descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
            try:
                with contextlib.suppress(FileExistsError):
                    os.link(draft, path)
            finally:
                draft.unlink()
        return path.read_text().strip()

    @property
    def outbox_mode(self) -> str:
        """`providers` when credentials exist, else `console`, unless OUTBOX says otherwise."""
        if self.outbox:
            return self.outbox
        has_credentials = bool(
            (self.twilio_account_sid and self.twilio_auth_token)
            or (self.africastalking_username and self.africastalking_api_key)
            or self.telegram_bot_token
        )
        return "providers" if has_credentials else "console"


_settings: Settings | None = None


def get_settings() -> Settings:
    """Read the settings once per process."""
    global _settings
    if _settings is None:
        _settings = Settings()
    return _settings


def use_settings(settings: Settings | None) -> None:
    """Replace this process's settings (create_app(settings), tests); None reads them anew."""
    global _settings
    _settings = settings
