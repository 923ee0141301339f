"""Facilitators: join a team by invite code, list their circles, see who is coming."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for
from models.circles import Meeting, Rsvp, Signup
from models.people import Person
from models.teams import TeamMember
from tests.support import world
from tests.support.drivers import refused

NOW = datetime.fromisoformat("2026-11-22T09:00:00+00:00")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def setup_teams() -> dict:
    """Team A (Nakuru) with circles A1 and A2, team B (Chicago) with B1; a few learners."""
    with session_scope() as session:
        team_a = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        team_b = world.team(session, "Chicago Libraries", "America/Chicago", "sms:+15550000020")
        a1 = world.circle(session, team_a, "sms:+15550000011", datetime(2026, 12, 1, 18, 0),
                          name="Python")  # fmt: skip
        a2 = world.circle(session, team_a, "sms:+15550000012", datetime(2026, 12, 2, 18, 0),
                          name="Poetry")  # fmt: skip
        b1 = world.circle(session, team_b, "sms:+15550000021", datetime(2026, 12, 3, 18, 0),
                          name="Speaking")  # fmt: skip
        first = {
            m.circle_id: m.id for m in session.exec(select(Meeting).where(Meeting.number == 1))
        }
        for circle, handle, name, attending in (
            (a1, "+15550000101", "Amina", True), (a1, "+15550000102", "Brian", False),
            (a1, "+15550000103", None, None), (a1, "+15550000110", "Chebet", None),
        ):  # fmt: skip
            contact = contact_for(session, "sms", handle)
            session.get(Person, contact.person_id).name = name
            signup = Signup(circle_id=circle.id, person_id=contact.person_id, contact_id=contact.id)
            session.add(signup)
            session.flush()
            if attending is not None:
                session.add(Rsvp(meeting_id=first[a1.id], signup_id=signup.id, attending=attending))
        return {"invite_a": team_a.invite_code, "A1": a1.join_code, "A2": a2.join_code,
                "B1": b1.join_code}  # fmt: skip


def test_team_with_an_invite_code_makes_a_facilitator_and_tells_the_organizers(sms_user, run_jobs):
    codes = setup_teams()
    zawadi, organizer = sms_user("+15550000200"), sms_user("+15550000010")
    for text in (f"TEAM {codes['invite_a'].lower()}", "Zawadi"):
        zawadi.says(text)
        run_jobs()
    assert zawadi.replies() == [
        "Welcome! What's your name?",
        "Welcome to Nakuru Libraries! You're a facilitator now. Reply HELP to see what you can do.",
    ]
    assert organizer.last_reply() == "Zawadi joined Nakuru Libraries as a facilitator."
    with session_scope() as session:
        roles = session.exec(select(TeamMember.role).order_by(TeamMember.id)).all()
    assert roles.count("facilitator") == 4
    zawadi.says(f"TEAM {codes['invite_a']}")
    run_jobs()
    assert zawadi.last_reply() == "You're already in Nakuru Libraries."


def test_a_wrong_invite_code_is_refused_and_team_alone_asks_for_it(sms_user, run_jobs):
    setup_teams()
    zawadi = sms_user("+15550000200")
    zawadi.says("TEAM XXXX")
    run_jobs()
    assert zawadi.last_reply() == (
        "I don't know the invite code XXXX. Please check it with your organizer."
    )
    zawadi.says("TEAM")
    run_jobs()
    assert zawadi.last_reply() == (
        "What's your team's invite code? Your organizer can send it to you."
    )
    zawadi.says("NOPE")
    run_jobs()
    assert zawadi.last_reply().startswith("I don't know the invite code NOPE.")


def test_my_lists_a_facilitators_circles_with_codes_and_next_meetings(sms_user, run_jobs):
    codes = setup_teams()
    facilitator = sms_user("+15550000011")
    facilitator.says("MY")
    run_jobs()
    assert facilitator.last_reply() == (
        f"Python ({codes['A1']}): next Tue 1 Dec, 18:00. Learners: 4."
    )


def test_an_organizer_sees_all_of_the_teams_circles_in_my(sms_user, run_jobs):
    setup_teams()
    organizer = sms_user("+15550000010")
    organizer.says("MY")
    run_jobs()
    assert organizer.last_reply().count("\n") == 1
    assert "Python" in organizer.last_reply() and "Poetry" in organizer.last_reply()
    assert "Speaking" not in organizer.last_reply()


def test_who_shows_the_learners_by_answer_for_the_next_meeting(sms_user, run_jobs):
    setup_teams()
    facilitator = sms_user("+15550000011")
    facilitator.says("WHO")
    run_jobs()
    assert facilitator.last_reply() == (
        "Python, Tue 1 Dec, 18:00: 1 yes, 1 no, 2 no answer.\n"
        "Yes: Amina\nNo: Brian\nNo answer: Chebet, A learner"
    )


def test_who_asks_an_organizer_which_circle(sms_user, run_jobs):
    setup_teams()
    organizer = sms_user("+15550000010")
    organizer.says("WHO")
    run_jobs()
    assert organizer.last_reply().startswith("Which circle?\n1) Python")
    organizer.says("2")
    run_jobs()
    assert organizer.last_reply() == (
        "Poetry, Wed 2 Dec, 18:00: 0 yes, 0 no, 0 no answer.\nNobody has joined yet."
    )


@pytest.mark.parametrize(
    ("who", "command", "allowed"),
    [
        ("learner", "WHO", False),
        ("learner", "MY", False),
        ("facilitator A1", "WHO", True),
        ("facilitator B1", "WHO", True),
        ("organizer A", "MY", True),
        ("organizer B", "WHO", True),
        ("stranger", "WHO", False),
    ],
)
def test_nobody_sees_a_roster_that_is_not_theirs(sms_user, run_jobs, who, command, allowed):
    setup_teams()
    number = {
        "learner": "+15550000101", "facilitator A1": "+15550000011",
        "facilitator B1": "+15550000021", "organizer A": "+15550000010",
        "organizer B": "+15550000020", "stranger": "+15550000999",
    }[who]  # fmt: skip
    person = sms_user(number)
    person.says(command)
    run_jobs()
    reply = person.last_reply()
    if not allowed:
        assert refused(reply)
        return
    mine = {"facilitator A1": ["Python"], "facilitator B1": ["Speaking"],
            "organizer A": ["Python", "Poetry"], "organizer B": ["Speaking"]}[who]  # fmt: skip
    for name in ("Python", "Poetry", "Speaking"):
        assert (name in reply) == (name in mine)
    assert ("Amina" in reply) == (who == "facilitator A1")


def test_a_long_roster_is_split_into_sms_sized_pages(sms_user, run_jobs):
    setup_teams()
    with session_scope() as session:
        from models.circles import Circle

        python = session.exec(select(Circle).where(Circle.name == "Python")).one()
        for n in range(40):
            contact = contact_for(session, "sms", f"+1555001{n:04d}")
            session.get(Person, contact.person_id).name = f"Learner Number {n:02d}"
            session.add(Signup(circle_id=python.id, person_id=contact.person_id,
                               contact_id=contact.id))  # fmt: skip
    facilitator = sms_user("+15550000011")
    facilitator.says("WHO")
    run_jobs()
    from bot.sms import segments

    pages = facilitator.replies()
    assert len(pages) > 1
    assert all(segments(page) <= 2 or "\n" not in page for page in pages)
    text = "\n".join(pages)
    assert all(f"Learner Number {n:02d}" in text for n in range(40))
