"""Reflection after each meeting: prompted once, nudged once, deferred behind another dialog."""

from __future__ import annotations

from datetime import datetime

import time_machine
from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for
from conversations import prompts
from jobs import reflection_prompts, tick
from models.circles import Facilitation, Meeting, Rsvp, Signup
from models.conversation import Conversation
from models.feedback import Reflection
from tests.support import world
from tests.support.timeline import at, replies_to, sweep_queries, tick_at

FACILITATOR, CO_FACILITATOR, ORGANIZER = "+15550000011", 7011, "+15550000010"
LEARNERS = ("+15550000201", "+15550000202")
# Tuesday 1 December, 18:00 in Nairobi is 15:00 UTC; 90 minutes later it ends at 16:30 UTC.
PROMPT_TIME = "2026-12-01T16:45:00+00:00"
ASK_RATING = "How did Python on Tue 1 Dec, 18:00 go? Reply 1 (hard) to 5 (great)."
ASK_ATTENDANCE = "How many learners came? Reply a number, or OK for 1 (those who said yes)."
ASK_WENT_WELL = "What went well? Or reply SKIP."
ASK_TO_CHANGE = "What would you change next time? Or reply SKIP."
ASK_RECAP = "Send your 2 learners a one-line recap? Reply with it, or SKIP."
NUDGE = "Your reflection is still waiting (EXIT to skip it):"


def setup() -> None:
    """A two-week circle with a facilitator on SMS, a co-facilitator on Telegram and two
    learners, one of whom said yes to the first meeting."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"sms:{ORGANIZER}")
        circle = world.circle(session, team, f"sms:{FACILITATOR}", datetime(2026, 12, 1, 18, 0),
                              weeks=2)  # fmt: skip
        co = world.person_id(session, f"telegram:{CO_FACILITATOR}")
        session.add(Facilitation(circle_id=circle.id, person_id=co))
        first = session.exec(
            select(Meeting).where(Meeting.circle_id == circle.id, Meeting.number == 1)
        ).one()
        for number, attending in zip(LEARNERS, (True, None), strict=True):
            contact = contact_for(session, "sms", number)
            signup = Signup(circle_id=circle.id, person_id=contact.person_id,
                            contact_id=contact.id)  # fmt: skip
            session.add(signup)
            session.flush()
            if attending is not None:
                session.add(Rsvp(meeting_id=first.id, signup_id=signup.id, attending=attending))


def reflections() -> list[Reflection]:
    with session_scope() as session:
        rows = session.exec(select(Reflection).order_by(Reflection.id)).all()
        session.expunge_all()
        return list(rows)


def test_each_facilitator_is_prompted_once_a_quarter_hour_after_the_meeting_ends(
    sms_user, telegram_user, run_jobs
):
    setup()
    facilitator, co = sms_user(FACILITATOR), telegram_user(CO_FACILITATOR)
    tick_at("2026-12-01T16:44:00+00:00", run_jobs)
    assert facilitator.replies() == [] and co.replies() == []
    assert tick_at(PROMPT_TIME, run_jobs) == {"reflection": 2, "dialog:reflect": 2}
    for iso in ("2026-12-01T16:45:30+00:00", "2026-12-01T16:46:00+00:00", PROMPT_TIME):
        tick_at(iso, run_jobs)
    assert facilitator.replies() == [ASK_RATING]
    assert co.replies() == [ASK_RATING]
    # Learners and organizers are not asked (the organizer got only the week's digest).
    assert [sms_user(n).replies() for n in LEARNERS] == [[], []]
    [digest] = sms_user(ORGANIZER).replies()
    assert digest.startswith("Weekly digest for Nakuru Libraries")


def test_a_reflection_by_reply_is_saved_and_its_recap_goes_out_after_confirmation(
    sms_user, run_jobs
):
    setup()
    facilitator = sms_user(FACILITATOR)
    tick_at(PROMPT_TIME, run_jobs)
    replies = replies_to(facilitator, "2026-12-01T17:00:00+00:00", run_jobs,
                       "great", "4", "ok", "Everyone finished chapter 2", "BACK", "Good pace",
                       "skip", "Bring laptops next week", "yes")  # fmt: skip
    assert replies == [
        "Please reply with a number.\n" + ASK_RATING,
        ASK_ATTENDANCE,
        ASK_WENT_WELL,
        ASK_TO_CHANGE,
        ASK_WENT_WELL,  # BACK: the previous answer can be changed
        ASK_TO_CHANGE,
        ASK_RECAP,
        'Send to 2 learners: "Bring laptops next week"? Reply YES or NO.',
        "Thank you! Your reflection on Python is saved, and the recap goes to 2 learners.",
    ]
    [saved] = reflections()
    assert (saved.rating, saved.attendance, saved.went_well, saved.to_change) == (
        4, 1, "Good pace", None,
    )  # fmt: skip
    assert saved.recap_sent_at is not None
    for number in LEARNERS:
        assert sms_user(number).replies() == [
            "Python, from your facilitator: Bring laptops next week"
        ]


def test_a_recap_not_confirmed_is_not_sent(sms_user, run_jobs):
    setup()
    facilitator = sms_user(FACILITATOR)
    tick_at(PROMPT_TIME, run_jobs)
    replies = replies_to(facilitator, "2026-12-01T17:00:00+00:00", run_jobs,
                       "5", "3", "SKIP", "RUKA", "See you all", "no")  # fmt: skip
    assert replies[-1] == "Thank you! Your reflection on Python is saved."
    [saved] = reflections()
    assert (saved.rating, saved.attendance, saved.recap_sent_at) == (5, 3, None)
    assert [sms_user(n).replies() for n in LEARNERS] == [[], []]


def test_a_recap_goes_out_only_on_an_explicit_yes(sms_user, run_jobs):
    setup()
    facilitator = sms_user(FACILITATOR)
    tick_at(PROMPT_TIME, run_jobs)
    replies = replies_to(facilitator, "2026-12-01T17:00:00+00:00", run_jobs,
                         "5", "3", "SKIP", "RUKA", "See you all", "fine")  # fmt: skip
    assert (
        replies[-1]
        == 'Please reply YES or NO.\nSend to 2 learners: "See you all"? Reply YES or NO.'
    )
    assert [sms_user(n).replies() for n in LEARNERS] == [[], []]
    replies_to(facilitator, "2026-12-01T17:05:00+00:00", run_jobs, "YES")
    assert [sms_user(n).replies() for n in LEARNERS] == [
        ["Python, from your facilitator: See you all"]
    ] * 2


def test_attendance_takes_zero_and_refuses_nonsense(sms_user, run_jobs):
    setup()
    facilitator = sms_user(FACILITATOR)
    tick_at(PROMPT_TIME, run_jobs)
    replies = replies_to(facilitator, "2026-12-01T17:00:00+00:00", run_jobs,
                       "2", "9000", "0")  # fmt: skip
    assert replies == [
        ASK_ATTENDANCE,
        "Please reply with a number from 0 to 500.\n" + ASK_ATTENDANCE,
        ASK_WENT_WELL,
    ]


def test_exit_midway_saves_nothing(sms_user, run_jobs):
    setup()
    facilitator = sms_user(FACILITATOR)
    tick_at(PROMPT_TIME, run_jobs)
    replies = replies_to(facilitator, "2026-12-01T17:00:00+00:00", run_jobs, "4", "EXIT")
    assert replies[-1].startswith("OK, we stopped there. Nothing was saved.")
    assert reflections() == []


def test_an_unanswered_prompt_is_nudged_once_then_lapses_quietly(sms_user, telegram_user, run_jobs):
    setup()
    facilitator, co = sms_user(FACILITATOR), telegram_user(CO_FACILITATOR)
    tick_at(PROMPT_TIME, run_jobs)
    tick_at("2026-12-02T16:44:00+00:00", run_jobs)
    assert facilitator.replies() == [ASK_RATING]
    assert tick_at("2026-12-02T16:45:00+00:00", run_jobs) == {"nudge:reflect": 2}
    for iso in ("2026-12-02T16:46:00+00:00", "2026-12-03T12:00:00+00:00",
                "2026-12-03T16:46:00+00:00", "2026-12-04T09:00:00+00:00"):  # fmt: skip
        tick_at(iso, run_jobs)
    assert facilitator.replies() == [ASK_RATING, NUDGE + "\n" + ASK_RATING]
    assert co.replies() == [ASK_RATING, NUDGE + "\n" + ASK_RATING]
    # Two days after the prompt the dialog is over: a late "4" is not taken as a rating.
    late = replies_to(facilitator, "2026-12-04T10:00:00+00:00", run_jobs, "4")
    assert late == ["Sorry, I didn't get that. Try MY, or reply HELP."]
    assert reflections() == []


def test_the_nudge_repeats_the_question_the_facilitator_stopped_at(sms_user, run_jobs):
    setup()
    facilitator = sms_user(FACILITATOR)
    tick_at(PROMPT_TIME, run_jobs)
    replies_to(facilitator, "2026-12-01T18:00:00+00:00", run_jobs, "4")
    tick_at("2026-12-02T17:59:00+00:00", run_jobs)
    tick_at("2026-12-02T18:01:00+00:00", run_jobs)
    assert facilitator.last_reply() == NUDGE + "\n" + ASK_ATTENDANCE
    # Answering after the nudge goes on where it stopped.
    assert replies_to(facilitator, "2026-12-02T19:00:00+00:00", run_jobs, "2") == [ASK_WENT_WELL]


def test_a_cancelled_meeting_gets_no_prompt(sms_user, run_jobs):
    setup()
    facilitator = sms_user(FACILITATOR)
    replies = replies_to(facilitator, "2026-11-25T08:00:00+00:00", run_jobs,
                       "CANCEL MEETING", "1", "yes")  # fmt: skip
    assert replies[-1] == (
        "Cancelled: Python on Tue 1 Dec, 18:00. Nobody has been reminded of it, so no notice goes out."
    )
    before = len(facilitator.replies())
    assert tick_at(PROMPT_TIME, run_jobs) == {"digest": 1}  # the organizer's, missed on Monday
    assert facilitator.replies()[before:] == []
    # The next meeting still gets its prompt.
    tick_at("2026-12-08T16:45:00+00:00", run_jobs)
    assert facilitator.last_reply() == ASK_RATING.replace("1 Dec", "8 Dec")


def test_a_prompt_waits_while_the_facilitator_is_in_another_dialog(
    sms_user, telegram_user, run_jobs
):
    setup()
    facilitator, co = sms_user(FACILITATOR), telegram_user(CO_FACILITATOR)
    [ask_course] = replies_to(facilitator, "2026-12-01T16:40:00+00:00", run_jobs, "NEW")
    tick_at(PROMPT_TIME, run_jobs)
    assert co.replies() == [ASK_RATING]  # the co-facilitator is free: asked at once
    [ask_name] = replies_to(facilitator, "2026-12-01T16:50:00+00:00", run_jobs, "Poetry")
    tick_at("2026-12-01T16:55:00+00:00", run_jobs)
    assert facilitator.replies() == [ask_course, ask_name]  # not interrupted
    replies = replies_to(facilitator, "2026-12-01T17:00:00+00:00", run_jobs, "EXIT", "4")
    assert replies[1:] == [ASK_RATING, ASK_ATTENDANCE]
    assert replies[0].startswith("OK, we stopped there.")


def test_a_prompt_waiting_behind_a_dialog_that_lapses_comes_with_the_next_tick(sms_user, run_jobs):
    setup()
    facilitator = sms_user(FACILITATOR)
    replies_to(facilitator, "2026-12-01T16:40:00+00:00", run_jobs, "NEW")
    tick_at(PROMPT_TIME, run_jobs)
    tick_at("2026-12-02T16:39:00+00:00", run_jobs)
    assert ASK_RATING not in facilitator.replies()
    tick_at("2026-12-02T16:41:00+00:00", run_jobs)  # NEW lapsed a day after its last answer
    assert facilitator.last_reply() == ASK_RATING


def test_reflect_asks_about_the_latest_meeting_without_a_reflection(sms_user, run_jobs):
    setup()
    facilitator = sms_user(FACILITATOR)
    assert replies_to(facilitator, "2026-11-30T09:00:00+00:00", run_jobs, "REFLECT") == [
        "No meeting to reflect on yet: none of your meetings has ended."
    ]
    replies = replies_to(facilitator, "2026-12-01T16:35:00+00:00", run_jobs,
                       "REFLECT", "5", "ok", "skip", "skip", "skip")  # fmt: skip
    assert replies[0] == ASK_RATING
    assert replies[-1] == "Thank you! Your reflection on Python is saved."
    before = len(facilitator.replies())
    tick_at(PROMPT_TIME, run_jobs)  # already answered: no prompt
    assert facilitator.replies()[before:] == []
    assert replies_to(facilitator, "2026-12-01T17:00:00+00:00", run_jobs, "tafakari") == [
        "No meeting to reflect on: every past meeting has your reflection."
    ]
    assert replies_to(facilitator, "2026-12-09T09:00:00+00:00", run_jobs, "REFLECT") == [
        ASK_RATING.replace("1 Dec", "8 Dec")
    ]


def test_the_reflection_in_swahili(sms_user, run_jobs):
    setup()
    facilitator = sms_user(FACILITATOR)
    replies_to(facilitator, "2026-11-30T09:00:00+00:00", run_jobs, "LANG sw")
    tick_at(PROMPT_TIME, run_jobs)
    assert facilitator.last_reply() == (
        "Python ya Jumanne 1 Des, 18:00 ilikwendaje? Jibu 1 (ngumu) hadi 5 (nzuri sana)."
    )
    replies = replies_to(facilitator, "2026-12-01T17:00:00+00:00", run_jobs, "nne", "sawa")
    assert replies[-1] == "Nini kilienda vizuri? Au jibu RUKA."
    assert reflections() == []


def test_the_prompt_sweep_runs_the_same_queries_for_10_or_1000_meetings(settings):
    world.many_circles(10, datetime(2026, 12, 1, 18, 0))
    # (The ten facilitators of the first batch facilitate in the second too: their first
    # dialogs lapse before the second prompts start.)
    sweeps = (reflection_prompts.sweep, tick.expire_dialogs, prompts.start_free)
    small = sweep_queries(PROMPT_TIME, *sweeps)
    world.many_circles(1000, datetime(2026, 12, 4, 18, 0))
    large = sweep_queries("2026-12-04T16:45:00+00:00", *sweeps)
    with session_scope() as session:
        asked = session.exec(select(Conversation).where(Conversation.flow == "reflect")).all()
    assert len(asked) == 1010
    assert large == small


def test_reflect_while_the_prompt_comes_due_asks_only_once(sms_user, run_jobs):
    setup()
    facilitator = sms_user(FACILITATOR)
    replies_to(facilitator, "2026-12-01T16:35:00+00:00", run_jobs, "REFLECT", "4")
    tick_at(PROMPT_TIME, run_jobs)  # due now, but the facilitator is answering already
    replies = replies_to(facilitator, "2026-12-01T16:50:00+00:00", run_jobs,
                       "ok", "skip", "skip", "skip")  # fmt: skip
    assert replies[-1] == "Thank you! Your reflection on Python is saved."
    tick_at("2026-12-01T17:00:00+00:00", run_jobs)
    assert facilitator.replies().count(ASK_RATING) == 1


def test_reflect_waits_for_the_meeting_to_end(sms_user, run_jobs):
    setup()
    facilitator = sms_user(FACILITATOR)
    assert replies_to(facilitator, "2026-12-01T16:00:00+00:00", run_jobs, "REFLECT") == [
        "No meeting to reflect on yet: none of your meetings has ended."
    ]


def test_a_second_facilitator_is_not_offered_a_second_recap(sms_user, telegram_user, run_jobs):
    setup()
    facilitator, co = sms_user(FACILITATOR), telegram_user(CO_FACILITATOR)
    replies_to(facilitator, "2026-12-01T16:35:00+00:00", run_jobs,
             "REFLECT", "4", "ok", "skip", "skip", "See you next week", "yes")  # fmt: skip
    tick_at(PROMPT_TIME, run_jobs)
    with time_machine.travel(at("2026-12-01T17:00:00+00:00"), tick=True):
        for text in ("5", "ok", "skip", "skip"):
            co.says(text)
            run_jobs()
    assert co.last_reply() == "Thank you! Your reflection on Python is saved."
    assert [len(sms_user(n).replies()) for n in LEARNERS] == [1, 1]
