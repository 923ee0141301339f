"""MOVE and CANCEL MEETING: learners who were reminded are told; the others get the new reminder."""

from __future__ import annotations

from datetime import datetime

import time_machine
from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for
from models.circles import Meeting, Rsvp, Signup
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
    assert replies[2] == "Move Python, Tue 1 Dec, 18:00 to Thu 3 Dec, 18:00? Reply YES or NO."
    assert replies[3] == "Moved: Python now meets Thu 3 Dec, 18:00. Learners will hear about it."
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
    assert replies[-2] == "Cancel Python, Tue 8 Dec, 18:00? Reply YES or NO."
    assert replies[-1] == "Cancelled: Python on Tue 8 Dec, 18:00."
    run_tick("2026-11-29T15:00:00+00:00", run_jobs)
    converse(facilitator, "2026-11-30T08:00:00+00:00", run_jobs, "CANCEL MEETING", "yes")
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
        "Sorry, you can't do that here."
    )
    converse(facilitator, "2026-11-25T08:00:00+00:00", run_jobs, "CANCEL")
    assert facilitator.last_reply().startswith("You won't get any more messages")
