"""FORGET: one confirmation, then the person's name, addresses, goals and words are gone from
every table and every page, while the anonymous counts stay (PRODUCT "Everyone", issue 13)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select as core_select
from sqlmodel import SQLModel, select

from bot.db import session_scope
from bot.identity import contact_for, find_contact
from handlers import circle_report
from jobs import tick
from models.circles import Circle, Facilitation, Meeting, Rsvp, Signup
from models.conversation import Conversation, PendingDialog
from models.feedback import FACILITATOR, Reflection, SurveyResponse
from models.feedback import LEARNER as LEARNS
from models.people import Contact, Person
from models.teams import FACILITATOR as TEAM_FACILITATOR
from models.teams import TeamMember
from tests.support import world
from tests.support.timeline import tick_at

NOW = datetime.fromisoformat("2026-11-22T09:00:00+00:00")
ORGANIZER, FACILITATOR_NUMBER, CO_FACILITATOR = "+254700000001", "+254700000002", "+254700000003"
LEARNER, TELEGRAM_ID = "+254711000001", 918273645
NAME, GOAL = "Amina Wanjiru", "Learn Python to analyse my sales data"
CONFIRM = (
    "FORGET erases your name, numbers, goals and answers for good. Attendance counts stay, "
    "with no name. Erase it all? Reply YES or NO."
)
CONFIRM_BUSY = (
    "That stops what we were doing. FORGET erases your name, numbers, goals and answers for "
    "good; counts stay, unnamed. Reply YES or NO."
)
DONE = (
    "Done: your name, numbers, goals and answers are erased. This is our last message. "
    "Write any time to start afresh."
)
KEPT = "OK, nothing was erased."
NOTHING = "We hold no name, circles or answers for you, so there's nothing to erase."
REPORTED = datetime.fromisoformat("2026-12-20T09:00:00+00:00")  # Python's two meetings are past
STOPPED = "You won't get any more messages from circlebot. Reply START to resume."


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def make_circle() -> str:
    """Python meets from Tue 1 Dec in Nakuru; Amina is its learner. Returns the join code."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"sms:{ORGANIZER}")
        circle = world.circle(
            session, team, f"sms:{FACILITATOR_NUMBER}", datetime(2026, 12, 1, 18, 0)
        )
        contact = contact_for(session, "sms", LEARNER)
        session.get(Person, contact.person_id).name = NAME
        session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                           contact_id=contact.id, goal=GOAL))  # fmt: skip
        return circle.join_code


def person_at(address: str) -> Person | None:
    with session_scope() as session:
        contact = find_contact(session, "sms", address)
        return session.get(Person, contact.person_id) if contact else None


def says(user, run_jobs, *texts: str) -> list[str]:
    """Send each text in turn, handling it; return the replies to them."""
    before = len(user.replies())
    for text in texts:
        user.says(text)
        run_jobs()
    return user.replies()[before:]


def after_last_message() -> None:
    """A minute on: the tick erases the address FORGET kept for its last message."""
    with time_machine.travel(NOW + timedelta(minutes=1)):
        tick.run()


# --- transcripts ----------------------------------------------------------------------------


def test_forget_asks_once_then_erases_and_the_number_starts_afresh(sms_user, run_jobs):
    code = make_circle()
    amina = sms_user(LEARNER)
    assert says(amina, run_jobs, "FORGET", "YES") == [CONFIRM, DONE]
    with session_scope() as session:
        [signup] = session.exec(select(Signup)).all()
        forgotten = session.get(Person, signup.person_id)
        assert (forgotten.name, signup.goal) == (None, None)
        assert forgotten.anonymized_at is not None
    after_last_message()
    assert person_at(LEARNER) is None  # the address is known to nobody now
    # Writing again, Amina is someone new: asked her name, her old circle not hers.
    assert says(amina, run_jobs, "NEXT", f"JOIN {code}") == [
        "You have no upcoming meetings. Reply CIRCLES to find a circle.",
        "Welcome! What's your name?",
    ]
    assert person_at(LEARNER).id != forgotten.id


def test_no_keeps_everything(sms_user, run_jobs):
    make_circle()
    amina = sms_user(LEARNER)
    assert says(amina, run_jobs, "Forget me", "no thanks") == [CONFIRM, KEPT]
    assert person_at(LEARNER).name == NAME


def test_forget_in_the_middle_of_another_dialog_says_that_one_ends(sms_user, run_jobs):
    make_circle()
    amina = sms_user(LEARNER)
    assert says(amina, run_jobs, "JOIN") == [
        "What's the circle's code? It's 4 characters, e.g. PY7K."
    ]
    assert says(amina, run_jobs, "FORGET", "YES") == [CONFIRM_BUSY, DONE]
    with session_scope() as session:
        statuses = session.exec(select(Conversation.flow, Conversation.status)).all()
    assert sorted(statuses) == [("forget", "done"), ("join", "replaced")]


def test_forget_twice_asks_again_and_after_it_there_is_nothing_to_erase(sms_user, run_jobs):
    make_circle()
    amina = sms_user(LEARNER)
    assert says(amina, run_jobs, "FORGET", "FORGET", "YES") == [CONFIRM, CONFIRM, DONE]
    after_last_message()
    assert says(amina, run_jobs, "FORGET") == [NOTHING]


def test_stop_during_the_confirmation_ends_it_and_erases_nothing(sms_user, run_jobs):
    make_circle()
    amina = sms_user(LEARNER)
    assert says(amina, run_jobs, "FORGET", "STOP") == [CONFIRM, STOPPED]
    assert says(amina, run_jobs, "START")[0].startswith("Welcome back!")
    assert person_at(LEARNER).name == NAME
    with session_scope() as session:
        assert session.exec(select(Signup.goal)).all() == [GOAL]
        assert session.exec(select(Conversation.status)).all() == ["stopped"]


def test_in_swahili_on_telegram_the_answer_is_tapped(telegram_user, run_jobs):
    with session_scope() as session:
        contact = contact_for(session, "telegram", str(TELEGRAM_ID))
        person = session.get(Person, contact.person_id)
        person.name, person.language = NAME, "sw"
    amina = telegram_user(TELEGRAM_ID)
    amina.says("NISAHAU")
    run_jobs()
    assert amina.last_reply().startswith("FORGET inafuta kabisa jina lako")
    assert amina.buttons() == ["Ndiyo", "Hapana"]
    amina.taps("Ndiyo")
    run_jobs()
    assert amina.last_reply().startswith("Tumemaliza: jina, nambari, malengo")


def test_a_short_name_blanks_the_messages_that_name_her_and_no_others(settings):
    from bot.erasure import forget_person
    from models.message import OUT, SENT, Message

    with session_scope() as session:
        ann = contact_for(session, "sms", LEARNER)
        session.get(Person, ann.person_id).name = "Ann"
        facilitator = contact_for(session, "sms", FACILITATOR_NUMBER)
        texts = ("Ann joined Python.", "New: ANN, Baraka.", "Announcement: planning day")
        for text in texts:
            session.add(Message(direction=OUT, channel="sms", contact_id=facilitator.id,
                                body=text, status=SENT))  # fmt: skip
        session.flush()
        forget_person(session, ann.person_id, NOW, reason="test")
    with session_scope() as session:
        bodies = session.exec(select(Message.body).order_by(Message.id)).all()
    assert bodies == ["", "", "Announcement: planning day"]


def make_facilitated_circle() -> None:
    """Python has two facilitators, Pat and Chris, in a team whose organizer is Olive."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"sms:{ORGANIZER}")
        circle = world.circle(
            session, team, f"sms:{FACILITATOR_NUMBER}", datetime(2026, 12, 1, 18, 0)
        )
        chris = world.person_id(session, f"sms:{CO_FACILITATOR}")
        session.add(Facilitation(circle_id=circle.id, person_id=chris))
        session.add(TeamMember(team_id=team.id, person_id=chris, role=TEAM_FACILITATOR))
        learner = contact_for(session, "sms", LEARNER)
        session.add(Signup(circle_id=circle.id, person_id=learner.person_id,
                           contact_id=learner.id, goal=GOAL))  # fmt: skip


def test_a_facilitator_who_forgets_leaves_the_circle_and_the_others_are_told(sms_user, run_jobs):
    make_facilitated_circle()
    pat, chris, olive = (sms_user(n) for n in (FACILITATOR_NUMBER, CO_FACILITATOR, ORGANIZER))
    assert says(pat, run_jobs, "FORGET", "YES") == [CONFIRM, DONE]
    assert chris.replies() == [
        "A co-facilitator of Python asked us to erase their details; they no longer facilitate it."
    ]
    assert olive.replies() == [
        "A member of Nakuru Libraries asked us to erase their details; they're no longer in "
        "the team."
    ]
    # The last facilitator going leaves the circle to the organizer, who is told so.
    assert says(chris, run_jobs, "FORGET", "YES")[-1] == DONE
    assert olive.last_reply() == (
        "A member of Nakuru Libraries asked us to erase their details; they're no longer in "
        "the team. Now without a facilitator: Python."
    )
    with session_scope() as session:
        assert session.exec(select(Facilitation)).all() == []
        assert session.exec(select(TeamMember.role)).all() == ["organizer"]


def test_the_digest_flags_a_circle_left_without_a_facilitator(sms_user, run_jobs):
    make_circle()
    says(sms_user(FACILITATOR_NUMBER), run_jobs, "FORGET", "YES")
    olive = sms_user(ORGANIZER)
    tick_at("2026-11-23T05:00:00+00:00", run_jobs)  # Monday 08:00 in Nairobi
    assert olive.last_reply().endswith(
        "Needs a facilitator:\nPython: no facilitator left; learners: 1"
    )


# --- the table test -------------------------------------------------------------------------

WORDS = {
    "went_well": "The pairs worked brilliantly tonight",
    "to_change": "Start the projector before people come",
    "worked_well": "Amina loved the pair work",
    "improve": "More exercises on pandas please",
    "next_steps": "Join the Excel circle in January",
    "surprised": "So many came after the market",
    "advice": "Bring extension cables to every meeting",
}


def make_rich_world(sms_user, run_jobs) -> dict:
    """Amina, on SMS and Telegram, joined Python (finished, reported, with a public page) by
    message, and co-facilitates Excel; she reflected, answered surveys, is in a dialog on
    Telegram and has a prompt waiting. Others took part too."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"sms:{ORGANIZER}")
        python = world.circle(session, team, f"sms:{FACILITATOR_NUMBER}",
                              datetime(2026, 12, 1, 18, 0), weeks=2)  # fmt: skip
        excel = world.circle(session, team, f"sms:{CO_FACILITATOR}", datetime(2026, 12, 2, 18, 0),
                             name="Excel", course="Excel")  # fmt: skip
        ids = {"python": python.id, "excel": excel.id, "code": python.join_code}
    amina = sms_user(LEARNER)
    says(amina, run_jobs, f"JOIN {ids['code']}", NAME, GOAL, "YES")
    with session_scope() as session:
        sms = find_contact(session, "sms", LEARNER)
        amina_id = ids["person"] = sms.person_id
        telegram = Contact(person_id=amina_id, channel="telegram", address=str(TELEGRAM_ID))
        session.add(telegram)
        other = contact_for(session, "sms", "+254711000002")
        session.get(Person, other.person_id).name = "Baraka"
        session.add(Signup(circle_id=ids["python"], person_id=other.person_id,
                           contact_id=other.id, goal="Automate my shop's accounts"))  # fmt: skip
        session.add(Facilitation(circle_id=ids["excel"], person_id=amina_id))
        session.add(TeamMember(team_id=team.id, person_id=amina_id, role=TEAM_FACILITATOR))
        session.flush()
        signups = session.exec(select(Signup).where(Signup.circle_id == ids["python"])).all()
        meetings = session.exec(
            select(Meeting).where(Meeting.circle_id.in_([ids["python"], ids["excel"]]))
        ).all()
        pat = world.person_id(session, f"sms:{FACILITATOR_NUMBER}")
        for meeting in meetings:
            if meeting.circle_id == ids["python"]:
                session.add_all(
                    [Rsvp(meeting_id=meeting.id, signup_id=s.id, attending=True) for s in signups]
                )
                session.add(Reflection(meeting_id=meeting.id, person_id=pat, rating=4,
                                       attendance=2, went_well="Good questions"))  # fmt: skip
            elif meeting.number == 1:
                session.add(Reflection(meeting_id=meeting.id, person_id=amina_id, rating=5,
                                       attendance=7, went_well=WORDS["went_well"],
                                       to_change=WORDS["to_change"]))  # fmt: skip
        session.add(SurveyResponse(circle_id=ids["python"], person_id=amina_id, role=LEARNS,
                                   goal_met=5, worked_well=WORDS["worked_well"],
                                   improve=WORDS["improve"], next_steps=WORDS["next_steps"],
                                   completed_at=NOW))  # fmt: skip
        session.add(SurveyResponse(circle_id=ids["python"], person_id=other.person_id,
                                   role=LEARNS, goal_met=3, worked_well="Great venue",
                                   completed_at=NOW))  # fmt: skip
        session.add(SurveyResponse(circle_id=ids["excel"], person_id=amina_id, role=FACILITATOR,
                                   rating=4, surprised=WORDS["surprised"],
                                   advice=WORDS["advice"], run_again=True))  # fmt: skip
        python_row = session.get(Circle, ids["python"])
        python_row.status, python_row.ended_at = "finished", NOW
        python_row.report_token = ids["token"] = "Xq3v9Lk2Pz8Rt5Wm1Nb7Yc"
        python_row.report_sent_at = NOW
        session.flush()
        session.add(Conversation(contact_id=telegram.id, flow="join", step="goal",
                                 data={"circle": "Excel", "name": NAME, "goal": GOAL},
                                 expires_at=NOW + timedelta(hours=20)))  # fmt: skip
        # Waiting for her Telegram dialog to end.
        session.add(PendingDialog(contact_id=telegram.id, flow="learner_survey",
                                  data={"circle_id": ids["python"], "circle": "Python"},
                                  dedupe_key=f"survey:{ids['python']}:{amina_id}",
                                  expires_at=NOW + timedelta(days=3)))  # fmt: skip
    says(amina, run_jobs, "NEXT", "I might be late on Tuesday, the matatu is slow")
    return ids


def public_page(client, token: str) -> str:
    """The report page as anyone with its address sees it, once both meetings are past."""
    with time_machine.travel(REPORTED):
        return client.get(f"/reports/{token}").get_data(as_text=True)


def every_value() -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every column of every row of every table."""
    found = []
    with session_scope() as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in session.execute(core_select(table)).mappings():
                for column, value in row.items():
                    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
                    found.append((table.name, column, text))
    return found


def report_figures(circle_ids: list[int]) -> dict:
    with session_scope() as session:
        reports = circle_report.gather(session, circle_ids, REPORTED)
        return {
            circle_id: (r.meetings, r.ratings, r.goals, r.facilitator_ratings, r.run_again)
            for circle_id, r in reports.items()
        }


def test_after_forget_no_column_anywhere_holds_her_and_the_counts_stay(sms_user, run_jobs, client):
    ids = make_rich_world(sms_user, run_jobs)
    amina = sms_user(LEARNER)
    secrets = [NAME, "Amina", "Wanjiru", LEARNER, str(TELEGRAM_ID), GOAL, *WORDS.values(),
               "the matatu is slow"]  # fmt: skip
    everything = " ".join(text for *_, text in every_value())
    assert all(secret in everything for secret in secrets)  # the world holds them all
    page = public_page(client, ids["token"])
    assert WORDS["worked_well"] in page and "Great venue" in page
    figures = report_figures([ids["python"], ids["excel"]])

    assert says(amina, run_jobs, "FORGET", "YES") == [CONFIRM, DONE]
    # Until that last message is out its address stays, on that one contact only.
    left = [(table, column) for table, column, text in every_value() if LEARNER in text]
    assert left == [("contact", "address")]
    after_last_message()

    held = [(table, column, secret) for table, column, text in every_value()
            for secret in secrets if secret in text]  # fmt: skip
    assert held == []
    assert report_figures([ids["python"], ids["excel"]]) == figures
    page = public_page(client, ids["token"])
    assert WORDS["worked_well"] not in page and "Great venue" in page
    with session_scope() as session:
        person = session.get(Person, ids["person"])
        assert person.anonymized_at is not None
        assert (
            session.exec(select(Facilitation).where(Facilitation.person_id == ids["person"])).all()
            == []
        )
        # Her answers stay as numbers: RSVPs, ratings, attendance, how far she got.
        assert session.exec(
            select(SurveyResponse.goal_met).where(SurveyResponse.person_id == ids["person"],
                                                  SurveyResponse.role == LEARNS)
        ).all() == [5]  # fmt: skip
