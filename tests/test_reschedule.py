"""MOVE and CANCEL MEETING: learners who were reminded are told; the others get the new reminder;
the facilitator is told which, and picks the meeting from a list that comes a page per SMS."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for
from bot.sms import segments
from models.circles import Circle, Meeting, Rsvp, Signup
from tests.support import world
from tests.support.timeline import at, tick_at

run_tick = tick_at


def setup() -> None:
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        circle = world.circle(session, team, "sms:+15550000011", datetime(2026, 12, 1, 18, 0),
                              weeks=2)  # fmt: skip
        contact = contact_for(session, "sms", "+15550000200")
        session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                           contact_id=contact.id))  # fmt: skip


def converse(person, iso: str, run_jobs, *texts: str) -> list[str]:
    with time_machine.travel(at(iso), tick=True):
        for text in texts:
            person.says(text)
            run_jobs()
    return person.replies()


def test_moving_a_meeting_before_its_reminder_moves_the_reminder_too(sms_user, run_jobs):
    setup()
    facilitator, learner = sms_user("+15550000011"), sms_user("+15550000200")
    replies = converse(facilitator, "2026-11-25T08:00:00+00:00", run_jobs,
                       "MOVE", "1", "Thursday 3 Dec 18:00", "yes")  # fmt: skip
    assert replies[0] == (
        "Which meeting?\n1) Python, Tue 1 Dec, 18:00\n2) Python, Tue 8 Dec, 18:00\n"
        "Reply with the number."
    )
    assert replies[1] == 'Python, Tue 1 Dec, 18:00: when should it be instead? e.g. "Thursday 6pm".'
    told = "Nobody has been reminded yet: the reminder on Tue 1 Dec, 18:00 will give the new time."
    assert (
        replies[2] == f"Move Python, Tue 1 Dec, 18:00 to Thu 3 Dec, 18:00? {told} Reply YES or NO."
    )
    assert replies[3] == f"Moved: Python now meets Thu 3 Dec, 18:00. {told}"
    run_tick("2026-11-29T15:00:00+00:00", run_jobs)
    assert learner.replies() == []
    run_tick("2026-12-01T15:00:00+00:00", run_jobs)
    assert learner.last_reply().startswith("Reminder: Python, Thu 3 Dec, 18:00")


def test_moving_after_the_reminder_tells_learners_and_asks_again(sms_user, run_jobs):
    setup()
    facilitator, learner = sms_user("+15550000011"), sms_user("+15550000200")
    run_tick("2026-11-29T15:00:00+00:00", run_jobs)
    converse(learner, "2026-11-29T16:00:00+00:00", run_jobs, "yes")
    converse(facilitator, "2026-11-30T08:00:00+00:00", run_jobs,
             "MOVE", "1", "Wednesday 2 Dec 17:00", "yes")  # fmt: skip
    assert learner.last_reply() == (
        "Python has moved to Wed 2 Dec, 17:00. Reply YES if you're coming, NO if not."
    )
    with session_scope() as session:
        assert session.exec(select(Rsvp)).all() == []
    assert converse(learner, "2026-11-30T09:00:00+00:00", run_jobs, "no")[-1] == (
        "Thanks for letting us know. We'll miss you at Python."
    )


def test_cancelling_tells_reminded_learners_and_sends_no_reminder_otherwise(sms_user, run_jobs):
    setup()
    facilitator, learner = sms_user("+15550000011"), sms_user("+15550000200")
    replies = converse(facilitator, "2026-11-25T08:00:00+00:00", run_jobs,
                       "CANCEL MEETING", "2", "yes")  # fmt: skip
    nobody = "Nobody has been reminded of it, so no notice goes out."
    assert replies[-2] == f"Cancel Python, Tue 8 Dec, 18:00? {nobody} Reply YES or NO."
    assert replies[-1] == f"Cancelled: Python on Tue 8 Dec, 18:00. {nobody}"
    run_tick("2026-11-29T15:00:00+00:00", run_jobs)
    replies = converse(facilitator, "2026-11-30T08:00:00+00:00", run_jobs, "CANCEL MEETING", "yes")
    assert replies[-2] == (
        "Cancel Python, Tue 1 Dec, 18:00? Once you say YES, the 1 already reminded get a notice. "
        "Reply YES or NO."
    )
    assert replies[-1] == (
        "Cancelled: Python on Tue 1 Dec, 18:00. The 1 already reminded get a notice now."
    )
    assert learner.last_reply() == (
        "Python on Tue 1 Dec, 18:00 is cancelled. Sorry! We'll remind you of the next one."
    )
    run_tick("2026-12-06T15:00:00+00:00", run_jobs)
    assert learner.last_reply().startswith("Python on Tue 1 Dec")  # no reminder for 8 Dec
    with session_scope() as session:
        statuses = session.exec(select(Meeting.status).order_by(Meeting.number)).all()
    assert statuses == ["cancelled", "cancelled"]


def test_cancel_alone_is_still_stop_and_a_learner_cannot_move(sms_user, run_jobs):
    setup()
    facilitator, learner = sms_user("+15550000011"), sms_user("+15550000200")
    assert converse(learner, "2026-11-25T08:00:00+00:00", run_jobs, "MOVE")[-1] == (
        "Sorry, MOVE is for facilitators. Try NEXT, or reply HELP to see what you can do."
    )
    converse(facilitator, "2026-11-25T08:00:00+00:00", run_jobs, "CANCEL")
    assert facilitator.last_reply().startswith("You won't get any more messages")


def add_learner(number: str) -> None:
    """Another learner of the setup's circle, joined just now."""
    with session_scope() as session:
        circle = session.exec(select(Circle)).one()
        contact = contact_for(session, "sms", number)
        session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                           contact_id=contact.id))  # fmt: skip


@pytest.mark.parametrize(
    ("new_time", "others_hear", "reminder_at"),
    [
        ("Wednesday 2 Dec 17:00", "the usual reminder on Mon 30 Nov, 17:00",
         "2026-11-30T14:00:00+00:00"),
        ("Tuesday 1 Dec 12:00", "the reminder now too", "2026-11-30T08:05:00+00:00"),
    ],
)  # fmt: skip
def test_after_the_reminder_those_reminded_get_a_notice_and_a_newcomer_the_reminder(
    sms_user, run_jobs, new_time, others_hear, reminder_at
):
    setup()
    facilitator, amina = sms_user("+15550000011"), sms_user("+15550000200")
    run_tick("2026-11-29T15:00:00+00:00", run_jobs)
    add_learner("+15550000201")  # joined after the reminder went out
    baraka = sms_user("+15550000201")
    replies = converse(facilitator, "2026-11-30T08:00:00+00:00", run_jobs,
                       "MOVE", "1", new_time, "yes")  # fmt: skip
    when = replies[-2].split(" to ")[1].split("?")[0]
    hears = f"The 1 already reminded get a notice now; the other 1, {others_hear}."
    assert replies[-2] == f"Move Python, Tue 1 Dec, 18:00 to {when}? {hears} Reply YES or NO."
    assert replies[-1] == f"Moved: Python now meets {when}. {hears}"
    notice = f"Python has moved to {when}. Reply YES if you're coming, NO if not."
    assert amina.last_reply() == notice
    assert baraka.replies() == []
    told_facilitator = len(facilitator.replies())
    run_tick(reminder_at, run_jobs)
    assert baraka.replies() == [
        f"Reminder: Python, {when} at Library. Reply YES if you're coming, NO if not."
    ]
    assert amina.last_reply() == notice  # the notice was her reminder: nothing twice
    assert len(facilitator.replies()) == told_facilitator


def test_moving_a_meeting_nobody_is_in_says_there_is_nobody_to_tell(sms_user, run_jobs):
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        world.circle(session, team, "sms:+15550000011", datetime(2026, 12, 1, 18, 0), weeks=1)
    replies = converse(sms_user("+15550000011"), "2026-11-25T08:00:00+00:00", run_jobs,
                       "MOVE", "Thursday 3 Dec 18:00", "yes")  # fmt: skip
    assert replies[-1] == "Moved: Python now meets Thu 3 Dec, 18:00. No learners to tell yet."


def three_circles() -> None:
    """One facilitator's three circles, two meetings each: six meetings to choose from."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        for name, first in [("Python", datetime(2026, 12, 1, 18, 0)),
                            ("Kiswahili", datetime(2026, 12, 2, 17, 0)),
                            ("Excel", datetime(2026, 12, 3, 16, 0))]:  # fmt: skip
            world.circle(session, team, "sms:+15550000011", first, name=name, weeks=2)


def test_the_meetings_to_choose_from_come_a_page_per_sms_and_keep_their_numbers(sms_user, run_jobs):
    three_circles()
    facilitator = sms_user("+15550000011")
    replies = converse(facilitator, "2026-11-25T08:00:00+00:00", run_jobs,
                       "MOVE", "MORE", "more", "5")  # fmt: skip
    assert replies == [
        "Which meeting?\n1) Python, Tue 1 Dec, 18:00\n2) Kiswahili, Wed 2 Dec, 17:00\n"
        "3) Excel, Thu 3 Dec, 16:00\n+3 more: reply MORE\nReply with the number.",
        "Which meeting?\n4) Python, Tue 8 Dec, 18:00\n5) Kiswahili, Wed 9 Dec, 17:00\n"
        "6) Excel, Thu 10 Dec, 16:00\nReply with the number.",
        replies[0],  # past the last page, the first again
        'Kiswahili, Wed 9 Dec, 17:00: when should it be instead? e.g. "Thursday 6pm".',
    ]
    assert all(segments(reply) == 1 for reply in replies)


def test_a_swahili_facilitator_pages_with_zaidi(sms_user, run_jobs):
    three_circles()
    facilitator = sms_user("+15550000011")
    replies = converse(facilitator, "2026-11-25T08:00:00+00:00", run_jobs,
                       "LUGHA sw", "CANCEL MEETING", "ZAIDI")  # fmt: skip
    assert replies[1].endswith("\n+3 zaidi: jibu ZAIDI\nJibu kwa nambari.")
    assert replies[2].startswith("Mkutano upi?\n4) Python, Jumanne 8 Des, 18:00\n")
    assert all(segments(reply) == 1 for reply in replies[1:])


def test_after_the_first_meeting_moves_the_open_circles_show_the_new_start(sms_user, run_jobs):
    setup()
    facilitator, newcomer = sms_user("+15550000011"), sms_user("+15550000300")
    [before] = converse(newcomer, "2026-11-25T08:00:00+00:00", run_jobs, "CIRCLES")
    assert before.startswith("Python, Library (Nakuru): Tue 18:00 from 1 Dec. JOIN ")
    converse(facilitator, "2026-11-25T08:05:00+00:00", run_jobs,
             "MOVE", "1", "Thursday 3 Dec 17:00", "yes")  # fmt: skip
    after = converse(newcomer, "2026-11-25T08:10:00+00:00", run_jobs, "CIRCLES")[-1]
    assert after.startswith("Python, Library (Nakuru): Thu 17:00 from 3 Dec. JOIN ")
    converse(facilitator, "2026-11-25T08:15:00+00:00", run_jobs, "CANCEL MEETING", "1", "yes")
    after = converse(newcomer, "2026-11-25T08:20:00+00:00", run_jobs, "CIRCLES")[-1]
    assert after.startswith("Python, Library (Nakuru): Tue 18:00 from 8 Dec. JOIN ")


def test_a_meeting_moved_close_to_the_one_before_is_reminded_after_that_one_ends(
    sms_user, run_jobs
):
    setup()
    facilitator, amina = sms_user("+15550000011"), sms_user("+15550000200")
    run_tick("2026-11-29T15:00:00+00:00", run_jobs)  # the reminder of Tue 1 Dec
    replies = converse(facilitator, "2026-11-30T08:00:00+00:00", run_jobs,
                       "MOVE", "2", "Wednesday 2 Dec 18:00", "yes")  # fmt: skip
    assert replies[-1] == (
        "Moved: Python now meets Wed 2 Dec, 18:00. Nobody has been reminded yet: "
        "the reminder on Tue 1 Dec, 19:30 will give the new time."
    )
    run_tick("2026-12-01T16:29:00+00:00", run_jobs)
    assert "Wed 2 Dec" not in amina.last_reply()
    run_tick("2026-12-01T16:30:00+00:00", run_jobs)
    assert amina.last_reply().startswith("Reminder: Python, Wed 2 Dec, 18:00")


def test_back_to_the_list_pages_it_again(sms_user, run_jobs):
    three_circles()
    replies = converse(sms_user("+15550000011"), "2026-11-25T08:00:00+00:00", run_jobs,
                       "MOVE", "2", "BACK", "MORE")  # fmt: skip
    assert replies[-1].startswith("Which meeting?\n4) Python, Tue 8 Dec, 18:00\n")
