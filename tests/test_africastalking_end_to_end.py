"""A Kenyan learner on a basic phone, entirely through Africa's Talking's shortcode, beside a
Chicago learner on Twilio in the same deployment (issue 12, "Done means")."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from sqlmodel import select

from bot.db import session_scope
from models.circles import Circle, Rsvp, Signup
from models.message import OUT, Message
from tests.support import drivers, world
from tests.support.timeline import at, replies_to, says_at, tick_at

AMINA, KENYAN_FACILITATOR = "+254711000001", "+254700000002"
ROSA, CHICAGO_FACILITATOR = "+13125550101", "+13125550002"
JOINING = "2026-11-22T09:00:00+00:00"
REMINDERS = "2026-11-29T15:00:00+00:00"  # 48 hours before both first meetings


@pytest.fixture
def deployment(settings):
    """Kenya on the shortcode, everyone else on Twilio; a circle in Nakuru and one in Chicago,
    both meeting first on 1 December at 15:00 UTC."""
    settings.sms_routes = {"+254": "africastalking", "*": "twilio"}
    with session_scope() as session:
        nakuru = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+254700000001")
        chicago = world.team(session, "Chicago Public Library", "America/Chicago",
                             "sms:+13125550001")  # fmt: skip
        circles = [
            world.circle(session, nakuru, f"sms:{KENYAN_FACILITATOR}", datetime(2026, 12, 1, 18, 0),
                         name="Python", venue="Nakuru Library"),
            world.circle(session, chicago, f"sms:{CHICAGO_FACILITATOR}",
                         datetime(2026, 12, 1, 9, 0), name="Public Speaking",
                         venue="Harold Washington", city="Chicago"),
        ]  # fmt: skip
        return {circle.name: circle.join_code for circle in circles}


def test_a_kenyan_learner_joins_is_reminded_and_answers_yes_through_the_shortcode(
    deployment, africastalking_user, africastalking_api, sms_user, twilio_api, client, run_jobs
):
    amina, rosa = africastalking_user(AMINA), sms_user(ROSA)
    joining = (f"JOIN {deployment['Python']}", "Amina", "Build a website for my shop", "yes")
    assert replies_to(amina, JOINING, run_jobs, *joining) == [
        "Welcome! What's your name?",
        "What do you hope to get out of Python? (a short sentence)",
        "We keep your name, number and goal to run the circle and share them only with its "
        "facilitators. Do you agree? Reply YES or NO.",
        "You're in Python! First meeting: Tue 1 Dec, 18:00 at Nakuru Library. "
        "We'll remind you before each meeting.",
    ]
    # Her facilitator never wrote to us: the route for his Kenyan number takes the shortcode.
    assert africastalking_api.to(KENYAN_FACILITATOR) == [
        "New learner in Python: Amina. Goal: Build a website for my shop. Learners now: 1."
    ]
    replies_to(rosa, JOINING, run_jobs,
               f"JOIN {deployment['Public Speaking']}", "Rosa", "Speak up at work", "yes")  # fmt: skip
    assert rosa.last_reply().startswith("You're in Public Speaking!")

    assert tick_at(REMINDERS, run_jobs)["reminder"] == 2
    assert amina.last_reply() == (
        "Reminder: Python, Tue 1 Dec, 18:00 at Nakuru Library. "
        "Reply YES if you're coming, NO if not."
    )
    assert rosa.last_reply() == (
        "Reminder: Public Speaking, Tue 1 Dec, 09:00 at Harold Washington. "
        "Reply YES if you're coming, NO if not."
    )
    reminder = forms_to(africastalking_api, AMINA)[-1]
    assert reminder["from"] == drivers.AT_SHORTCODE
    report = {"id": reminder["messageId"], "status": "Success", "phoneNumber": AMINA}
    assert drivers.africastalking_post(client, drivers.AT_DELIVERY_PATH, report).status_code == 200

    assert says_at(amina, "2026-11-29T16:00:00+00:00", "YES", run_jobs) == (
        "Thanks! See you at Python, Tue 1 Dec, 18:00."
    )
    assert says_at(rosa, "2026-11-29T16:00:00+00:00", "yes", run_jobs) == (
        "Thanks! See you at Public Speaking, Tue 1 Dec, 09:00."
    )
    assert rsvps() == [("Amina", True), ("Rosa", True)]
    assert delivered_to(AMINA) == ["Reminder: Python"]
    # Each learner heard only from the provider they texted.
    assert twilio_api.to(AMINA) == [] and twilio_api.to(KENYAN_FACILITATOR) == []
    assert africastalking_api.to(ROSA) == [] and africastalking_api.to(CHICAGO_FACILITATOR) == []


def rsvps() -> list[tuple[str, bool]]:
    from models.people import Person

    with session_scope() as session:
        rows = session.exec(
            select(Person.name, Rsvp.attending)
            .join(Signup, Signup.person_id == Person.id)
            .join(Rsvp, Rsvp.signup_id == Signup.id)
            .join(Circle, Circle.id == Signup.circle_id)
        ).all()
        return sorted(rows)


def delivered_to(number: str) -> list[str]:
    """The start of each message Africa's Talking reported delivered to a number."""
    from models.people import Contact

    with session_scope() as session:
        bodies = session.exec(
            select(Message.body)
            .join(Contact, Contact.id == Message.contact_id)
            .where(Contact.address == number, Message.direction == OUT,
                   Message.status == "delivered")
        ).all()  # fmt: skip
        return [body.split(",")[0] for body in bodies]


def forms_to(api, number: str) -> list[dict[str, str]]:
    """Every form our client posted to Africa's Talking for one number."""
    return [form for form in api.sent if form["to"] == number]


def test_replies_echo_the_link_id_of_the_message_they_answer_and_nothing_else(
    deployment, africastalking_user, africastalking_api, run_jobs
):
    # A premium or on-demand shortcode gives each incoming message a linkId, which our reply
    # to that message carries back; a standard one gives none.
    amina = africastalking_user(AMINA)
    joining = [(f"JOIN {deployment['Python']}", "41000000000000000001"),
               ("Amina", "41000000000000000002"), ("Goal", None), ("yes", "41000000000000000004")]  # fmt: skip
    with time_machine.travel(at(JOINING)):
        for text, link_id in joining:
            amina.says(text, link_id=link_id)
            run_jobs()
            assert forms_to(africastalking_api, AMINA)[-1].get("linkId") == link_id, text
    # The facilitator's notice and the reminder answer nothing their recipient sent.
    assert ["linkId" in form for form in forms_to(africastalking_api, KENYAN_FACILITATOR)] == [
        False
    ]
    # Half an hour before her reminder she writes again: the reminder is still no reply.
    with time_machine.travel(at("2026-11-29T14:30:00+00:00")):
        amina.says("HELP", link_id="41000000000000000005")
        run_jobs()
    assert forms_to(africastalking_api, AMINA)[-1]["linkId"] == "41000000000000000005"
    tick_at(REMINDERS, run_jobs)
    reminder = forms_to(africastalking_api, AMINA)[-1]
    assert reminder["message"].startswith("Reminder: Python") and "linkId" not in reminder
