"""RSVP by reply, NEXT and LEAVE (PRODUCT "Learner" 3-4)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for
from models.circles import Circle, Meeting, Rsvp, Signup
from tests.support import world
from tests.support.timeline import says_at, tick_at

remind = tick_at


def make_circle(name: str, first: datetime, learners: list[str], facilitator: str) -> int:
    with session_scope() as session:
        team = world.team(session, f"{name} team", "Africa/Nairobi", "sms:+15559990000")
        circle = world.circle(session, team, facilitator, first, name=name,
                              venue=f"{name} Library")  # fmt: skip
        for handle in learners:
            channel, _, address = handle.partition(":")
            contact = contact_for(session, channel, address)
            session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                               contact_id=contact.id, goal="learn"))  # fmt: skip
        return circle.id


def answers() -> list[tuple[int, bool]]:
    with session_scope() as session:
        rows = session.exec(
            select(Meeting.number, Rsvp.attending).join(Meeting, Meeting.id == Rsvp.meeting_id)
        ).all()
        return sorted(rows)


def test_yes_after_a_reminder_is_an_rsvp_and_can_change_until_the_start(sms_user, run_jobs):
    make_circle("Python", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"], "sms:+15559990001")
    amina = sms_user("+254711000001")
    remind("2026-11-29T15:00:00+00:00", run_jobs)
    reply = says_at(amina, "2026-11-29T16:00:00+00:00", "yes I'll be there", run_jobs)
    assert reply == "Thanks! See you at Python, Tue 1 Dec, 18:00."
    assert answers() == [(1, True)]
    reply = says_at(amina, "2026-12-01T14:00:00+00:00", "sorry can't make it", run_jobs)
    assert reply == "Thanks for letting us know. We'll miss you at Python."
    assert answers() == [(1, False)]
    reply = says_at(amina, "2026-12-01T15:05:00+00:00", "Yes!", run_jobs)
    assert reply == "Python has already started, so I can't change your answer now."
    assert answers() == [(1, False)]


def test_swahili_replies_count_too(sms_user, run_jobs):
    make_circle("Python", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"], "sms:+15559990001")
    amina = sms_user("+254711000001")
    says_at(amina, "2026-11-20T10:00:00+00:00", "LUGHA sw", run_jobs)
    remind("2026-11-29T15:00:00+00:00", run_jobs)
    assert says_at(amina, "2026-11-29T16:00:00+00:00", "sitaweza kuja", run_jobs) == (
        "Asante kwa kutujulisha. Tutakukosa kwenye Python."
    )
    assert says_at(amina, "2026-11-29T17:00:00+00:00", "ndiyo 👍", run_jobs) == (
        "Asante! Tutaonana kwenye Python, Jumanne 1 Des, 18:00."
    )


def test_without_a_reminder_yes_means_the_next_meeting_of_their_only_circle(sms_user, run_jobs):
    make_circle("Python", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"], "sms:+15559990001")
    amina = sms_user("+254711000001")
    assert says_at(amina, "2026-11-25T08:00:00+00:00", "Y", run_jobs) == (
        "Thanks! See you at Python, Tue 1 Dec, 18:00."
    )
    assert answers() == [(1, True)]


def test_a_learner_reminded_by_two_circles_on_one_day_is_asked_which(sms_user, run_jobs):
    learner = ["sms:+254711000001"]
    make_circle("Python", datetime(2026, 12, 1, 18, 0), learner, "sms:+15559990001")
    make_circle("Kiswahili Poetry", datetime(2026, 12, 1, 10, 0), learner, "sms:+15559990002")
    amina = sms_user("+254711000001")
    remind("2026-11-29T15:00:00+00:00", run_jobs)
    assert len(amina.replies()) == 2
    question = says_at(amina, "2026-11-29T16:00:00+00:00", "yes", run_jobs)
    assert question.startswith("Which circle is your answer for?\n1) ")
    assert (
        "Python, Tue 1 Dec, 18:00" in question and "Kiswahili Poetry, Tue 1 Dec, 10:00" in question
    )
    number = "1" if question.split("\n")[1].startswith("1) Python") else "2"
    assert says_at(amina, "2026-11-29T16:01:00+00:00", number, run_jobs) == (
        "Thanks! See you at Python, Tue 1 Dec, 18:00."
    )
    with session_scope() as session:
        rows = session.exec(select(Rsvp.attending)).all()
    assert rows == [True]


def test_without_reminders_a_learner_in_two_circles_is_asked_which(sms_user, run_jobs):
    learner = ["sms:+254711000001"]
    make_circle("Python", datetime(2026, 12, 1, 18, 0), learner, "sms:+15559990001")
    make_circle("Poetry", datetime(2026, 12, 3, 10, 0), learner, "sms:+15559990002")
    amina = sms_user("+254711000001")
    question = says_at(amina, "2026-11-25T08:00:00+00:00", "no", run_jobs)
    assert question == (
        "Which circle is your answer for?\n1) Python, Tue 1 Dec, 18:00\n"
        "2) Poetry, Thu 3 Dec, 10:00\nReply with the number."
    )
    assert says_at(amina, "2026-11-25T08:01:00+00:00", "3", run_jobs).startswith(
        "Please reply with a number from 1 to 2."
    )
    assert says_at(amina, "2026-11-25T08:02:00+00:00", "poetry", run_jobs) == (
        "Thanks for letting us know. We'll miss you at Poetry."
    )


def test_yes_from_someone_in_no_circle_gets_the_hint(sms_user, run_jobs):
    amina = sms_user("+254711000001")
    amina.says("yes")
    run_jobs()
    assert amina.last_reply() == "Sorry, I didn't get that. Try CIRCLES, or reply HELP."


def test_the_facilitators_copy_shows_the_rsvps_so_far(sms_user, run_jobs):
    make_circle("Python", datetime(2026, 12, 1, 18, 0),
                ["sms:+254711000001", "sms:+254711000002"], "sms:+15559990001")  # fmt: skip
    says_at(sms_user("+254711000001"), "2026-11-25T08:00:00+00:00", "yes", run_jobs)
    remind("2026-11-29T15:00:00+00:00", run_jobs)
    copy = sms_user("+15559990001").last_reply()
    assert copy.startswith('Learners reminded: 2. "Reminder: Python, Tue 1 Dec, 18:00')
    assert copy.endswith("RSVPs so far: 1 yes, 0 no.")


def test_rsvp_on_telegram(telegram_user, run_jobs):
    make_circle("Python", datetime(2026, 12, 1, 18, 0), ["telegram:5150"], "sms:+15559990001")
    ann = telegram_user(5150)
    remind("2026-11-29T15:00:00+00:00", run_jobs)
    assert ann.last_reply().startswith("Reminder: Python, Tue 1 Dec, 18:00")
    assert says_at(ann, "2026-11-29T16:00:00+00:00", "👍", run_jobs) == (
        "Thanks! See you at Python, Tue 1 Dec, 18:00."
    )


def in_python_and_poetry_having_said_yes_to_python(sms_user, run_jobs):
    """Amina, in two circles, who answered Python's reminder yes (picking it as circle 1)."""
    learner = ["sms:+254711000001"]
    make_circle("Python", datetime(2026, 12, 1, 18, 0), learner, "sms:+15559990001")
    make_circle("Poetry", datetime(2026, 12, 3, 10, 0), learner, "sms:+15559990002")
    amina = sms_user("+254711000001")
    says_at(amina, "2026-11-25T08:00:00+00:00", "yes", run_jobs)
    says_at(amina, "2026-11-25T08:01:00+00:00", "1", run_jobs)
    return amina


def test_next_shows_each_circles_next_meeting_and_the_answer(sms_user, run_jobs):
    amina = in_python_and_poetry_having_said_yes_to_python(sms_user, run_jobs)
    assert says_at(amina, "2026-11-25T09:00:00+00:00", "NEXT", run_jobs) == (
        "Python: Tue 1 Dec, 18:00 at Python Library. You said you're coming.\n"
        "Poetry: Thu 3 Dec, 10:00 at Poetry Library. Reply YES or NO to let us know."
    )
    # After Python's first meeting, NEXT moves on to its second.
    assert says_at(amina, "2026-12-02T09:00:00+00:00", "next", run_jobs).startswith(
        "Poetry: Thu 3 Dec, 10:00"
    )


@pytest.mark.parametrize("word", ["IJAYO", "ujao"])
def test_next_in_swahili_is_ijayo_or_ujao(sms_user, run_jobs, word):
    make_circle("Python", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"], "sms:+15559990001")
    amina = sms_user("+254711000001")
    says_at(amina, "2026-11-25T08:00:00+00:00", "LUGHA sw", run_jobs)
    assert says_at(amina, "2026-11-25T09:00:00+00:00", word, run_jobs).startswith(
        "Python: Jumanne 1 Des, 18:00"
    )


def test_next_for_someone_without_a_circle(sms_user, run_jobs):
    make_circle("Python", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"], "sms:+15559990001")
    bob = sms_user("+254711000002")
    bob.says("NEXT")
    run_jobs()
    assert bob.last_reply() == "You have no upcoming meetings. Reply CIRCLES to find a circle."


def test_leave_confirms_tells_the_facilitator_and_stops_reminders(sms_user, run_jobs):
    make_circle("Python", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"], "sms:+15559990001")
    amina, facilitator = sms_user("+254711000001"), sms_user("+15559990001")
    with session_scope() as session:
        contact_for(session, "sms", "+254711000001")
    assert says_at(amina, "2026-11-25T08:00:00+00:00", "LEAVE", run_jobs) == (
        "Leave Python? You'll get no more reminders for it. Reply YES or NO."
    )
    assert (
        says_at(amina, "2026-11-25T08:01:00+00:00", "no", run_jobs) == "OK, you're still in Python."
    )
    says_at(amina, "2026-11-25T08:02:00+00:00", "leave", run_jobs)
    assert says_at(amina, "2026-11-25T08:03:00+00:00", "yes", run_jobs) == (
        "You've left Python. Thanks for taking part! Reply CIRCLES to find another."
    )
    assert facilitator.last_reply() == "A learner left Python. Learners now: 0."
    before = len(amina.replies())
    remind("2026-11-29T15:00:00+00:00", run_jobs)
    assert len(amina.replies()) == before


def test_leave_asks_which_circle_when_in_several(sms_user, run_jobs):
    learner = ["sms:+254711000001"]
    make_circle("Python", datetime(2026, 12, 1, 18, 0), learner, "sms:+15559990001")
    make_circle("Poetry", datetime(2026, 12, 3, 10, 0), learner, "sms:+15559990002")
    amina = sms_user("+254711000001")
    assert says_at(amina, "2026-11-25T08:00:00+00:00", "LEAVE", run_jobs) == (
        "Which circle do you want to leave?\n1) Python\n2) Poetry\nReply with the number."
    )
    says_at(amina, "2026-11-25T08:01:00+00:00", "2", run_jobs)
    says_at(amina, "2026-11-25T08:02:00+00:00", "yes", run_jobs)
    assert says_at(amina, "2026-11-25T08:03:00+00:00", "NEXT", run_jobs).startswith("Python:")


def test_three_hours_before_the_facilitator_learns_who_is_coming(sms_user, run_jobs):
    make_circle("Python", datetime(2026, 12, 1, 18, 0),
                ["sms:+254711000001", "sms:+254711000002", "sms:+254711000003"],
                "sms:+15559990001")  # fmt: skip
    remind("2026-11-29T15:00:00+00:00", run_jobs)
    says_at(sms_user("+254711000001"), "2026-11-30T08:00:00+00:00", "yes", run_jobs)
    says_at(sms_user("+254711000002"), "2026-11-30T08:00:00+00:00", "hapana", run_jobs)
    facilitator = sms_user("+15559990001")
    remind("2026-12-01T11:59:00+00:00", run_jobs)
    assert "no answer yet" not in facilitator.last_reply()
    remind("2026-12-01T12:00:00+00:00", run_jobs)
    assert facilitator.last_reply() == (
        "Python, Tue 1 Dec, 18:00: 1 coming, 1 not coming, 1 no answer yet."
    )
    before = len(facilitator.replies())
    remind("2026-12-01T12:01:00+00:00", run_jobs)
    assert len(facilitator.replies()) == before


def test_yes_after_a_meeting_ended_is_for_the_next_one(sms_user, run_jobs):
    make_circle("Python", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"], "sms:+15559990001")
    amina = sms_user("+254711000001")
    remind("2026-11-29T15:00:00+00:00", run_jobs)
    assert says_at(amina, "2026-12-01T15:30:00+00:00", "yes", run_jobs) == (
        "Python has already started, so I can't change your answer now."
    )
    assert says_at(amina, "2026-12-03T08:00:00+00:00", "yes", run_jobs) == (
        "Thanks! See you at Python, Tue 8 Dec, 18:00."
    )
    assert answers() == [(2, True)]


def test_two_circles_with_the_same_name_are_told_apart(sms_user, run_jobs):
    learner = ["sms:+254711000001"]
    make_circle("Python", datetime(2026, 12, 1, 18, 0), learner, "sms:+15559990001")
    make_circle("Python", datetime(2026, 12, 1, 10, 0), learner, "sms:+15559990002")
    amina = sms_user("+254711000001")
    remind("2026-11-29T15:00:00+00:00", run_jobs)
    question = says_at(amina, "2026-11-29T16:00:00+00:00", "yes", run_jobs)
    assert "1) Python, Tue 1 Dec, 18:00" in question or "1) Python, Tue 1 Dec, 10:00" in question
    assert "2) Python, Tue 1 Dec" in question


def test_a_reminder_arriving_mid_dialog_gets_the_yes_and_the_dialog_keeps_waiting(
    sms_user, run_jobs
):
    learner = ["sms:+254711000001"]
    make_circle("Python", datetime(2026, 12, 5, 18, 0), learner, "sms:+15559990001")
    make_circle("Poetry", datetime(2026, 12, 1, 18, 0), learner, "sms:+15559990002")
    amina = sms_user("+254711000001")
    says_at(amina, "2026-11-29T14:00:00+00:00", "LEAVE", run_jobs)
    says_at(amina, "2026-11-29T14:01:00+00:00", "1", run_jobs)  # Python: "Leave Python? YES/NO"
    remind("2026-11-29T15:00:00+00:00", run_jobs)  # Poetry's reminder lands meanwhile
    assert says_at(amina, "2026-11-29T16:00:00+00:00", "YES", run_jobs) == (
        "Thanks! See you at Poetry, Tue 1 Dec, 18:00."
    )
    assert says_at(amina, "2026-11-29T16:01:00+00:00", "no", run_jobs) == (
        "OK, you're still in Python."
    )
    with session_scope() as session:
        assert session.exec(select(Signup).where(Signup.left_at.is_not(None))).all() == []


def test_ok_thanks_without_a_reminder_is_not_an_rsvp(sms_user, run_jobs):
    make_circle("Python", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"], "sms:+15559990001")
    amina = sms_user("+254711000001")
    for text in ("ok thanks", "sawa", "fine, I'll come"):
        reply = says_at(amina, "2026-11-25T08:00:00+00:00", text, run_jobs)
        assert reply == "Sorry, I didn't get that. Try NEXT, or reply HELP."
    assert answers() == []
    remind("2026-11-29T15:00:00+00:00", run_jobs)
    assert says_at(amina, "2026-11-29T16:00:00+00:00", "fine, I'll come", run_jobs) == (
        "Thanks! See you at Python, Tue 1 Dec, 18:00."
    )


@pytest.mark.parametrize("answer", ["👍", "👍🏽", "ok", "sawa"])
def test_an_answer_to_next_is_an_rsvp_for_the_meeting_it_asked_about(sms_user, run_jobs, answer):
    amina = in_python_and_poetry_having_said_yes_to_python(sms_user, run_jobs)
    asked = says_at(amina, "2026-11-25T09:00:00+00:00", "NEXT", run_jobs)
    assert asked.endswith(
        "Poetry: Thu 3 Dec, 10:00 at Poetry Library. Reply YES or NO to let us know."
    )
    assert says_at(amina, "2026-11-25T09:01:00+00:00", answer, run_jobs) == (
        "Thanks! See you at Poetry, Thu 3 Dec, 10:00."
    )
    with session_scope() as session:
        said = session.exec(select(Meeting.circle_id, Rsvp.attending).join(Meeting)).all()
    assert len(said) == 2 and all(attending for _, attending in said)


def test_a_command_at_the_which_circle_question_leaves_it_and_runs(sms_user, run_jobs):
    learner = ["sms:+254711000001"]
    make_circle("Python", datetime(2026, 12, 1, 18, 0), learner, "sms:+15559990001")
    make_circle("Poetry", datetime(2026, 12, 3, 10, 0), learner, "sms:+15559990002")
    amina = sms_user("+254711000001")
    assert says_at(amina, "2026-11-25T08:00:00+00:00", "no", run_jobs).startswith(
        "Which circle is your answer for?"
    )
    assert says_at(amina, "2026-11-25T08:01:00+00:00", "NEXT", run_jobs) == (
        "Python: Tue 1 Dec, 18:00 at Python Library. Reply YES or NO to let us know.\n"
        "Poetry: Thu 3 Dec, 10:00 at Poetry Library. Reply YES or NO to let us know."
    )
    # The question is gone: a number now is no answer to it.
    assert says_at(amina, "2026-11-25T08:02:00+00:00", "2", run_jobs) != (
        "Thanks for letting us know. We'll miss you at Poetry."
    )
    assert answers() == []


def test_after_leaving_and_joining_again_next_shows_no_old_answer(sms_user, run_jobs):
    circle_id = make_circle("Python", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"],
                            "sms:+15559990001")  # fmt: skip
    amina = sms_user("+254711000001")
    remind("2026-11-29T15:00:00+00:00", run_jobs)
    says_at(amina, "2026-11-29T16:00:00+00:00", "no", run_jobs)
    says_at(amina, "2026-11-29T16:01:00+00:00", "LEAVE", run_jobs)
    says_at(amina, "2026-11-29T16:02:00+00:00", "yes", run_jobs)
    with session_scope() as session:
        code = session.get(Circle, circle_id).join_code
    for minute, text in enumerate([f"JOIN {code}", "Amina", "learn Python", "yes"], start=3):
        says_at(amina, f"2026-11-29T16:{minute:02}:00+00:00", text, run_jobs)
    assert amina.last_reply().startswith("You're in Python!")
    assert says_at(amina, "2026-11-29T16:10:00+00:00", "NEXT", run_jobs) == (
        "Python: Tue 1 Dec, 18:00 at Python Library. Reply YES or NO to let us know."
    )
    assert answers() == []
    assert says_at(amina, "2026-11-29T16:11:00+00:00", "yes", run_jobs) == (
        "Thanks! See you at Python, Tue 1 Dec, 18:00."
    )
    assert answers() == [(1, True)]
