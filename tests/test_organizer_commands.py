"""An organizer by direct message: codes to share, the week, circles, facilitators, feedback,
the digest on demand; nobody else gets them."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for
from models.circles import Meeting, Signup
from models.feedback import Reflection
from models.people import Person
from models.teams import Team, add_member
from tests.support import world
from tests.support.drivers import refused
from tests.support.timeline import at

ORGANIZER, FACILITATOR, LEARNER = "+15550000010", "+15550000011", "+15550000101"
NOW = "2026-12-02T09:00:00+00:00"  # Wednesday: Python met yesterday and meets next Tuesday


def setup() -> str:
    """Team Nakuru with Python (met once, reflected on) and Zawadi, facilitator with no circle
    yet; returns the team's invite code."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"sms:{ORGANIZER}")
        facilitator = world.person_id(session, f"sms:{FACILITATOR}")
        session.get(Person, facilitator).name = "Juma"
        python = world.circle(session, team, f"sms:{FACILITATOR}", datetime(2026, 12, 1, 18, 0),
                              name="Python", weeks=3)  # fmt: skip
        zawadi = world.person_id(session, "sms:+15550000012")
        session.get(Person, zawadi).name = "Zawadi"
        add_member(session, team.id, zawadi, "facilitator")
        contact = contact_for(session, "sms", LEARNER)
        session.add(Signup(circle_id=python.id, person_id=contact.person_id,
                           contact_id=contact.id))  # fmt: skip
        first = session.exec(select(Meeting).where(Meeting.circle_id == python.id,
                                                   Meeting.number == 1)).one()  # fmt: skip
        session.add(Reflection(meeting_id=first.id, person_id=facilitator, rating=5,
                               attendance=1, went_well="Good start"))  # fmt: skip
        return team.invite_code


def ask(person, text: str, run_jobs) -> list[str]:
    before = len(person.replies())
    with time_machine.travel(at(NOW), tick=True):
        person.says(text)
        run_jobs()
    return person.replies()[before:]


def test_invite_gives_the_facilitator_code_with_a_line_to_share(sms_user, run_jobs):
    code = setup()
    assert ask(sms_user(ORGANIZER), "INVITE", run_jobs) == [
        f"Facilitator invite code for Nakuru Libraries: {code}. "
        f'Share: "Send TEAM {code} to +15550000000"'
    ]


def test_link_gives_a_one_time_code_that_links_a_group(sms_user, telegram_user, run_jobs):
    setup()
    [reply] = ask(sms_user(ORGANIZER), "LINK", run_jobs)
    assert reply.startswith("Group link code for Nakuru Libraries: ")
    code = reply.split(": ")[1].split(" ")[0]
    assert reply.endswith(f"send /link {code}")
    ann = telegram_user(4242)
    with time_machine.travel(at(NOW), tick=True):
        ann.says_in(-100500, f"/link {code}")
        run_jobs()
    assert ann.telegram.sent_texts(chat_id=-100500)[-1].startswith("Linked to Nakuru Libraries.")


def test_week_circles_facilitators_and_feedback_show_the_team(sms_user, run_jobs):
    setup()
    organizer = sms_user(ORGANIZER)
    assert ask(organizer, "WEEK", run_jobs) == [
        "This week:\nTue 8 Dec, 18:00: Python (Juma), 0 said yes"
    ]
    [circles] = ask(organizer, "CIRCLES", run_jobs)
    assert circles.startswith("Circles of Nakuru Libraries:\nPython (")
    assert circles.endswith("): next Tue 8 Dec, 18:00. Learners: 1.")
    assert ask(organizer, "FACILITATORS", run_jobs) == [
        "Facilitators of Nakuru Libraries:\nJuma: Python\nZawadi: no circle yet"
    ]
    assert ask(organizer, "maoni", run_jobs) == [
        "Reflections of the last two weeks:\n"
        "Python, Tue 1 Dec, 18:00: 5/5, 1 came. Went well: Good start. To change: -."
    ]


def test_digest_on_demand_does_not_count_as_the_weekly_one(sms_user, run_jobs):
    setup()
    organizer = sms_user(ORGANIZER)
    replies = ask(organizer, "DIGEST", run_jobs)
    assert replies[0].startswith("Weekly digest for Nakuru Libraries, 2 Dec")
    assert any("Python, Tue 1 Dec, 18:00: 5/5" in page for page in replies)
    with session_scope() as session:
        team = session.exec(select(Team)).one()
        assert team.digest_due_at == at("2026-11-23T05:00:00+00:00")  # still due


@pytest.mark.parametrize("number", [FACILITATOR, LEARNER, "+15550000999"])
@pytest.mark.parametrize("command", ["INVITE", "LINK", "DIGEST", "WEEK", "FACILITATORS"])
def test_only_organizers_get_team_codes_and_views(sms_user, run_jobs, number, command):
    setup()
    (reply,) = ask(sms_user(number), command, run_jobs)
    assert reply.startswith(f"Sorry, {command} is for organizers. ")
    assert refused(reply)


def test_circles_from_anyone_else_still_lists_circles_to_join(sms_user, run_jobs):
    setup()
    [reply] = ask(sms_user(LEARNER), "CIRCLES", run_jobs)
    assert "Circles of Nakuru Libraries" not in reply and "Python" in reply


def test_help_shows_an_organizer_the_team_commands(sms_user, run_jobs):
    setup()
    [short] = ask(sms_user(ORGANIZER), "HELP", run_jobs)
    assert "More: HELP CIRCLES / MEETINGS / TEAM / DATA." in short
    [help_text] = ask(sms_user(ORGANIZER), "HELP TEAM", run_jobs)
    assert "INVITE / LINK: codes for facilitators and for your group chat." in help_text
    assert "DIGEST, WEEK, CIRCLES, FACILITATORS, FEEDBACK: your team's news." in help_text


def test_a_facilitator_without_a_name_is_still_listed_with_their_circle(sms_user, run_jobs):
    setup()
    with session_scope() as session:
        juma = session.exec(select(Person).where(Person.name == "Juma")).one()
        juma.name = None
    organizer = sms_user(ORGANIZER)
    assert ask(organizer, "FACILITATORS", run_jobs) == [
        "Facilitators of Nakuru Libraries:\nno name yet: Python\nZawadi: no circle yet"
    ]
    assert ask(organizer, "WEEK", run_jobs) == [
        "This week:\nTue 8 Dec, 18:00: Python (no name yet), 0 said yes"
    ]


def telegram_organizer(telegram_id: int) -> None:
    with session_scope() as session:
        team = session.exec(select(Team)).one()
        add_member(session, team.id, world.person_id(session, f"telegram:{telegram_id}"),
                   "organizer")  # fmt: skip


def test_invite_on_telegram_names_the_bots_telegram_link(telegram_user, run_jobs):
    code = setup()
    telegram_organizer(4242)
    assert ask(telegram_user(4242), "/invite", run_jobs) == [
        f"Facilitator invite code for Nakuru Libraries: {code}. "
        f'Share: "Send TEAM {code} to t.me/circlebot_test_bot"'
    ]


def test_invite_without_a_number_or_username_names_no_one(settings, telegram_user, run_jobs):
    from bot.config import use_settings

    use_settings(settings.model_copy(update={"twilio_sms_from": "MG" + "0" * 32,
                                             "twilio_whatsapp_from": "",
                                             "africastalking_shortcode": "",
                                             "telegram_bot_username": ""}))  # fmt: skip
    code = setup()
    telegram_organizer(4242)
    assert ask(telegram_user(4242), "INVITE", run_jobs) == [
        f"Facilitator invite code for Nakuru Libraries: {code}. "
        f"Facilitators join by sending TEAM {code} to circlebot."
    ]


def test_the_invite_code_question_answered_with_team_and_the_code_takes_the_code(
    sms_user, run_jobs
):
    code = setup()
    newcomer = sms_user("+15550000013")
    assert ask(newcomer, "TEAM", run_jobs) == [
        "What's your team's invite code? Your organizer can send it to you."
    ]
    assert ask(newcomer, f"team {code.lower()}", run_jobs) == ["Welcome! What's your name?"]


def test_circles_follows_a_moved_meeting(sms_user, run_jobs):
    setup()
    ask(sms_user(FACILITATOR), "MOVE", run_jobs)
    for text in ("1", "Thursday 10 Dec 17:00", "yes"):
        ask(sms_user(FACILITATOR), text, run_jobs)
    [circles] = ask(sms_user(ORGANIZER), "CIRCLES", run_jobs)
    assert circles.endswith("): next Thu 10 Dec, 17:00. Learners: 1.")
