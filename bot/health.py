"""Health checks for the platform: the process is up; its database and Redis answer."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from bot import queue
from bot.db import get_engine

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> dict:
    """The process is up."""
    return {"ok": True}


@health.get("/readyz")
def readyz() -> tuple[dict, int]:
    """The database and Redis answer."""
    checks = {}
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"error: {type(error).__name__}"
    try:
        queue.connection().ping()
        checks["redis"] = "ok"
    except Exception as error:
        checks["redis"] = f"error: {type(error).__name__}"
    ok = all(value == "ok" for value in checks.values())
    return {"ok": ok, **checks}, 200 if ok else 503
