"""The conversation engine: steps in order, re-asks, BACK, EXIT and expiry, across real jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlmodel import select

from bot.clock import now
from bot.db import session_scope
from conversations import engine, flows
from conversations.engine import Done, Flow, Reask, Step
from conversations.parsers import number, text
from handlers import commands
from handlers.commands import Command
from models.conversation import Conversation
from models.people import Person


def save_name(ctx, data) -> None:
    """The flow's one effect: the person's name, written only when the dialog completes."""
    ctx.person.name = data["name"]
    ctx.session.add(ctx.person)
    ctx.say("lang.changed", language=f"{data['name']} ({data['age']})")


def check_age(data, age):
    return Reask("parse.number_range", {"lo": 16, "hi": 99}) if age < 16 else Done({"age": age})


PROFILE = Flow(
    "profile",
    steps=[
        Step("name", ask="parse.text_empty", expect=text(max_len=20)),
        Step("age", ask="parse.number", expect=number(1, 120), then=check_age),
    ],
    finish=save_name,
)


@pytest.fixture(autouse=True)
def profile_flow(monkeypatch):
    """A two-step flow, registered the way flows are, and a command that starts it."""
    monkeypatch.setattr(flows, "FLOWS", [*flows.FLOWS, PROFILE])
    start = Command(words=("PROFILE",), run=lambda ctx, rest: engine.start(ctx, "profile"))
    monkeypatch.setattr(commands, "COMMANDS", [*commands.COMMANDS, start])


def names() -> list[str | None]:
    with session_scope() as session:
        return [person.name for person in session.exec(select(Person)).all()]


def test_a_flow_asks_each_step_and_finishes_with_all_answers(sms_user, run_jobs):
    alice = sms_user("+15550001")
    for reply in ("PROFILE", "Alice", "34"):
        alice.says(reply)
        run_jobs()
    assert alice.replies() == [
        "Please write a short answer.",
        "Please reply with a number.",
        "OK, I'll write in Alice (34).",
    ]
    assert names() == ["Alice"]


def test_an_invalid_answer_is_reasked_with_the_reason(sms_user, run_jobs):
    alice = sms_user("+15550001")
    for reply in ("PROFILE", "x" * 30, "Alice", "twelve hundred", "9", "40"):
        alice.says(reply)
        run_jobs()
    replies = alice.replies()
    assert (
        replies[1]
        == "That's a bit long. Please keep it under 20 characters.\nPlease write a short answer."
    )
    assert replies[3].startswith("Please reply with a number")
    assert replies[4] == "Please reply with a number from 16 to 99.\nPlease reply with a number."
    assert names() == ["Alice"]


def test_after_repeated_misses_the_person_is_told_how_to_leave(sms_user, run_jobs):
    alice = sms_user("+15550001")
    for reply in ("PROFILE", "Alice", "abc", "abc", "abc"):
        alice.says(reply)
        run_jobs()
    assert "EXIT" not in alice.replies()[-2]
    assert alice.last_reply().endswith("Reply EXIT to leave this dialog.")


def test_back_returns_to_the_previous_question(sms_user, run_jobs):
    alice = sms_user("+15550001")
    for reply in ("PROFILE", "Alcie", "BACK", "Alice", "34"):
        alice.says(reply)
        run_jobs()
    assert alice.replies()[2] == "Please write a short answer."
    assert names() == ["Alice"]


def test_back_at_the_first_question_says_so(sms_user, run_jobs):
    alice = sms_user("+15550001")
    for reply in ("PROFILE", "back"):
        alice.says(reply)
        run_jobs()
    assert alice.last_reply() == "Please write a short answer."
    assert alice.replies()[-2] == "This is the first question."


def test_exit_midway_saves_nothing(sms_user, run_jobs):
    alice = sms_user("+15550001")
    for reply in ("PROFILE", "Alice", "EXIT", "34"):
        alice.says(reply)
        run_jobs()
    assert "Nothing was saved" in alice.replies()[2]
    assert names() == [None]


def test_an_idle_dialog_expires_after_a_day(sms_user, run_jobs):
    from jobs import tick

    alice = sms_user("+15550001")
    for reply in ("PROFILE", "Alice"):
        alice.says(reply)
        run_jobs()
    with time_machine.travel(now() + timedelta(hours=25)):
        result = tick.run()
        alice.says("34")
        run_jobs()
    assert result["queued"]["expired_dialogs"] == 1
    assert "Sorry, I didn't get that" in alice.last_reply()
    assert names() == [None]
    with session_scope() as session:
        assert session.exec(select(Conversation.status)).all() == ["expired"]


def test_each_answer_gives_another_day(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("PROFILE")
    run_jobs()
    with time_machine.travel(now() + timedelta(hours=20)):
        alice.says("Alice")
        run_jobs()
    with time_machine.travel(now() + timedelta(hours=40)):
        alice.says("34")
        run_jobs()
    assert names() == ["Alice"]


def test_starting_a_flow_replaces_the_one_in_progress(sms_user, run_jobs):
    alice = sms_user("+15550001")
    for reply in ("PROFILE", "LANG", "1"):
        alice.says(reply)
        run_jobs()
    assert alice.last_reply() == "OK, I'll write in English."
    with session_scope() as session:
        statuses = sorted(session.exec(select(Conversation.status)).all())
    assert statuses == ["done", "replaced"]
