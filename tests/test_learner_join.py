"""A learner finds a circle and joins it by message (PRODUCT "Learner" 1-2)."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from sqlmodel import select

from bot.db import session_scope
from models.circles import Circle, Signup
from models.people import Person
from tests.support import world

NOW = datetime.fromisoformat("2026-11-22T09:00:00+00:00")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def make_world(**fields) -> dict[str, str]:
    """Two teams, three circles; returns the join codes by circle name."""
    with session_scope() as session:
        nakuru = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+254700000001")
        chicago = world.team(
            session, "Chicago Public Library", "America/Chicago", "sms:+13125550001"
        )
        circles = [
            world.circle(session, nakuru, "sms:+254700000002", datetime(2026, 12, 1, 18, 0),
                         name="Python", venue="Nakuru Library", city="Nakuru", **fields),
            world.circle(session, nakuru, "sms:+254700000003", datetime(2026, 11, 28, 10, 0),
                         name="Digital Skills", venue="Kisumu Library", city="Kisumu"),
            world.circle(session, chicago, "sms:+13125550002", datetime(2026, 12, 3, 18, 0),
                         name="Public Speaking", venue="Harold Washington", city="Chicago"),
        ]  # fmt: skip
        return {circle.name: circle.join_code for circle in circles}


def signups() -> list[tuple[str, str | None, str | None]]:
    with session_scope() as session:
        rows = session.exec(
            select(Circle.name, Person.name, Signup.goal)
            .join(Circle, Circle.id == Signup.circle_id)
            .join(Person, Person.id == Signup.person_id)
            .where(Signup.left_at.is_(None))
        ).all()
        return list(rows)


def test_circles_lists_open_circles_soonest_first_in_local_time(sms_user, run_jobs):
    codes = make_world()
    amina = sms_user("+254711000001")
    amina.says("CIRCLES")
    run_jobs()
    listing = amina.last_reply().split("\n")
    assert listing[0] == (
        f"Digital Skills, Kisumu Library (Kisumu): Sat 10:00 from 28 Nov. JOIN {codes['Digital Skills']}"
    )
    assert listing[1].startswith("Python, Nakuru Library (Nakuru): Tue 18:00 from 1 Dec.")
    assert "Public Speaking" in amina.last_reply() or "MORE" in amina.last_reply()


def test_the_list_is_paged_for_sms_and_more_shows_the_rest(sms_user, run_jobs):
    make_world()
    with session_scope() as session:
        team = world.team(session, "Mombasa", "Africa/Nairobi", "sms:+254700000009")
        for day in range(2, 8):
            world.circle(session, team, "sms:+254700000008", datetime(2026, 12, day, 9, 0),
                         name=f"Circle {day}", venue="Fort Jesus", city="Mombasa")  # fmt: skip
    amina = sms_user("+254711000001")
    amina.says("CIRCLES")
    run_jobs()
    first = amina.last_reply()
    assert first.endswith("Reply MORE for more.")
    assert len(first) <= 306
    pages = [first]
    while pages[-1].endswith("Reply MORE for more."):
        amina.says("MORE")
        run_jobs()
        pages.append(amina.last_reply())
    assert all(len(page) <= 306 for page in pages)
    listed = [line for page in pages for line in page.split("\n") if "JOIN" in line]
    assert len(listed) == 9
    assert len(set(listed)) == 9
    amina.says("more")
    run_jobs()
    assert amina.last_reply() == "That's all. Reply CIRCLES to see the list again."


def test_telegram_gets_the_whole_list_at_once(telegram_user, run_jobs):
    make_world()
    ann = telegram_user(5150)
    ann.says("/circles")
    run_jobs()
    assert ann.last_reply().count("JOIN") == 3


def test_find_filters_by_city_or_team_and_forgives_typos(sms_user, run_jobs):
    codes = make_world()
    amina = sms_user("+254711000001")
    amina.says("FIND nakru")
    run_jobs()
    assert amina.last_reply() == (
        f"Python, Nakuru Library (Nakuru): Tue 18:00 from 1 Dec. JOIN {codes['Python']}"
    )
    amina.says("find chicago public library")
    run_jobs()
    assert "Public Speaking" in amina.last_reply()
    amina.says("FIND Mombasa")
    run_jobs()
    assert amina.last_reply() == "No open circles found for Mombasa. Reply CIRCLES to see them all."
    amina.says("FIND")
    run_jobs()
    assert amina.last_reply() == "Which place? Reply e.g. FIND Nakuru."


def test_nothing_open_gets_a_kind_reply(sms_user, run_jobs):
    amina = sms_user("+254711000001")
    amina.says("CIRCLES")
    run_jobs()
    assert (
        amina.last_reply() == "No circles are open for signup right now. Please check again soon!"
    )


def test_finished_and_full_circles_are_not_listed(sms_user, run_jobs):
    codes = make_world(limit=1)
    with session_scope() as session:
        session.exec(
            select(Circle).where(Circle.name == "Digital Skills")
        ).one().status = "finished"
    joiner = sms_user("+254711000009")
    for text in (f"JOIN {codes['Python']}", "Bob", "Goal", "yes"):
        joiner.says(text)
        run_jobs()
    amina = sms_user("+254711000001")
    amina.says("CIRCLES")
    run_jobs()
    assert amina.last_reply().count("JOIN") == 1
    assert "Public Speaking" in amina.last_reply()


def test_joining_asks_name_goal_and_consent_then_confirms_and_tells_the_facilitator(
    sms_user, run_jobs
):
    codes = make_world()
    amina, facilitator = sms_user("+254711000001"), sms_user("+254700000002")
    replies = []
    for text in (f"join {codes['Python'].lower()}", "Amina", "Build a website for my shop", "yes"):
        amina.says(text)
        run_jobs()
        replies.append(amina.last_reply())
    assert replies[0] == "Welcome! What's your name?"
    assert replies[1] == "What do you hope to get out of Python? (a short sentence)"
    assert replies[2].startswith("We keep your name, number and goal")
    assert replies[3] == (
        "You're in Python! First meeting: Tue 1 Dec, 18:00 at Nakuru Library. "
        "We'll remind you before each meeting."
    )
    assert facilitator.last_reply() == (
        "New learner in Python: Amina. Goal: Build a website for my shop. Learners now: 1."
    )
    assert signups() == [("Python", "Amina", "Build a website for my shop")]


def test_join_alone_asks_for_the_code_and_a_wrong_code_ends_the_dialog(sms_user, run_jobs):
    codes = make_world()
    amina = sms_user("+254711000001")
    for text in ("JOIN", "ZZZZ", "CIRCLES", "JOIN", codes["Python"], "Amina", "Code", "ndiyo"):
        amina.says(text)
        run_jobs()
    replies = amina.replies()
    assert replies[0] == "What's the circle's code? It's 4 characters, e.g. PY7K."
    assert replies[1] == (
        "I don't know the code ZZZZ. Please check it and try again, "
        "or reply CIRCLES to see open circles."
    )
    assert "JOIN" in replies[2]  # CIRCLES did what the refusal said it would
    assert replies[4] == "Welcome! What's your name?"
    assert replies[-1].startswith("You're in Python!")


@pytest.mark.parametrize("answer", ["JOIN {code}", "/join {lower}", "jiunge {code}"])
def test_the_code_question_answered_with_the_whole_command_takes_the_code(
    sms_user, run_jobs, answer
):
    code = make_world()["Python"]
    amina = sms_user("+254711000001")
    for text in ("JOIN", answer.format(code=code, lower=code.lower())):
        amina.says(text)
        run_jobs()
    assert amina.replies() == [
        "What's the circle's code? It's 4 characters, e.g. PY7K.",
        "Welcome! What's your name?",
    ]


def test_a_known_person_is_not_asked_their_name_again(sms_user, run_jobs):
    codes = make_world()
    amina = sms_user("+254711000001")
    for text in (f"JOIN {codes['Python']}", "Amina", "Code", "yes",
                 f"JOIN {codes['Digital Skills']}"):  # fmt: skip
        amina.says(text)
        run_jobs()
    assert amina.last_reply() == "What do you hope to get out of Digital Skills? (a short sentence)"


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("unknown", "I don't know the code QQQQ. Please check it and try again, or reply CIRCLES to see open circles."),
        ("finished", "Python has finished. Reply CIRCLES to find another circle."),
        ("draft", "Python isn't taking signups. Reply CIRCLES to find another circle."),
        ("full", "Sorry, Python is full. Reply CIRCLES to find another circle."),
        ("already", "You're already in Python. Reply NEXT for your next meeting."),
    ],
)  # fmt: skip
def test_join_refusals_are_clear_and_write_nothing(sms_user, run_jobs, setup, expected):
    codes = make_world(limit=1)
    code = "QQQQ" if setup == "unknown" else codes["Python"]
    if setup in ("finished", "draft"):
        with session_scope() as session:
            session.exec(select(Circle).where(Circle.name == "Python")).one().status = setup
    if setup in ("full", "already"):
        joiner = sms_user("+254711000001" if setup == "already" else "+254711000009")
        for text in (f"JOIN {code}", "Someone", "Goal", "yes"):
            joiner.says(text)
            run_jobs()
    before = signups()
    amina = sms_user("+254711000001")
    amina.says(f"JOIN {code}")
    run_jobs()
    assert amina.last_reply() == expected
    assert signups() == before


def test_saying_no_to_the_privacy_notice_joins_nothing(sms_user, run_jobs):
    codes = make_world()
    amina = sms_user("+254711000001")
    for text in (f"JOIN {codes['Python']}", "Amina", "Code", "no"):
        amina.says(text)
        run_jobs()
    assert (
        amina.last_reply() == "OK, you have not joined and we saved nothing. You can JOIN any time."
    )
    assert signups() == []
    with session_scope() as session:
        assert session.exec(select(Person.name).where(Person.name == "Amina")).first() is None


def test_exit_midway_through_joining_saves_nothing(sms_user, run_jobs):
    codes = make_world()
    amina = sms_user("+254711000001")
    for text in (f"JOIN {codes['Python']}", "Amina", "EXIT"):
        amina.says(text)
        run_jobs()
    assert signups() == []


def test_a_goal_over_300_characters_is_asked_again(sms_user, run_jobs):
    codes = make_world()
    amina = sms_user("+254711000001")
    for text in (f"JOIN {codes['Python']}", "Amina", "x" * 301):
        amina.says(text)
        run_jobs()
    assert amina.last_reply().startswith("That's a bit long. Please keep it under 300 characters.")


def test_the_last_place_taken_while_answering_is_refused_at_the_end(sms_user, run_jobs):
    codes = make_world(limit=1)
    amina, bob = sms_user("+254711000001"), sms_user("+254711000002")
    for person in (amina, bob):
        for text in (f"JOIN {codes['Python']}", "Name", "Goal"):
            person.says(text)
            run_jobs()
    amina.says("yes")
    bob.says("yes")
    run_jobs()
    assert amina.last_reply().startswith("You're in Python!")
    assert bob.last_reply() == "Sorry, Python is full. Reply CIRCLES to find another circle."
    assert len(signups()) == 1


def test_joining_in_swahili_on_whatsapp(whatsapp_user, run_jobs):
    codes = make_world()
    wanjiru = whatsapp_user("+254722000001")
    for text in ("LUGHA sw", f"JOIN {codes['Python']}", "Wanjiru", "Kujifunza", "ndiyo"):
        wanjiru.says(text)
        run_jobs()
    assert wanjiru.replies()[1] == "Karibu! Jina lako ni nani?"
    assert wanjiru.last_reply() == (
        "Umejiunga na Python! Mkutano wa kwanza: Jumanne 1 Des, 18:00 katika Nakuru Library. "
        "Tutakukumbusha kabla ya kila mkutano."
    )


def test_joining_on_telegram(telegram_user, run_jobs):
    codes = make_world()
    ann = telegram_user(5150)
    for text in (f"/join {codes['Digital Skills']}", "Ann", "Use email", "yes"):
        ann.says(text)
        run_jobs()
    assert ann.last_reply().startswith("You're in Digital Skills! First meeting: Sat 28 Nov, 10:00")


def test_a_circle_whose_meetings_are_all_past_is_not_listed_or_joined(sms_user, run_jobs):
    codes = make_world()
    # Digital Skills met six Saturdays from 28 Nov; by February it is over.
    with time_machine.travel(datetime.fromisoformat("2027-02-01T09:00:00+00:00"), tick=True):
        amina = sms_user("+254711000001")
        amina.says("FIND Kisumu")
        run_jobs()
        assert amina.last_reply() == (
            "No open circles found for Kisumu. Reply CIRCLES to see them all."
        )
        amina.says(f"JOIN {codes['Digital Skills']}")
        run_jobs()
        assert amina.last_reply() == (
            "Digital Skills has finished. Reply CIRCLES to find another circle."
        )
