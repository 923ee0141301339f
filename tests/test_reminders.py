"""Reminders: due 48 h before in real time, never before the last meeting ended, once each."""

from __future__ import annotations

from datetime import datetime

import time_machine
from sqlmodel import select

from bot import queue
from bot.db import session_scope
from bot.identity import contact_for
from bot.sms import segments
from jobs import tick
from models.circles import Circle, Meeting, Signup, schedule_reminders
from tests.support import world
from tests.support.timeline import at, says_at, tick_at, tick_queries, ticks_at_once


def circle_with_learners(timezone: str, first: datetime, learners: list[str], **fields) -> int:
    """A circle in its own team, with these learner contacts signed up; returns its id."""
    with session_scope() as session:
        team = world.team(session, f"Team {timezone}", timezone, "sms:+15559990000")
        values = {"name": "Python for Everybody", "venue": "Nakuru Public Library"} | fields
        circle = world.circle(session, team, "sms:+15559990001", first, **values)
        for handle in learners:
            channel, _, address = handle.partition(":")
            contact = contact_for(session, channel, address)
            contact.last_inbound_at = at("2026-11-01T00:00:00+00:00")
            session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                               contact_id=contact.id, goal="learn"))  # fmt: skip
        return circle.id


def test_a_nairobi_learner_is_reminded_48_hours_before_in_one_sms(sms_user, run_jobs):
    circle_with_learners("Africa/Nairobi", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"])
    amina, facilitator = sms_user("+254711000001"), sms_user("+15559990001")
    # (The facilitator's preview went out a day ahead, at the first tick, with the organizer's
    # digest of Monday the 23rd, missed while no tick ran.)
    assert tick_at("2026-11-29T14:59:00+00:00", run_jobs) == {"reminder_preview": 1, "digest": 1}
    assert tick_at("2026-11-29T15:00:00+00:00", run_jobs) == {"reminder": 1, "reminder_copy": 1}
    reminder = amina.last_reply()
    assert reminder == (
        "Reminder: Python for Everybody, Tue 1 Dec, 18:00 at Nakuru Public Library. "
        "Reply YES if you're coming, NO if not."
    )
    assert segments(reminder) == 1
    assert facilitator.last_reply() == (
        f'Learners reminded: 1. "{reminder}" RSVPs so far: 0 yes, 0 no.'
    )


def test_a_chicago_circle_keeps_18_00_across_the_march_dst_change(sms_user, run_jobs):
    circle_with_learners("America/Chicago", datetime(2027, 3, 4, 18, 0), ["sms:+13125550101"],
                         weeks=3, venue="Harold Washington Library")  # fmt: skip
    learner = sms_user("+13125550101")
    # 18:00 CST is 00:00 UTC the next day: reminders at 00:00 UTC, two days before.
    tick_at("2027-03-03T00:00:00+00:00", run_jobs)
    tick_at("2027-03-10T00:00:00+00:00", run_jobs)
    # Meeting 3 is Thu 18 Mar 18:00 CDT = 23:00 UTC; its reminder is due 16 Mar 23:00 UTC.
    tick_at("2027-03-16T22:59:00+00:00", run_jobs)
    assert not any("18 Mar" in reply for reply in learner.replies())
    tick_at("2027-03-16T23:00:00+00:00", run_jobs)
    assert learner.last_reply().startswith("Reminder: Python for Everybody, Thu 18 Mar, 18:00 at")
    reminders = [r for r in learner.replies() if r.startswith("Reminder")]
    assert [r.split(", ")[1] for r in reminders] == ["Thu 4 Mar", "Thu 11 Mar", "Thu 18 Mar"]


def test_no_reminder_goes_out_before_the_previous_meeting_has_ended(sms_user, run_jobs):
    circle_id = circle_with_learners(
        "Africa/Nairobi", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"]
    )
    with session_scope() as session:
        circle = session.get(Circle, circle_id)
        circle.reminder_lead_hours = 8 * 24  # longer than a week between meetings
        meetings = session.exec(select(Meeting).where(Meeting.circle_id == circle_id)).all()
        schedule_reminders(list(meetings), circle.reminder_lead_hours)
    amina = sms_user("+254711000001")
    tick_at("2026-11-23T15:00:00+00:00", run_jobs)
    assert [r for r in amina.replies() if "8 Dec" in r] == []
    # Meeting 1 ends at 19:30 local (16:30 UTC) on 1 Dec: only then is meeting 2's reminder due.
    tick_at("2026-12-01T16:29:00+00:00", run_jobs)
    assert [r for r in amina.replies() if "8 Dec" in r] == []
    tick_at("2026-12-01T16:30:00+00:00", run_jobs)
    assert "Tue 8 Dec, 18:00" in amina.last_reply()


def test_a_cancelled_or_past_meeting_gets_no_reminder(sms_user, run_jobs):
    circle_id = circle_with_learners(
        "Africa/Nairobi", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"]
    )
    with session_scope() as session:
        first = session.exec(
            select(Meeting).where(Meeting.circle_id == circle_id, Meeting.number == 1)
        ).one()
        first.status = "cancelled"
    assert tick_at("2026-11-29T15:00:00+00:00", run_jobs) == {"digest": 1}  # the organizer's
    # The clock was down past meeting 2's start: no late reminder for a meeting that began.
    assert tick_at("2026-12-08T15:01:00+00:00", run_jobs).get("reminder") is None
    assert sms_user("+254711000001").replies() == []


def test_two_ticks_at_the_same_time_send_once(sms_user, run_jobs):
    circle_with_learners("Africa/Nairobi", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"])
    with time_machine.travel(at("2026-11-29T15:00:00+00:00")):
        tick.run()
        tick.run()
        run_jobs()
        tick.run()
        run_jobs()
    assert len(sms_user("+254711000001").replies()) == 1


def test_a_tick_running_beside_another_sends_once(sms_user, run_jobs):
    circle_with_learners("Africa/Nairobi", datetime(2026, 12, 1, 18, 0),
                         [f"sms:+25471100000{n}" for n in range(5)])  # fmt: skip
    ticks_at_once("2026-11-29T15:00:00+00:00", 3, run_jobs)
    for n in range(5):
        assert len(sms_user(f"+25471100000{n}").replies()) == 1


def test_stopped_and_departed_learners_get_nothing(sms_user, run_jobs):
    circle_id = circle_with_learners("Africa/Nairobi", datetime(2026, 12, 1, 18, 0),
                                     ["sms:+254711000001", "sms:+254711000002",
                                      "sms:+254711000003"])  # fmt: skip
    # The STOP comes the day before the tick, both on the test's clock, whatever today is.
    says_at(sms_user("+254711000001"), "2026-11-28T15:00:00+00:00", "STOP", run_jobs)
    with session_scope() as session:
        contact = contact_for(session, "sms", "+254711000002")
        signup = session.exec(select(Signup).where(Signup.contact_id == contact.id)).one()
        signup.left_at = at("2026-11-25T00:00:00+00:00")
    assert tick_at("2026-11-29T15:00:00+00:00", run_jobs)["reminder"] == 1
    assert len(sms_user("+254711000001").replies()) == 1  # only the STOP confirmation
    assert sms_user("+254711000002").replies() == []
    assert len(sms_user("+254711000003").replies()) == 1
    with session_scope() as session:
        assert session.exec(select(Circle.id)).one() == circle_id


def test_a_custom_reminder_keeps_the_meeting_line_and_the_rsvp_line_and_is_never_cut(
    sms_user, run_jobs
):
    circle_id = circle_with_learners(
        "Africa/Nairobi", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"]
    )
    custom = "Bring your laptop and charger! We start chapter 3, functions. " * 4
    with session_scope() as session:
        meeting = session.exec(
            select(Meeting).where(Meeting.circle_id == circle_id, Meeting.number == 1)
        ).one()
        meeting.reminder_text = custom.strip()
    tick_at("2026-11-29T15:00:00+00:00", run_jobs)
    reminder = sms_user("+254711000001").last_reply()
    assert reminder == (
        "Python for Everybody, Tue 18:00, Nakuru Public Library:\n"
        + custom.strip()
        + " Reply YES if you're coming, NO if not."
    )
    assert segments(reminder) > 1


def test_reminders_go_out_on_the_low_queue(run_jobs):
    circle_with_learners("Africa/Nairobi", datetime(2026, 12, 1, 18, 0), ["sms:+254711000001"])
    with time_machine.travel(at("2026-11-29T15:00:00+00:00")):
        tick.run()
    # The reminder and the facilitator's copy in one bulk job, the digest (another sweep) in its own.
    jobs = queue.queue(queue.LOW).get_jobs()
    assert [(job.func_name, len(job.args[0])) for job in jobs] == [(queue.SEND_BATCH, 2),
                                                                    (queue.SEND_BATCH, 1)]  # fmt: skip
    assert queue.queue(queue.HIGH).count == 0


def test_learners_on_whatsapp_and_telegram_are_reminded_in_their_language(
    whatsapp_user, telegram_user, run_jobs, settings
):
    settings.twilio_whatsapp_templates = {"reminder": "HX" + "b" * 32}
    circle_with_learners("Africa/Nairobi", datetime(2026, 12, 1, 18, 0),
                         ["whatsapp:+254722000001", "telegram:5150"])  # fmt: skip
    with session_scope() as session:
        contact_for(session, "telegram", "5150")
        from models.people import Contact, Person

        contact = session.exec(select(Contact).where(Contact.address == "5150")).one()
        session.get(Person, contact.person_id).language = "sw"
    tick_at("2026-11-29T15:00:00+00:00", run_jobs)
    assert telegram_user(5150).last_reply() == (
        "Kikumbusho: Python for Everybody, Jumanne 1 Des, 18:00 katika Nakuru Public Library. "
        "Jibu NDIYO kama utakuja, HAPANA kama hutakuja."
    )
    # Two days after the learner last wrote: outside WhatsApp's window, so the template goes.
    twilio = whatsapp_user("+254722000001").twilio
    [form] = [form for form in twilio.sent if form["To"] == "whatsapp:+254722000001"]
    assert form["ContentSid"] == "HX" + "b" * 32
    assert "Python for Everybody, Tue 1 Dec, 18:00" in form["ContentVariables"]


def test_the_reminder_tick_runs_the_same_queries_for_10_or_1000_circles(settings):
    world.many_circles(10, datetime(2026, 12, 1, 18, 0))
    small = tick_queries("2026-11-29T15:00:00+00:00")
    world.many_circles(1000, datetime(2026, 12, 2, 18, 0))
    large = tick_queries("2026-11-30T15:00:00+00:00")
    with session_scope() as session:
        sent = session.exec(select(Meeting).where(Meeting.reminder_sent_at.is_not(None))).all()
    assert len(sent) == 1010
    assert large == small
