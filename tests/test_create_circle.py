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
        "1) Python for Everybody\n"
        "2) Nakuru Public Library\n"
        "3) Nakuru\n"
        "4) First meeting Tue 24 Nov, 18:00\n"
        "5) Weekly for 6 weeks\n"
        "6) 90 min each\n"
        "7) Learner limit: none\n"
        "YES to create it, a number to change that line, or NO to discard."
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
    assert learner.last_reply().startswith("Welcome! What's your name?")


def test_bad_answers_are_asked_again_with_the_reason(facilitator, run_jobs):
    replies = converse(facilitator, run_jobs, "NEW", "Python", "ok", "Library", "Nakuru",
                       "1 March 2020 18:00", "tomorrow 3am", "Tuesday", "next Tuesday 6pm",
                       "0", "60", "8", "ok", "skip")  # fmt: skip
    assert replies[5].startswith("That date has passed.")
    assert replies[6].startswith("A meeting at 03:00? Please give a time between 06:00 and 22:00.")
    assert replies[7].startswith("Please add the time too")
    assert replies[9].startswith("Please reply with a number from 1 to 52.")
    assert replies[10].startswith("Please reply with a number from 1 to 52.")
    assert "5) Weekly for 8 weeks" in replies[-1]


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


def summary(person) -> list[str]:
    """The numbered lines of the latest summary, without the closing instructions."""
    return person.last_reply().splitlines()[:-1]


def test_the_summary_names_the_course_only_when_the_name_differs(facilitator, run_jobs):
    converse(facilitator, run_jobs, *ANSWERS)
    assert summary(facilitator)[:2] == ["1) Python for Everybody", "2) Nakuru Public Library"]
    answers = list(ANSWERS)
    answers[2] = "Python evenings"
    converse(facilitator, run_jobs, "EXIT", *answers)
    assert summary(facilitator)[:3] == [
        "1) Python evenings",
        "2) Course: Python for Everybody",
        "3) Nakuru Public Library",
    ]


def test_a_line_number_changes_that_answer_alone_then_yes_creates_it(facilitator, run_jobs):
    converse(facilitator, run_jobs, *ANSWERS)
    replies = converse(facilitator, run_jobs, "2")
    assert replies[-1] == "Where will it meet? (the venue, e.g. Nakuru Public Library, room 2)"
    replies = converse(facilitator, run_jobs, "Nakuru Town Hall")
    # Straight back to the summary, not on to the town and the questions after it.
    assert replies[-2] == "Where will it meet? (the venue, e.g. Nakuru Public Library, room 2)"
    assert summary(facilitator) == [
        "1) Python for Everybody",
        "2) Nakuru Town Hall",
        "3) Nakuru",
        "4) First meeting Tue 24 Nov, 18:00",
        "5) Weekly for 6 weeks",
        "6) 90 min each",
        "7) Learner limit: none",
    ]
    converse(facilitator, run_jobs, "line 5", "wiki nane", "yes")
    created = circles()[-1]
    assert (created.name, created.venue, created.city, created.weeks, created.duration_min) == (
        "Python for Everybody",
        "Nakuru Town Hall",
        "Nakuru",
        8,
        90,
    )
    assert facilitator.last_reply().startswith("Text JOIN ")


def test_renaming_a_circle_that_was_named_after_its_course_shows_the_course(facilitator, run_jobs):
    converse(facilitator, run_jobs, *ANSWERS)
    replies = converse(facilitator, run_jobs, "1")
    assert replies[-1] == (
        'What should the circle be called? Reply OK to call it "Python for Everybody".'
    )
    converse(facilitator, run_jobs, "Python evenings")
    assert summary(facilitator)[:2] == ["1) Python evenings", "2) Course: Python for Everybody"]
    converse(facilitator, run_jobs, "ndiyo")
    created = circles()[-1]
    assert (created.name, created.course) == ("Python evenings", "Python for Everybody")


def test_no_after_changing_a_line_still_creates_nothing(facilitator, run_jobs):
    before = len(circles())
    replies = converse(facilitator, run_jobs, *ANSWERS, "3", "Naivasha", "no")
    assert replies[-2].startswith("1) Python for Everybody\n2) Nakuru Public Library\n3) Naivasha")
    assert replies[-1] == "OK, nothing was created. Reply NEW to start again."
    assert len(circles()) == before


def test_a_number_that_is_not_a_line_is_asked_again(facilitator, run_jobs):
    replies = converse(facilitator, run_jobs, *ANSWERS, "9")
    assert replies[-1].startswith(
        "Please reply YES, NO, or a line number from 1 to 7.\n1) Python for Everybody\n"
    )
    assert len(circles()) == 1  # only the facilitator's first circle


def test_back_after_changing_a_line_returns_to_the_summary(facilitator, run_jobs):
    converse(facilitator, run_jobs, *ANSWERS, "6", "60")
    replies = converse(facilitator, run_jobs, "BACK", "45")
    assert replies[-2] == "How long is each meeting, in minutes? Reply a number, or OK for 90."
    assert "6) 45 min each" in summary(facilitator)


SPOKEN = [
    ("en", "wiki nane", "2 hours", "no limit"),
    ("en", "8 weeks", "1.5 hours", "unlimited"),
    ("sw", "wiki nane", "2 hours", "no limit"),
    ("sw", "wiki 8", "saa mbili", "bila kikomo"),
    ("sw", "wiki nane", "dakika 90", "hakuna"),
]


@pytest.mark.parametrize(("language", "weeks", "duration", "limit"), SPOKEN)
def test_weeks_hours_and_no_limit_are_taken_as_people_say_them(
    facilitator, run_jobs, language, weeks, duration, limit
):
    if language == "sw":
        converse(facilitator, run_jobs, "LUGHA sw")
    ok = {"en": "ok", "sw": "sawa"}[language]
    replies = converse(facilitator, run_jobs, "NEW", "Python", ok, "Maktaba", "Nakuru",
                       "next Tuesday 6pm", weeks, duration, limit)  # fmt: skip
    minutes = 90 if ("1.5" in duration or "90" in duration) else 120
    lines = {
        "en": ["5) Weekly for 8 weeks", f"6) {minutes} min each", "7) Learner limit: none"],
        "sw": ["5) Kila wiki kwa wiki 8", f"6) Dakika {minutes} kila mkutano",
               "7) Kikomo cha wanafunzi: hakuna"],
    }[language]  # fmt: skip
    assert replies[-1].splitlines()[4:7] == lines
    converse(facilitator, run_jobs, {"en": "yes", "sw": "ndiyo"}[language])
    created = circles()[-1]
    assert (created.weeks, created.duration_min, created.signup_limit) == (8, minutes, None)


@pytest.mark.parametrize("language", ["en", "sw"])
def test_a_bare_small_number_of_hours_is_not_guessed(facilitator, run_jobs, language):
    if language == "sw":
        converse(facilitator, run_jobs, "LUGHA sw")
    ok = {"en": "ok", "sw": "sawa"}[language]
    replies = converse(facilitator, run_jobs, "NEW", "Python", ok, "Library", "Nakuru",
                       "next Tuesday 6pm", ok, "2")  # fmt: skip
    hint = {
        "en": "Please give the length in minutes or hours, e.g. 90 or 2 hours.",
        "sw": "Tafadhali taja muda kwa dakika au saa, k.m. 90 au saa 2.",
    }[language]
    assert replies[-1].startswith(hint + "\n")


def test_the_summary_on_telegram_still_offers_yes_and_no_to_tap(telegram_user, run_jobs):
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        world.circle(session, team, "telegram:7001", datetime(2026, 12, 1, 18, 0))
    zawadi = telegram_user(7001, "Zawadi")
    converse(zawadi, run_jobs, *ANSWERS)
    assert zawadi.last_reply().startswith("1) Python for Everybody\n")
    assert zawadi.buttons() == ["Yes", "No"]
    zawadi.taps("Yes")
    run_jobs()
    created = circles()[-1]
    assert created.name == "Python for Everybody"
    assert f"Its join code is {created.join_code}." in zawadi.replies()[-2]
