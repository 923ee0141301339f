"""NEW: a facilitator creates a circle by dialog, every answer checked, nothing half-made."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from sqlmodel import select

from bot.db import session_scope
from models.circles import Circle, Meeting
from tests.support import world

NOW = datetime.fromisoformat("2026-11-22T09:00:00+00:00")  # a Sunday


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def facilitator(sms_user):
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        world.circle(session, team, "sms:+15550000011", datetime(2026, 12, 1, 18, 0))
    return sms_user("+15550000011")


def converse(person, run_jobs, *texts: str) -> list[str]:
    for text in texts:
        person.says(text)
        run_jobs()
    return person.replies()


def circles() -> list[Circle]:
    with session_scope() as session:
        return list(session.exec(select(Circle).order_by(Circle.id)).all())


ANSWERS = ("NEW", "Python for Everybody", "ok", "Nakuru Public Library", "Nakuru",
           "next Tuesday 6pm", "ok", "ok", "skip")  # fmt: skip


def test_a_facilitator_creates_a_circle_by_message(facilitator, run_jobs, sms_user):
    replies = converse(facilitator, run_jobs, *ANSWERS)
    assert replies[0] == "What course or topic will the circle study?"
    assert (
        replies[1]
        == 'What should the circle be called? Reply OK to call it "Python for Everybody".'
    )
    assert replies[-1] == (
        "Python for Everybody (Python for Everybody) at Nakuru Public Library, Nakuru. "
        "First meeting Tue 24 Nov, 18:00, weekly for 6 weeks, 90 min. Limit: none. "
        "Create it? Reply YES or NO."
    )
    replies = converse(facilitator, run_jobs, "yes")
    created = circles()[-1]
    assert replies[-2] == f"Python for Everybody is ready! Its join code is {created.join_code}."
    assert replies[-1] == f"Text JOIN {created.join_code} to +15550000000 to join."
    with session_scope() as session:
        meetings = session.exec(
            select(Meeting.starts_at)
            .where(Meeting.circle_id == created.id)
            .order_by(Meeting.number)
        ).all()
    assert len(meetings) == 6
    assert meetings[0].isoformat() == "2026-11-24T15:00:00+00:00"
    learner = sms_user("+254711000001")
    learner.says(f"JOIN {created.join_code}")
    run_jobs()
    assert learner.last_reply() == "Welcome! What's your name?"


def test_bad_answers_are_asked_again_with_the_reason(facilitator, run_jobs):
    replies = converse(facilitator, run_jobs, "NEW", "Python", "ok", "Library", "Nakuru",
                       "1 March 2020 18:00", "tomorrow 3am", "Tuesday", "next Tuesday 6pm",
                       "0", "60", "8", "ok", "skip")  # fmt: skip
    assert replies[5].startswith("That date has passed.")
    assert replies[6].startswith("A meeting at 03:00? Please give a time between 06:00 and 22:00.")
    assert replies[7].startswith("Please add the time too")
    assert replies[9].startswith("Please reply with a number from 1 to 52.")
    assert replies[10].startswith("Please reply with a number from 1 to 52.")
    assert "weekly for 8 weeks" in replies[-1]


def test_back_changes_the_previous_answer(facilitator, run_jobs):
    replies = converse(facilitator, run_jobs, "NEW", "Pyhton", "BACK", "Python", "ok",
                       "Library", "Nakuru", "next Tuesday 6pm", "4", "60", "12", "yes")  # fmt: skip
    assert replies[2] == "What course or topic will the circle study?"
    created = circles()[-1]
    assert (created.name, created.weeks, created.duration_min, created.signup_limit) == (
        "Python",
        4,
        60,
        12,
    )


@pytest.mark.parametrize("last", ["EXIT", "no"])
def test_leaving_midway_or_saying_no_creates_nothing(facilitator, run_jobs, last):
    before = len(circles())
    texts = ANSWERS if last == "no" else ANSWERS[:4]
    replies = converse(facilitator, run_jobs, *texts, last)
    assert len(circles()) == before
    expected = "OK, nothing was created." if last == "no" else "OK, we stopped there."
    assert replies[-1].startswith(expected)


def test_someone_without_a_team_is_told_how_to_get_an_invite_code(sms_user, run_jobs):
    stranger = sms_user("+15550000999")
    stranger.says("NEW")
    run_jobs()
    assert stranger.last_reply() == (
        "To create circles, join your team first: "
        "reply TEAM and the invite code your organizer gives you."
    )


def test_a_swahili_first_meeting_in_swahili_time(facilitator, run_jobs):
    replies = converse(facilitator, run_jobs, "LUGHA sw", "NEW", "Python", "sawa", "Maktaba",
                       "Nakuru", "Jumanne saa kumi na mbili jioni", "sawa", "sawa", "ruka")  # fmt: skip
    assert "Mkutano wa kwanza Jumanne 24 Nov, 18:00" in replies[-1]
