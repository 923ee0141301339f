"""Baselines: a bare Flask app doing only the I/O the bot cannot avoid, served like the bot.

gunicorn serves it as "bench.baseline_app:create_app()". Its settings come from the environment:
BASELINE_DATABASE (an SQLite file, or a PostgreSQL URL: the database the bot is measured on,
so that the one insert costs what the bot's writes cost) and the bot's TWILIO_API_BASE_URL,
TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_SMS_FROM.
"""

from __future__ import annotations

import os
import sqlite3
import threading

import requests
from flask import Flask, Response, request

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# About as long as the bot's HELP answer, so that both send the same bytes.
REPLY = (
    "circlebot commands: JOIN CODE to join a circle, YES or NO to answer, WHO for your circle, "
    "LANG sw for Kiswahili, STOP to stop messages, HELP for this list."
)

_local = threading.local()


INSERT = "INSERT INTO baseline_inbound (sid, sender, body) VALUES ({0}, {0}, {0})"


def _database():
    """This thread's connection: SQLite with the pragmas the bot's engine uses, or PostgreSQL
    committing each statement (one durable commit, as the bot's each write)."""
    if getattr(_local, "db", None) is None:
        where = os.environ["BASELINE_DATABASE"]
        if where.startswith("postgres"):
            import psycopg

            db = psycopg.connect(where.replace("postgresql+psycopg://", "postgresql://"),
                                 autocommit=True)  # fmt: skip
            db.execute(
                "CREATE TABLE IF NOT EXISTS baseline_inbound "
                "(id SERIAL PRIMARY KEY, sid TEXT UNIQUE, sender TEXT, body TEXT)"
            )
            _local.db, _local.insert = db, INSERT.format("%s")
            return db
        db = sqlite3.connect(where, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=10000")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS baseline_inbound "
            "(id INTEGER PRIMARY KEY, sid TEXT UNIQUE, sender TEXT, body TEXT)"
        )
        _local.db, _local.insert = db, INSERT.format("?")
    return _local.db


def _provider() -> requests.Session:
    """One keep-alive session per thread, as the bot's Twilio client keeps one per process."""
    if getattr(_local, "http", None) is None:
        session = requests.Session()
        session.auth = (os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"])
        _local.http = session
    return _local.http


def create_app() -> Flask:
    """Build the baseline app."""
    app = Flask(__name__)

    @app.post("/webhooks/twilio")
    def empty_twiml() -> Response:
        """Acknowledge without reading anything: the ceiling for webhook throughput."""
        return Response(EMPTY_TWIML, mimetype="text/xml")

    @app.post("/minimal/twilio")
    def receive_store_send() -> Response:
        """Receive the form, insert one row, post one reply to the provider, answer."""
        form = request.form
        _database().execute(_local.insert, (form["MessageSid"], form["From"], form.get("Body", "")))
        account = os.environ["TWILIO_ACCOUNT_SID"]
        url = f"{os.environ['TWILIO_API_BASE_URL']}/2010-04-01/Accounts/{account}/Messages.json"
        answer = _provider().post(
            url,
            data={"To": form["From"], "From": os.environ["TWILIO_SMS_FROM"], "Body": REPLY},
            timeout=10,
        )
        answer.raise_for_status()
        return Response(EMPTY_TWIML, mimetype="text/xml")

    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True}

    return app
