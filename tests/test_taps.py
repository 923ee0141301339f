"""Tap to answer: buttons on Telegram, quick replies on WhatsApp, plain text on SMS (issue 11)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from bot.config import use_settings
from bot.db import session_scope
from bot.identity import contact_for
from bot.sms import segments
from models.circles import Rsvp, Signup
from tests.support import drivers, world
from tests.support.drivers import telegram_post
from tests.support.timeline import at, tick_at

NOW = datetime.fromisoformat("2026-11-22T09:00:00+00:00")
QUICK_REPLY_2 = "HX" + "2" * 32


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def make_circles(*names: str) -> list[str]:
    """Circles of one Nakuru team; returns their join codes."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+254700000001")
        return [
            world.circle(session, team, "sms:+254700000002", datetime(2026, 12, 1 + n, 18, 0),
                         name=name, venue="Nakuru Library", city="Nakuru").join_code
            for n, name in enumerate(names)
        ]  # fmt: skip


def joined(count: int = 1) -> bool:
    with session_scope() as session:
        return len(session.exec(select(Signup).where(Signup.left_at.is_(None))).all()) == count


def to_consent(user, code: str, run_jobs) -> None:
    for text in (f"JOIN {code}", "Ann", "To learn Python"):
        user.says(text)
        run_jobs()


def test_a_yes_no_question_on_telegram_carries_yes_and_no_buttons(telegram_user, run_jobs):
    (code,) = make_circles("Python")
    ann = telegram_user(5001)
    to_consent(ann, code, run_jobs)
    assert "Do you agree?" in ann.last_reply()
    assert ann.buttons() == ["Yes", "No"]


def test_tapping_yes_answers_like_typing_it_and_settles_the_tap(
    telegram_user, run_jobs, fake_telegram
):
    (code,) = make_circles("Python")
    ann = telegram_user(5001)
    to_consent(ann, code, run_jobs)
    question = ann.last_question()
    update = ann.taps("Yes")
    run_jobs()
    assert ann.last_reply().startswith("You're in Python!")
    assert joined()
    answered = fake_telegram.calls("answerCallbackQuery")
    assert [call["params"]["callback_query_id"] for call in answered] == [
        update["callback_query"]["id"]
    ]
    # The question no longer offers its buttons once answered.
    assert fake_telegram.keyboard(5001, question["message_id"]) == []


def test_a_replayed_tap_is_one_answer(telegram_user, run_jobs, client):
    (code,) = make_circles("Python")
    ann = telegram_user(5001)
    to_consent(ann, code, run_jobs)
    update = ann.taps("Yes")
    run_jobs()
    replies = ann.replies()
    assert telegram_post(client, update).status_code == 200
    run_jobs()
    assert ann.replies() == replies


def test_a_tap_on_an_old_question_is_explained_not_taken(telegram_user, run_jobs):
    (code,) = make_circles("Python")
    ann = telegram_user(5001)
    to_consent(ann, code, run_jobs)
    consent = ann.last_question()
    ann.says("NO")  # typed: the dialog ends without a signup
    run_jobs()
    ann.taps("Yes", message=consent)
    run_jobs()
    assert ann.last_reply().startswith("That question is closed")
    assert not joined(1)


def test_a_tap_after_the_dialog_lapsed_is_explained(telegram_user, run_jobs, clock):
    (code,) = make_circles("Python")
    ann = telegram_user(5001)
    to_consent(ann, code, run_jobs)
    clock.shift(timedelta(hours=25))
    ann.taps("Yes")
    run_jobs()
    assert ann.last_reply().startswith("That question is closed")
    assert joined(0)


def test_a_tap_on_someone_elses_question_is_refused(telegram_user, run_jobs, client):
    (code,) = make_circles("Python")
    ann, bob = telegram_user(5001), telegram_user(5002, "Bob")
    to_consent(ann, code, run_jobs)
    assert telegram_post(client, ann.tap_update("Yes", by=5002)).status_code == 200
    run_jobs()
    assert bob.last_reply().startswith("That button was for someone else")
    assert joined(0)
    # Ann's question still waits for her, with its buttons.
    assert ann.buttons() == ["Yes", "No"]
    ann.taps("Yes")
    run_jobs()
    assert joined(1)


def test_a_tap_after_stop_gets_no_message_but_is_settled(telegram_user, run_jobs, fake_telegram):
    (code,) = make_circles("Python")
    ann = telegram_user(5001)
    to_consent(ann, code, run_jobs)
    consent = ann.last_question()
    ann.says("STOP")
    run_jobs()
    replies = ann.replies()
    ann.taps("Yes", message=consent)
    run_jobs()
    assert ann.replies() == replies
    assert joined(0)
    assert len(fake_telegram.calls("answerCallbackQuery")) == 1


def test_which_circle_offers_numbered_buttons_and_a_tap_picks_one(telegram_user, run_jobs):
    make_circles("Python", "Excel basics")
    ann = telegram_user(5001)
    for code in make_codes_joined(ann, run_jobs):
        assert code
    ann.says("LEAVE")
    run_jobs()
    assert "1)" in ann.last_reply()
    assert ann.buttons() == ["1) Python", "2) Excel basics"]
    ann.taps("2) Excel basics")
    run_jobs()
    assert "Excel basics" in ann.last_reply()
    assert ann.buttons() == ["Yes", "No"]  # then: are you sure?


def make_codes_joined(user, run_jobs) -> list[str]:
    """Join every circle there is, typing each answer."""
    with session_scope() as session:
        from models.circles import Circle

        codes = [c.join_code for c in session.exec(select(Circle).order_by(Circle.id)).all()]
    for n, code in enumerate(codes):
        user.says(f"JOIN {code}")
        run_jobs()
        if n == 0:
            user.says("Ann")
            run_jobs()
        user.says("To learn")
        run_jobs()
        user.says("YES")
        run_jobs()
    assert joined(len(codes))
    return codes


def test_sms_questions_stay_plain_text(sms_user, run_jobs, twilio_api):
    (code,) = make_circles("Python")
    ann = sms_user("+254711000001")
    to_consent(ann, code, run_jobs)
    form = twilio_api.sent[-1]
    assert "Reply YES or NO" in form["Body"]
    assert "ContentSid" not in form


def test_whatsapp_without_a_quick_reply_template_asks_in_text(whatsapp_user, run_jobs, twilio_api):
    (code,) = make_circles("Python")
    ann = whatsapp_user("+254711000001")
    to_consent(ann, code, run_jobs)
    assert "Reply YES or NO" in twilio_api.sent[-1]["Body"]


@pytest.fixture
def quick_replies(app, settings):
    use_settings(
        settings.model_copy(update={"twilio_whatsapp_quick_replies": {"2": QUICK_REPLY_2}})
    )
    yield
    use_settings(settings)


def test_whatsapp_in_the_window_asks_with_quick_replies_and_reads_the_tap(
    quick_replies, whatsapp_user, run_jobs, twilio_api
):
    (code,) = make_circles("Python")
    ann = whatsapp_user("+254711000001")
    to_consent(ann, code, run_jobs)
    form = twilio_api.sent[-1]
    assert form["ContentSid"] == QUICK_REPLY_2
    assert "Body" not in form
    assert "Do you agree?" in ann.last_reply()
    assert ann.buttons() == ["Yes", "No"]
    ann.taps("Yes")
    run_jobs()
    assert ann.last_reply().startswith("You're in Python!")
    assert joined()


def test_a_whatsapp_tap_on_a_closed_question_is_explained(quick_replies, whatsapp_user, run_jobs):
    (code,) = make_circles("Python")
    ann = whatsapp_user("+254711000001")
    to_consent(ann, code, run_jobs)
    ann.says("NO")
    run_jobs()
    ann.taps("Yes")  # the old quick reply is still on the person's screen
    run_jobs()
    assert ann.last_reply().startswith("That question is closed")
    assert joined(0)


def test_a_forged_tap_naming_no_question_is_refused(telegram_user, run_jobs, client):
    make_circles("Python")
    ann = telegram_user(5001)
    ann.says("HELP")
    run_jobs()
    update = {
        "update_id": 99001,
        "callback_query": {
            "id": "forged1",
            "from": {"id": 5001, "is_bot": False, "first_name": "Ann"},
            "chat_instance": "1",
            "data": "999999:YES",
        },
    }
    assert telegram_post(client, update).status_code == 200
    run_jobs()
    assert ann.last_reply().startswith("That question is closed")


def test_a_reply_in_a_forum_topic_goes_to_that_topic(
    telegram_user, run_jobs, fake_telegram, client
):
    ann = telegram_user(5001)
    update = ann.update("/help", chat={"id": -1001234, "type": "supergroup", "title": "Team",
                                       "is_forum": True})  # fmt: skip
    update["message"] |= {"message_thread_id": 77, "is_topic_message": True}
    assert telegram_post(client, update).status_code == 200
    run_jobs()
    sent = [c for c in fake_telegram.calls("sendMessage") if c["params"]["chat_id"] == -1001234]
    assert sent and all(int(c["params"]["message_thread_id"]) == 77 for c in sent)


def test_allowed_updates_include_taps():
    from bot.channels import telegram

    assert "callback_query" in telegram.ALLOWED_UPDATES
    assert drivers.BOT_USERNAME


def signed_up(handle: str, first: datetime = datetime(2026, 12, 1, 18, 0)) -> None:
    """A Python circle in Nakuru with one learner already in it."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+254700000001")
        circle = world.circle(session, team, "sms:+254700000002", first, name="Python",
                              venue="Nakuru Library", city="Nakuru")  # fmt: skip
        contact = contact_for(session, *handle.split(":"))
        session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                           contact_id=contact.id, goal="learn"))  # fmt: skip


def rsvps() -> list[bool]:
    with session_scope() as session:
        return list(session.exec(select(Rsvp.attending)).all())


def test_a_reminder_carries_yes_and_no_and_a_tap_is_the_rsvp(telegram_user, run_jobs):
    signed_up("telegram:5001")
    ann = telegram_user(5001)
    tick_at("2026-11-29T15:00:00+00:00", run_jobs)
    assert ann.last_reply().startswith("Reminder: Python")
    assert ann.buttons() == ["Yes", "No"]
    reminder = ann.last_question()
    with time_machine.travel(at("2026-11-29T16:00:00+00:00")):
        ann.taps("No")
        run_jobs()
    assert ann.last_reply() == "Thanks for letting us know. We'll miss you at Python."
    assert rsvps() == [False]
    # The answer can change until the meeting starts, by typing: the tap was no promise.
    with time_machine.travel(at("2026-12-01T15:05:00+00:00")):
        ann.taps("Yes", message=reminder)
        run_jobs()
    assert ann.last_reply() == "Python has already started, so I can't change your answer now."
    assert rsvps() == [False]


def test_a_reminder_tap_is_its_meetings_rsvp_even_with_a_dialog_open(telegram_user, run_jobs):
    signed_up("telegram:5001")
    ann = telegram_user(5001)
    tick_at("2026-11-29T15:00:00+00:00", run_jobs)
    reminder = ann.last_question()
    with time_machine.travel(at("2026-11-29T16:00:00+00:00"), tick=True):
        ann.says("LANG")  # a dialog: "Which language?"
        run_jobs()
        ann.taps("Yes", message=reminder)
        run_jobs()
        assert ann.last_reply() == "Thanks! See you at Python, Tue 1 Dec, 18:00."
        ann.says("2")  # the language question still waits for its answer
        run_jobs()
    assert ann.last_reply() == "Sawa, nitaandika kwa Kiswahili."
    assert rsvps() == [True]


def test_next_asks_about_one_meeting_with_buttons_in_swahili(telegram_user, run_jobs):
    signed_up("telegram:5001")
    ann = telegram_user(5001)
    with time_machine.travel(at("2026-11-25T08:00:00+00:00"), tick=True):
        ann.says("LUGHA sw")
        ann.says("IJAYO")
        run_jobs()
        assert ann.buttons() == ["Ndiyo", "Hapana"]
        ann.taps("Ndiyo")
        run_jobs()
    assert ann.last_reply() == "Asante! Tutaonana kwenye Python, Jumanne 1 Des, 18:00."
    assert rsvps() == [True]


def test_a_tap_on_a_reminder_after_leaving_the_circle_is_explained(telegram_user, run_jobs):
    signed_up("telegram:5001")
    ann = telegram_user(5001)
    tick_at("2026-11-29T15:00:00+00:00", run_jobs)
    reminder = ann.last_question()
    with time_machine.travel(at("2026-11-29T16:00:00+00:00"), tick=True):
        for text in ("LEAVE", "YES"):
            ann.says(text)
            run_jobs()
        ann.taps("Yes", message=reminder)
        run_jobs()
    assert ann.last_reply().startswith("That question is closed")
    assert rsvps() == []


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_the_way_out_is_offered_where_it_costs_no_second_sms(
    sms_user, telegram_user, run_jobs, channel
):
    (code,) = make_circles("Python")
    ann = sms_user("+15550001") if channel == "sms" else telegram_user(5001)
    to_consent(ann, code, run_jobs)
    for _ in range(3):
        ann.says("ok")  # not an explicit yes: asked again
        run_jobs()
    third = ann.last_reply()
    assert "Do you agree?" in third
    # On SMS the consent question and its hint fill one part: the EXIT line would need a second.
    assert third.endswith("Reply EXIT to leave this dialog.") == (channel == "telegram")
    assert segments(third) == 1 or channel == "telegram"
