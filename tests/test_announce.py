"""MSG: a facilitator's announcement reaches every active learner once, after a confirmation."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from bot import queue
from bot.db import session_scope
from bot.identity import contact_for
from models.circles import Signup
from tests.support import world

NOW = datetime.fromisoformat("2026-11-22T09:00:00+00:00")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def setup(learners: int = 3, second_circle: bool = False) -> None:
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        python = world.circle(session, team, "sms:+15550000011", datetime(2026, 12, 1, 18, 0))
        if second_circle:
            world.circle(session, team, "sms:+15550000011", datetime(2026, 12, 2, 18, 0),
                         name="Poetry")  # fmt: skip
        for n in range(learners):
            contact = contact_for(session, "sms", f"+1555000020{n}")
            session.add(Signup(circle_id=python.id, person_id=contact.person_id,
                               contact_id=contact.id))  # fmt: skip


def test_msg_confirms_the_count_then_reaches_each_active_learner_once(sms_user, run_jobs):
    setup(learners=3)
    sms_user("+15550000202").says("STOP")
    run_jobs()
    facilitator = sms_user("+15550000011")
    facilitator.says("MSG Bring your laptops on Tuesday!")
    run_jobs()
    assert facilitator.last_reply() == (
        'To Python, learners reached: 2. "Bring your laptops on Tuesday!" Send it? Reply YES or NO.'
    )
    facilitator.says("yes")
    run_jobs()
    assert facilitator.last_reply() == "Sent to Python. Learners reached: 2."
    for n in (0, 1):
        assert sms_user(f"+1555000020{n}").replies() == ["Python: Bring your laptops on Tuesday!"]
    assert len(sms_user("+15550000202").replies()) == 1  # only its STOP confirmation


def test_msg_goes_on_the_bulk_queue(sms_user, run_jobs):
    setup(learners=2)
    facilitator = sms_user("+15550000011")
    facilitator.says("MSG hello")
    run_jobs()
    facilitator.says("yes")
    from bot.identity import find_contact
    from jobs import handle_inbound

    with session_scope() as session:
        contact_id = find_contact(session, "sms", "+15550000011").id
    handle_inbound.run(contact_id)
    # One bulk job carrying both learners' messages; nothing on the replies' queue.
    [job] = queue.queue(queue.LOW).get_jobs()
    assert job.func_name == queue.SEND_BATCH and len(job.args[0]) == 2


def test_msg_as_a_dialog_asks_circle_and_text_and_no_sends_nothing(sms_user, run_jobs):
    setup(learners=1, second_circle=True)
    facilitator = sms_user("+15550000011")
    for text in ("MSG", "1", "See you soon", "no"):
        facilitator.says(text)
        run_jobs()
    replies = facilitator.replies()
    assert replies[0].startswith("Message which circle?\n1) Python")
    assert replies[1] == "What should the message say?"
    assert replies[2].startswith("To Python, learners reached: 1.")
    assert replies[3] == "OK, nothing was sent."
    assert sms_user("+15550000200").replies() == []


def test_msg_to_a_circle_without_learners_says_so(sms_user, run_jobs):
    setup(learners=0)
    facilitator = sms_user("+15550000011")
    facilitator.says("MSG hello")
    run_jobs()
    assert facilitator.last_reply() == "Python has no learners to message yet."


def test_a_learner_cannot_message_a_circle(sms_user, run_jobs):
    setup(learners=1)
    learner = sms_user("+15550000200")
    learner.says("MSG everyone come early")
    run_jobs()
    assert learner.last_reply() == (
        "Sorry, MSG is for facilitators. Try NEXT, or reply HELP to see what you can do."
    )


def test_msg_with_phone_punctuation_reaches_sms_learners_as_one_gsm7_segment(sms_user, run_jobs):
    from bot.sms import is_gsm7, segments

    setup(learners=1)
    facilitator = sms_user("+15550000011")
    text = "Don’t forget\u00a0— O’Neil’s notes… “week 3” – Zoë"
    facilitator.says(f"MSG {text}")
    run_jobs()
    assert "Send it? Reply YES or NO." in facilitator.last_reply()
    facilitator.says("yes")
    run_jobs()
    received = sms_user("+15550000200").replies()
    assert received == ["Python: Don't forget - O'Neil's notes... \"week 3\" - Zoe"]
    assert is_gsm7(received[0]) and segments(received[0]) == 1


def test_msg_that_costs_more_than_one_sms_says_so_before_it_goes(sms_user, run_jobs):
    setup(learners=2)
    facilitator = sms_user("+15550000011")
    text = "Bring your laptops, a charger and the notes from last week. " * 3
    facilitator.says(f"MSG {text.strip()}")
    run_jobs()
    assert facilitator.last_reply().endswith(
        '" That is 2 SMS per learner. Send it? Reply YES or NO.'
    )
    facilitator.says("yes")
    run_jobs()
    assert facilitator.last_reply() == "Sent to Python. Learners reached: 2."


def test_msg_with_curly_quotes_that_fits_once_normalized_is_not_called_long(sms_user, run_jobs):
    setup(learners=1)
    facilitator = sms_user("+15550000011")
    facilitator.says("MSG " + "We’ll meet at the library’s hall. " * 3)
    run_jobs()
    assert "SMS per learner" not in facilitator.last_reply()
