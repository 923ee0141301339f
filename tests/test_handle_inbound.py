"""Handling: each message exactly once even when jobs overlap, and queries that do not grow."""

from __future__ import annotations

import threading

from sqlalchemy import event, update
from sqlmodel import func, select

from bot.db import get_engine, session_scope
from bot.identity import find_contact
from jobs import handle_inbound
from models.conversation import Conversation
from models.message import IN, OUT, Message


def test_overlapping_handle_jobs_handle_each_message_once(sms_user, run_jobs):
    alice = sms_user("+15550001")
    for _ in range(5):
        alice.says("HELP")
    with session_scope() as session:
        contact_id = find_contact(session, "sms", "+15550001").id
    threads = [threading.Thread(target=handle_inbound.run, args=(contact_id,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_jobs()
    assert len(alice.replies()) == 5
    with session_scope() as session:
        statuses = session.exec(select(Message.status).where(Message.direction == IN)).all()
    assert statuses == ["handled"] * 5


def test_a_handler_crash_gets_a_kind_reply_and_is_not_retried(sms_user, run_jobs, monkeypatch):
    from bot import dispatch

    def broken(ctx):
        raise RuntimeError("a bug")

    monkeypatch.setattr(dispatch, "ROUTES", [broken])
    alice = sms_user("+15550001")
    alice.says("HELP")
    run_jobs()
    run_jobs()
    assert alice.replies() == [
        "Sorry, something went wrong on our side. Please try again in a moment."
    ]
    with session_scope() as session:
        row = session.exec(select(Message).where(Message.direction == IN)).one()
    assert row.status == "error" and "a bug" in row.error


class QueryCounter:
    """Count the SQL statements the engine runs while active."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> QueryCounter:
        event.listen(get_engine(), "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(get_engine(), "before_cursor_execute", self._count)

    def _count(self, *args) -> None:
        self.count += 1


def queries_to_handle_help(sms_user, run_jobs, number: str) -> int:
    user = sms_user(number)
    user.says("HELP")
    with session_scope() as session:
        contact_id = find_contact(session, "sms", number).id
    with QueryCounter() as counter:
        handle_inbound.run(contact_id)
    run_jobs()
    assert "You can reply:" in user.last_reply()
    return counter.count


def test_queries_per_inbound_message_do_not_grow_with_the_data(sms_user, run_jobs):
    small = queries_to_handle_help(sms_user, run_jobs, "+15550001")
    for n in range(100):
        sms_user(f"+1555100{n:04d}").says("hello")
    run_jobs()
    large = queries_to_handle_help(sms_user, run_jobs, "+15550002")
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(Message)).one() > 200
        assert (
            session.exec(
                select(func.count()).select_from(Message).where(Message.direction == OUT)
            ).one()
            > 100
        )
    assert large == small


def test_a_dialog_that_met_a_bug_ends_so_the_next_message_starts_afresh(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("LANG")
    run_jobs()
    assert "Which language" in alice.last_reply()
    with session_scope() as session:
        # As after a deploy that renamed the step this dialog waits at.
        session.execute(update(Conversation).values(step="a_step_that_is_gone"))
    alice.says("2")
    run_jobs()
    assert alice.last_reply().startswith("Sorry, something went wrong")
    alice.says("2")  # no dialog waits now: read as anything else would be
    run_jobs()
    assert alice.last_reply().startswith("Sorry, I didn't get that.")
    with session_scope() as session:
        assert session.exec(select(Conversation.status)).all() == ["error"]
