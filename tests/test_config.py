"""Settings an operator gets wrong on a host of many machines are refused at start."""

import pytest
from pydantic import ValidationError

from bot.config import Settings


def test_a_dyno_without_shared_storage_is_refused_naming_what_is_missing(monkeypatch):
    monkeypatch.setenv("DYNO", "web.1")
    with pytest.raises(ValidationError) as refused:
        Settings(
            _env_file=None, database_url="postgres://db/circlebot", redis_url="", secret_key=""
        )
    assert "REDIS_URL, SECRET_KEY must be set" in str(refused.value)


def test_a_dyno_with_shared_storage_starts(monkeypatch):
    monkeypatch.setenv("DYNO", "worker.2")
    settings = Settings(
        _env_file=None,
        database_url="postgres://db/circlebot",
        redis_url="redis://redis:6379/0",
        secret_key="s" * 40,
    )
    assert settings.sqlalchemy_url == "postgresql+psycopg://db/circlebot"
