"""MYDATA: a person reads everything we keep about them, in their language, paged for their
channel, and nobody else's (PRODUCT "Everyone")."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from sqlalchemy import event
from sqlmodel import select

from bot import holdings
from bot.db import get_engine, session_scope
from bot.i18n import LANGUAGES, catalog
from bot.sms import segments
from conversations.flows import FLOWS
from models.circles import Circle, Meeting, Rsvp, Signup
from models.feedback import Reflection, SurveyResponse
from models.people import Person
from tests.support import world

NOW = datetime.fromisoformat("2026-11-22T09:00:00+00:00")  # Sunday, 12:00 in Nairobi
ORGANIZER, FACILITATOR = "sms:+254700000001", "sms:+254700000002"
AMINA, BARAKA = "+254711000001", "+254711000002"
FORGET = "Reply FORGET to erase this."


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def make_circle(facilitator: str = FACILITATOR, weeks: int = 2) -> str:
    """Python, weekly from Tue 1 Dec, 18:00 in Nairobi; returns its join code."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", ORGANIZER)
        circle = world.circle(session, team, facilitator, datetime(2026, 12, 1, 18, 0),
                              weeks=weeks, course="Python for Everybody")  # fmt: skip
        return circle.join_code


def joins(user, code: str, name: str, goal: str, run_jobs) -> None:
    for text in (f"JOIN {code}", name, goal, "yes"):
        user.says(text)
        run_jobs()


def answers(name: str, *attending: bool) -> None:
    """The learner's RSVPs to the circle's meetings, first to last."""
    with session_scope() as session:
        signup = session.exec(
            select(Signup).join(Person, Person.id == Signup.person_id).where(Person.name == name)
        ).one()
        meetings = session.exec(
            select(Meeting).where(Meeting.circle_id == signup.circle_id).order_by(Meeting.number)
        ).all()
        for meeting, yes in zip(meetings, attending, strict=False):
            session.add(Rsvp(meeting_id=meeting.id, signup_id=signup.id, attending=yes))


def mydata(user, run_jobs, text: str = "MYDATA") -> list[str]:
    before = len(user.replies())
    user.says(text)
    run_jobs()
    return user.replies()[before:]


def test_a_learner_reads_their_circle_goal_answers_and_survey(whatsapp_user, run_jobs):
    code = make_circle()
    amina = whatsapp_user(AMINA)
    joins(amina, code, "Amina", "Build a website for my shop", run_jobs)
    answers("Amina", True, False)
    with session_scope() as session:
        person = session.exec(select(Person).where(Person.name == "Amina")).one()
        circle = session.exec(select(Circle)).one()
        session.add(SurveyResponse(circle_id=circle.id, person_id=person.id, role="learner",
                                   goal_met=4, worked_well="The small group",
                                   next_steps="Sell online"))  # fmt: skip
    [page] = mydata(amina, run_jobs)
    lines = page.split("\n")
    assert lines[:4] == [
        "What we keep about you:",
        "Name: Amina",
        "Language: English",
        "With us since 22 Nov 2026",
    ]
    assert lines[4].startswith("WhatsApp +254711000001: 5 messages from you, ")
    assert lines[4].endswith(" from us. Last from you: Sun 22 Nov, 12:00.")
    assert lines[5:] == [
        "Python (Python for Everybody): joined 22 Nov 2026.",
        "Your goal: Build a website for my shop",
        "Reminders to: WhatsApp +254711000001",
        "Tue 1 Dec, 18:00: yes",
        "Tue 8 Dec, 18:00: no",
        "Your survey on Python:",
        "How far you got: 4 of 5",
        "Worked well: The small group",
        "What next: Sell online",
        FORGET,
    ]


def test_on_sms_the_pages_are_numbered_in_order_and_each_within_three_segments(sms_user, run_jobs):
    code = make_circle(weeks=12)
    amina = sms_user(AMINA)
    joins(amina, code, "Amina", "Learn Python to analyse the sales data of our shop", run_jobs)
    answers("Amina", *([True, False] * 6))
    pages = mydata(amina, run_jobs, "my data")
    assert len(pages) > 1
    assert [page.split(" ", 1)[0] for page in pages] == [
        f"{n}/{len(pages)}" for n in range(1, len(pages) + 1)
    ]
    assert all(segments(page) <= 3 for page in pages), [segments(page) for page in pages]
    assert pages[0].startswith("1/")
    assert pages[0].split("\n")[0].endswith(" What we keep about you:")
    assert pages[-1].endswith(FORGET)
    lines = [line for page in pages for line in page.split("\n")]
    rsvps = [line for line in lines if line.endswith((": yes", ": no"))]
    assert len(rsvps) == 12
    assert rsvps[0] == "Tue 1 Dec, 18:00: yes" and rsvps[-1] == "Tue 16 Feb, 18:00: no"


def test_a_facilitator_on_telegram_reads_their_team_circle_and_reflection(telegram_user, run_jobs):
    make_circle(facilitator="telegram:7001")
    with session_scope() as session:
        meeting = session.exec(select(Meeting).where(Meeting.number == 1)).one()
        person = world.person_id(session, "telegram:7001")
        session.add(Reflection(meeting_id=meeting.id, person_id=person, rating=4, attendance=3,
                               went_well="Everyone finished chapter 2",
                               to_change="Start on time"))  # fmt: skip
    ann = telegram_user(7001)
    [page] = mydata(ann, run_jobs, "/mydata")
    assert page.split("\n")[4:] == [
        "Team Nakuru Libraries: facilitator",
        "You facilitate Python (Python for Everybody).",
        "Your reflection on Python, Tue 1 Dec, 18:00: rating 4, 3 came.",
        "Went well: Everyone finished chapter 2",
        "To change: Start on time",
        FORGET,
    ]
    assert page.split("\n")[3].startswith("Telegram 7001: 1 messages from you, 0 from us.")


def test_in_swahili_with_swahili_dates(sms_user, run_jobs):
    code = make_circle()
    amina = sms_user(AMINA)
    amina.says("LANG sw")
    run_jobs()
    joins(amina, code, "Amina", "Kujifunza Python", run_jobs)
    answers("Amina", True)
    pages = mydata(amina, run_jobs, "TAARIFA ZANGU")
    lines = [line for page in pages for line in page.split("\n")]
    assert "Tunachohifadhi kukuhusu:" in lines[0]
    assert "Lugha: Kiswahili" in lines
    assert "Python (Python for Everybody): ulijiunga 22 Nov 2026." in lines
    assert "Lengo lako: Kujifunza Python" in lines
    assert "Vikumbusho kwa: SMS +254711000001" in lines
    assert "Jumanne 1 Des, 18:00: ndiyo" in lines
    assert lines[-1] == "Jibu NISAHAU kufuta haya."


def test_no_other_learner_appears_in_a_learners_or_the_facilitators_mydata(
    sms_user, whatsapp_user, run_jobs
):
    code = make_circle()
    amina, baraka = whatsapp_user(AMINA), whatsapp_user(BARAKA)
    joins(amina, code, "Amina", "Build a website for my shop", run_jobs)
    joins(baraka, code, "Baraka", "Keep the farm accounts", run_jobs)
    answers("Baraka", False)
    [page] = mydata(amina, run_jobs)
    assert "Amina" in page and "Build a website" in page
    for theirs in ("Baraka", "farm accounts", BARAKA, ": no"):
        assert theirs not in page
    facilitator = "\n".join(mydata(sms_user(FACILITATOR.split(":")[1]), run_jobs))
    assert "You facilitate Python" in facilitator
    for theirs in ("Amina", "Baraka", "website", "farm", AMINA, BARAKA):
        assert theirs not in facilitator


def test_someone_who_only_said_hello_gets_a_short_honest_summary(sms_user, run_jobs):
    stranger = sms_user("+15550009999")
    stranger.says("hello")
    run_jobs()
    assert mydata(stranger, run_jobs) == [
        "We keep very little about you:\n"
        "Language: English\n"
        "With us since 22 Nov 2026\n"
        "SMS +15550009999: 2 messages from you, 1 from us. Last from you: Sun 22 Nov, 09:00.\n"
        + FORGET
    ]


def test_mydata_in_a_dialog_answers_and_the_dialog_goes_on(sms_user, run_jobs):
    code = make_circle()
    amina = sms_user(AMINA)
    amina.says(f"JOIN {code}")
    run_jobs()
    pages = mydata(amina, run_jobs, "DATAZANGU")
    text = "\n".join(pages)
    assert "In progress: joining a circle, since Sun 22 Nov, 12:00." in text
    assert text.endswith(f"{FORGET}\nYou can carry on with your answer now.")
    amina.says("Amina")
    run_jobs()
    assert amina.last_reply() == "What do you hope to get out of Python? (a short sentence)"


def test_a_stopped_contact_gets_nothing(sms_user, run_jobs):
    amina = sms_user(AMINA)
    amina.says("STOP")
    run_jobs()
    assert mydata(amina, run_jobs) == []


def test_every_dialog_has_a_name_in_mydata():
    for language in LANGUAGES:
        missing = {flow.name for flow in FLOWS} - {
            key.removeprefix("mydata.flow_") for key in catalog(language)
        }
        assert missing == set(), language


# --- a fixed number of queries ------------------------------------------------------------------


def busy_person(circles: int, handle: str) -> int:
    """Someone who learns in `circles` circles (a goal, an RSVP to each meeting, a survey) and
    facilitates as many others (a reflection on each meeting); returns their person id."""
    with session_scope() as session:
        team = world.team(session, f"Team {circles}", "Africa/Nairobi", ORGANIZER)
        person = world.person_id(session, handle)
        for n in range(circles):
            learns = world.circle(
                session,
                team,
                f"sms:+1555600{n:04d}",
                datetime(2026, 12, 1, 18, 0),
                weeks=2,
                name=f"L{n}",
            )
            runs = world.circle(session, team, handle,
                                datetime(2026, 12, 2, 18, 0), weeks=2, name=f"F{n}")  # fmt: skip
            signup = Signup(circle_id=learns.id, person_id=person, goal=f"Goal {n}")
            session.add(signup)
            session.add(SurveyResponse(circle_id=learns.id, person_id=person, role="learner",
                                       goal_met=3, worked_well="Yes"))  # fmt: skip
            session.flush()
            meetings = session.exec(
                select(Meeting).where(Meeting.circle_id.in_([learns.id, runs.id]))
            ).all()
            for meeting in meetings:
                if meeting.circle_id == learns.id:
                    session.add(Rsvp(meeting_id=meeting.id, signup_id=signup.id, attending=True))
                else:
                    session.add(Reflection(meeting_id=meeting.id, person_id=person, rating=5))
        return person


def queries_to_gather(person_id: int) -> tuple[int, dict]:
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    with session_scope() as session:
        event.listen(get_engine(), "before_cursor_execute", listener)
        try:
            held = holdings.gather(session, person_id)
        finally:
            event.remove(get_engine(), "before_cursor_execute", listener)
    return len(statements), held


def test_gathering_takes_the_same_queries_for_one_circle_or_twenty(settings):
    one, held_one = queries_to_gather(busy_person(1, "sms:+15550004201"))
    twenty, held_twenty = queries_to_gather(busy_person(20, "sms:+15550004220"))
    assert (len(held_one["signups"]), len(held_twenty["signups"])) == (1, 20)
    assert len(held_twenty["facilitates"]) == len(held_twenty["reflections"]) / 2 == 20
    assert sum(len(s["rsvps"]) for s in held_twenty["signups"]) == 40
    assert twenty == one
