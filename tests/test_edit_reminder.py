"""Reminder preview a day ahead, REMINDER and EDIT: the facilitator's own words, for one meeting,
under a line that still names the circle, day, time and place."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for
from bot.sms import segments
from models.circles import Meeting, Signup
from tests.support import world
from tests.support.timeline import says_at, tick_at

run_tick = tick_at


def setup() -> None:
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        circle = world.circle(session, team, "sms:+15550000011", datetime(2026, 12, 1, 18, 0),
                              venue="Nakuru Library")  # fmt: skip
        contact = contact_for(session, "sms", "+15550000200")
        session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                           contact_id=contact.id))  # fmt: skip


def test_the_facilitator_sees_the_reminder_a_day_before_it_goes_out(sms_user, run_jobs):
    setup()
    facilitator = sms_user("+15550000011")
    run_tick("2026-11-28T14:59:00+00:00", run_jobs)
    assert facilitator.replies() == []
    run_tick("2026-11-28T15:00:00+00:00", run_jobs)
    assert facilitator.last_reply() == (
        'Python: the reminder goes out Sun 29 Nov, 18:00: "Reminder: Python, Tue 1 Dec, 18:00 '
        "at Nakuru Library. Reply YES if you're coming, NO if not.\" Reply EDIT to change it."
    )
    run_tick("2026-11-28T15:01:00+00:00", run_jobs)
    assert len(facilitator.replies()) == 1


def test_edit_replaces_the_text_of_that_meetings_reminder_only(sms_user, run_jobs):
    setup()
    facilitator, learner = sms_user("+15550000011"), sms_user("+15550000200")
    run_tick("2026-11-28T15:00:00+00:00", run_jobs)
    assert says_at(facilitator, "2026-11-28T16:00:00+00:00", "EDIT", run_jobs) == (
        'Write the reminder text. It goes under "Python, Tue 18:00, Nakuru Library:", '
        "and we'll add: \"Reply YES if you're coming, NO if not.\""
    )
    assert says_at(facilitator, "2026-11-28T16:01:00+00:00",
                   "Python tomorrow 6pm, bring a laptop!", run_jobs) == (
        "Saved: the reminder for Python Tue 1 Dec, 18:00 will use your text."
    )  # fmt: skip
    run_tick("2026-11-29T15:00:00+00:00", run_jobs)
    assert learner.last_reply() == (
        "Python, Tue 18:00, Nakuru Library:\n"
        "Python tomorrow 6pm, bring a laptop! Reply YES if you're coming, NO if not."
    )
    run_tick("2026-12-06T15:00:00+00:00", run_jobs)
    assert learner.last_reply().startswith("Reminder: Python, Tue 8 Dec, 18:00")


def test_a_text_needing_two_sms_is_confirmed_first(sms_user, run_jobs):
    setup()
    facilitator = sms_user("+15550000011")
    says_at(facilitator, "2026-11-28T16:00:00+00:00", "EDIT", run_jobs)
    reply = says_at(facilitator, "2026-11-28T16:01:00+00:00", "Karibu sana! " * 10, run_jobs)
    assert reply == "That needs 2 SMS per learner. Keep it? Reply YES, or NO to keep the old text."
    assert says_at(facilitator, "2026-11-28T16:02:00+00:00", "no", run_jobs) == (
        "OK, the reminder stays as it was."
    )
    says_at(facilitator, "2026-11-28T16:03:00+00:00", "EDIT", run_jobs)
    # One emoji turns the whole text into UCS-2: 70 characters a segment.
    smiley = "See you all at the library tomorrow 🙂"
    reply = says_at(facilitator, "2026-11-28T16:04:00+00:00", smiley, run_jobs)
    assert reply.startswith("That needs 2 SMS per learner.")
    says_at(facilitator, "2026-11-28T16:05:00+00:00", "yes", run_jobs)
    with session_scope() as session:
        texts = session.exec(select(Meeting.reminder_text).where(Meeting.number == 1)).all()
    assert texts == [smiley]


def test_after_the_reminder_went_out_edit_moves_to_the_next_meeting(sms_user, run_jobs):
    setup()
    facilitator = sms_user("+15550000011")
    run_tick("2026-11-29T15:00:00+00:00", run_jobs)
    reply = says_at(facilitator, "2026-11-29T16:00:00+00:00", "REMINDER", run_jobs)
    assert reply.startswith("Python: the reminder goes out Sun 6 Dec, 18:00")


def test_a_learner_cannot_edit_a_reminder(sms_user, run_jobs):
    setup()
    learner = sms_user("+15550000200")
    assert says_at(learner, "2026-11-28T16:00:00+00:00", "EDIT", run_jobs) == (
        "Sorry, EDIT is for facilitators. Try NEXT, or reply HELP to see what you can do."
    )


def test_the_line_naming_the_meeting_counts_toward_the_sms(sms_user, run_jobs):
    setup()
    facilitator = sms_user("+15550000011")
    says_at(facilitator, "2026-11-28T16:00:00+00:00", "EDIT", run_jobs)
    # With the RSVP line alone this would fit one SMS; with the meeting's line above, not.
    text = "Bring a laptop if you have one. We start chapter 3 (functions) and try small exercises."
    reply = says_at(facilitator, "2026-11-28T16:01:00+00:00", text, run_jobs)
    assert reply.startswith("That needs 2 SMS per learner.")
    says_at(facilitator, "2026-11-28T16:02:00+00:00", "yes", run_jobs)
    preview = says_at(facilitator, "2026-11-28T16:03:00+00:00", "REMINDER", run_jobs)
    assert f'"Python, Tue 18:00, Nakuru Library:\n{text} Reply YES' in preview


def test_with_many_circles_the_reminders_to_edit_come_a_page_per_sms(sms_user, run_jobs):
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        for day, name in enumerate(["Python", "Excel", "Poetry", "Kiswahili", "Chess"], start=1):
            world.circle(session, team, "sms:+15550000011", datetime(2026, 12, day, 18, 0),
                         name=name, venue=f"{name} Library")  # fmt: skip
    facilitator = sms_user("+15550000011")
    first = says_at(facilitator, "2026-11-25T08:00:00+00:00", "EDIT", run_jobs)
    assert first.startswith("Which reminder?\n1) Python Tue 1 Dec, 18:00\n")
    assert "\n+2 more: reply MORE\n" in first and segments(first) == 1
    second = says_at(facilitator, "2026-11-25T08:01:00+00:00", "MORE", run_jobs)
    assert second == (
        "Which reminder?\n4) Kiswahili Fri 4 Dec, 18:00\n5) Chess Sat 5 Dec, 18:00\n"
        "Reply with the number."
    )
    assert says_at(facilitator, "2026-11-25T08:02:00+00:00", "5", run_jobs).startswith(
        'Write the reminder text. It goes under "Chess, Sat 18:00, Chess Library:"'
    )
