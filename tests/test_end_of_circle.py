"""The end of a circle: its status, the learners' and facilitator's surveys by chat, the report
to every audience, in the digest, and on its public page."""

from __future__ import annotations

from datetime import datetime

import time_machine
from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for
from models.circles import Circle, Meeting, Rsvp, Signup
from models.feedback import Reflection, SurveyResponse
from models.people import Person
from tests.support import world
from tests.support.timeline import at, replies_to, tick_at

FACILITATOR, AMINA, BRIAN, CHEBET, ORGANIZER = "+15550000011", "+15550000101", "+15550000102", 9001, 4242  # fmt: skip
# Tuesdays 24 Nov, 1 Dec and 8 Dec, 18:00 in Nairobi; the last ends at 16:30 UTC on 8 Dec.
LAST_END = "2026-12-08T16:30:00+00:00"
ASK_AMINA = (
    'Python is over, well done! How far did you get with "learn loops"? '
    "Reply 1 (not at all) to 5 (all the way)."
)


def seed() -> None:
    """Python, three meetings, three learners (Brian gave no goal; Chebet is on Telegram),
    RSVPs and two reflections."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"telegram:{ORGANIZER}")
        facilitator = world.person_id(session, f"sms:{FACILITATOR}")
        session.get(Person, facilitator).name = "Zawadi"
        circle = world.circle(session, team, f"sms:{FACILITATOR}", datetime(2026, 11, 24, 18, 0),
                              weeks=3)  # fmt: skip
        meetings = session.exec(
            select(Meeting).where(Meeting.circle_id == circle.id).order_by(Meeting.number)
        ).all()
        signups = []
        for channel, address, name, goal in (
            ("sms", AMINA, "Amina", "learn loops"), ("sms", BRIAN, "Brian", None),
            ("telegram", str(CHEBET), "Chebet", "build a website"),
        ):  # fmt: skip
            contact = contact_for(session, channel, address)
            session.get(Person, contact.person_id).name = name
            signup = Signup(circle_id=circle.id, person_id=contact.person_id,
                            contact_id=contact.id, goal=goal)  # fmt: skip
            session.add(signup)
            session.flush()
            signups.append(signup)
        for meeting, coming in zip(meetings, (signups, [signups[0], signups[2]], signups[:1]),
                                   strict=True):  # fmt: skip
            for signup in coming:
                session.add(Rsvp(meeting_id=meeting.id, signup_id=signup.id, attending=True))
        for meeting, rating, came in ((meetings[0], 4, 3), (meetings[1], 5, 2)):
            session.add(Reflection(meeting_id=meeting.id, person_id=facilitator, rating=rating,
                                   attendance=came, went_well="ok"))  # fmt: skip


def status() -> str:
    with session_scope() as session:
        return session.exec(select(Circle.status)).one()


def test_a_circle_is_open_then_running_then_finished_and_no_longer_listed(sms_user, run_jobs):
    seed()
    tick_at("2026-11-24T14:59:00+00:00", run_jobs)
    assert status() == "open"
    tick_at("2026-11-24T15:00:00+00:00", run_jobs)
    assert status() == "running"
    tick_at("2026-12-08T16:29:00+00:00", run_jobs)
    assert status() == "running"
    tick_at(LAST_END, run_jobs)
    assert status() == "finished"
    with session_scope() as session:
        assert session.exec(select(Circle.ended_at)).one() == at(LAST_END)
    newcomer = sms_user("+15550000999")
    [listing] = replies_to(newcomer, "2026-12-09T09:00:00+00:00", run_jobs, "CIRCLES")
    assert "Python" not in listing


def test_a_circle_whose_meetings_are_all_called_off_is_cancelled(run_jobs):
    seed()
    with session_scope() as session:
        for meeting in session.exec(select(Meeting)).all():
            meeting.status = "cancelled"
    tick_at("2026-11-23T09:00:00+00:00", run_jobs)
    assert status() == "cancelled"


def test_learners_are_asked_an_hour_after_the_last_meeting_once_each(
    sms_user, telegram_user, run_jobs
):
    seed()
    amina, brian, chebet = sms_user(AMINA), sms_user(BRIAN), telegram_user(CHEBET)
    tick_at(LAST_END, run_jobs)
    tick_at("2026-12-08T17:29:00+00:00", run_jobs)
    assert amina.replies() == []
    for iso in ("2026-12-08T17:30:00+00:00", "2026-12-08T17:31:00+00:00",
                "2026-12-08T17:30:00+00:00"):  # fmt: skip
        tick_at(iso, run_jobs)
    assert amina.replies() == [ASK_AMINA]
    assert brian.replies() == [
        "Python is over, well done! How much did you get out of it? Reply 1 (little) to 5 (a lot)."
    ]
    assert chebet.replies() == [
        'Python is over, well done! How far did you get with "build a website"? '
        "Reply 1 (not at all) to 5 (all the way)."
    ]
    # The facilitator's survey waits a day.
    assert sms_user(FACILITATOR).replies().count("Thank you for running Python!") == 0


def test_the_learner_survey_with_a_bad_number_and_skips(sms_user, run_jobs):
    seed()
    amina = sms_user(AMINA)
    tick_at(LAST_END, run_jobs)
    tick_at("2026-12-08T17:30:00+00:00", run_jobs)
    replies = replies_to(amina, "2026-12-08T18:00:00+00:00", run_jobs,
                       "9", "4", "Great group", "SKIP", "ruka")  # fmt: skip
    assert replies == [
        "Please reply with a number from 1 to 5.\n" + ASK_AMINA,
        "What worked well for you? Or reply SKIP.",
        "What could be better? Or reply SKIP.",
        "What will you do next with what you learned? Or reply SKIP.",
        "Thank you! Your answers help the next circles. The report of Python comes soon.",
    ]
    with session_scope() as session:
        answer = session.exec(select(SurveyResponse).where(SurveyResponse.role == "learner")
                              .order_by(SurveyResponse.id)).first()  # fmt: skip
        assert (answer.goal_met, answer.worked_well, answer.improve, answer.next_steps) == (
            4, "Great group", None, None,
        )  # fmt: skip
        assert answer.completed_at is not None


def test_an_unfinished_survey_lapses_after_three_days_keeping_its_answers(sms_user, run_jobs):
    seed()
    brian = sms_user(BRIAN)
    tick_at(LAST_END, run_jobs)
    tick_at("2026-12-08T17:30:00+00:00", run_jobs)
    replies_to(brian, "2026-12-08T18:00:00+00:00", run_jobs, "3", "Nice people")
    tick_at("2026-12-11T18:01:00+00:00", run_jobs)
    late = replies_to(brian, "2026-12-11T19:00:00+00:00", run_jobs, "More practice")
    assert late != ["What will you do next with what you learned? Or reply SKIP."]
    with session_scope() as session:
        person = session.exec(select(Person).where(Person.name == "Brian")).one()
        answer = session.exec(
            select(SurveyResponse).where(SurveyResponse.person_id == person.id)
        ).one()
        assert (answer.goal_met, answer.worked_well, answer.improve) == (3, "Nice people", None)
        assert answer.completed_at is None


def answer_surveys(sms_user, telegram_user, run_jobs, *, brian: bool) -> None:
    """Learners answer an hour after the end; the facilitator reflects on the last meeting,
    then answers the survey a day after."""
    tick_at(LAST_END, run_jobs)
    tick_at("2026-12-08T16:45:00+00:00", run_jobs)
    replies_to(sms_user(FACILITATOR), "2026-12-08T17:00:00+00:00", run_jobs,
             "3", "ok", "skip", "skip", "skip")  # fmt: skip
    tick_at("2026-12-08T17:30:00+00:00", run_jobs)
    replies_to(sms_user(AMINA), "2026-12-08T18:00:00+00:00", run_jobs,
             "4", "Great group", "skip", "skip")  # fmt: skip
    replies_to(telegram_user(CHEBET), "2026-12-08T18:00:00+00:00", run_jobs,
             "5", "The videos", "More exercises", "Keep going")  # fmt: skip
    if brian:
        replies_to(sms_user(BRIAN), "2026-12-08T18:00:00+00:00", run_jobs,
                 "3", "skip", "skip", "skip")  # fmt: skip
    tick_at("2026-12-09T16:30:00+00:00", run_jobs)
    replies = replies_to(sms_user(FACILITATOR), "2026-12-09T17:00:00+00:00", run_jobs,
                       "4", "People came early", "Start with a check-in", "yes")  # fmt: skip
    assert replies[-1] == (
        "Thank you! The report of Python goes out when the surveys are in, or within a week. "
        "Reply REPORT to see it now."
    )


def token() -> str:
    with session_scope() as session:
        return session.exec(select(Circle.report_token)).one()


FULL_REPORT = [
    "Report: Python, 24 Nov to 8 Dec, 3 meetings",
    "Came/said yes: 24 Nov 3/3, 1 Dec 2/2, 8 Dec 1/1",
    "Meetings rated 4.0/5 on average (3 reflections).",
    "Goals (learners' own view, 5 to 1): 5: 1, 4: 1, 3: 1, 2: 0, 1: 0. "
    "2 of 3 reached theirs (4 or 5).",
    'Learners said: "Great group" / "The videos" / "More exercises"',
    'Facilitators said: "People came early" / "Start with a check-in"',
    "Facilitators rated the circle 4.0/5; would run another: 1 of 1.",
]


def test_the_report_goes_out_once_every_survey_is_answered(sms_user, telegram_user, run_jobs):
    seed()
    facilitator, amina, chebet = sms_user(FACILITATOR), sms_user(AMINA), telegram_user(CHEBET)
    answer_surveys(sms_user, telegram_user, run_jobs, brian=True)
    tick_at("2026-12-09T17:05:00+00:00", run_jobs)  # every survey is in
    url = f"https://circlebot.test/reports/{token()}"
    report = "\n".join(facilitator.replies()[-2:])
    assert report.endswith("\n".join([*FULL_REPORT, f"Report: {url}"]))
    for name in ("Amina", "Brian", "Chebet"):  # learners' words, never their names
        assert name not in report
    short = (
        "Python is complete: 3 meetings. About 2 came each time. 2 of 3 learners reached their "
        f"goal. Thank you for learning together! Report: {url}"
    )
    assert amina.last_reply() == short
    assert chebet.last_reply() == short
    # The chart, on Telegram.
    assert [c for c in chebet.telegram.calls("sendPhoto") if c["params"]["chat_id"] == CHEBET]
    # Once: later ticks send nothing more.
    before = len(amina.replies())
    tick_at("2026-12-10T09:00:00+00:00", run_jobs)
    tick_at("2026-12-16T09:00:00+00:00", run_jobs)
    assert len(amina.replies()) == before


def test_without_every_survey_the_report_waits_a_week(sms_user, telegram_user, run_jobs):
    seed()
    answer_surveys(sms_user, telegram_user, run_jobs, brian=False)
    tick_at("2026-12-15T16:29:00+00:00", run_jobs)
    assert token() is None
    tick_at("2026-12-15T16:30:00+00:00", run_jobs)
    assert token() is not None
    assert sms_user(BRIAN).last_reply().startswith("Python is complete: 3 meetings.")


def test_report_shows_the_facilitator_the_report_so_far(sms_user, run_jobs):
    seed()
    facilitator = sms_user(FACILITATOR)
    replies = replies_to(facilitator, "2026-12-02T09:00:00+00:00", run_jobs, "REPORT")
    assert "\n".join(replies) == "\n".join([
        "Report: Python, 24 Nov to 1 Dec, 2 meetings",
        "Came/said yes: 24 Nov 3/3, 1 Dec 2/2",
        "Meetings rated 4.5/5 on average (2 reflections).",
        "No learner has answered the survey yet.",
    ])  # fmt: skip
    assert replies_to(sms_user(AMINA), "2026-12-02T09:00:00+00:00", run_jobs, "REPORT") == [
        "Sorry, REPORT is for facilitators. Try NEXT, or reply HELP to see what you can do."
    ]


def test_the_report_is_in_the_next_digest_under_wrapped_up(sms_user, telegram_user, run_jobs):
    seed()
    answer_surveys(sms_user, telegram_user, run_jobs, brian=True)
    tick_at("2026-12-09T17:05:00+00:00", run_jobs)
    tick_at("2026-12-14T05:00:00+00:00", run_jobs)  # Monday 08:00 in Nairobi
    digest = telegram_user(ORGANIZER).last_reply()
    assert (
        "Wrapped up:\nPython: 3 meetings, 2 came on average 2 of 3 learners reached their goal. "
        f"Report: https://circlebot.test/reports/{token()}"
    ) in digest


def test_the_public_page_shows_the_figures_and_no_names(sms_user, telegram_user, run_jobs, client):
    seed()
    answer_surveys(sms_user, telegram_user, run_jobs, brian=True)
    tick_at("2026-12-09T17:05:00+00:00", run_jobs)
    with time_machine.travel(at("2026-12-20T10:00:00+00:00")):
        response = client.get(f"/reports/{token()}")
        chart = client.get(f"/reports/{token()}/chart.png")
    assert response.status_code == 200
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    html = response.get_data(as_text=True)
    for figure in ("Report: Python, 24 Nov to 8 Dec, 3 meetings", "4.0 / 5", "24 Nov",
                   "Great group", "Start with a check-in", "2 of 3 reached 4 or 5",
                   f"/reports/{token()}/chart.png"):  # fmt: skip
        assert figure in html
    for private in ("Amina", "Brian", "Chebet", "Zawadi", "+1555", "15550000", str(CHEBET)):
        assert private not in html
    assert chart.status_code == 200 and chart.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert client.get("/reports/not-a-real-token").status_code == 404
