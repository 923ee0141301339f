"""HELP through signed webhooks: one SMS per role in both languages, HELP <topic> for more, the
whole list on Telegram, and Swahili command words in Swahili."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.clock import now
from bot.db import session_scope
from bot.identity import contact_for
from bot.sms import segments
from handlers import commands
from models.circles import Circle, Signup
from tests.support import world

NEWCOMER, LEARNER, FACILITATOR, ORGANIZER = "+15550001", "+15550002", "+15550003", "+15550004"


@pytest.fixture
def people(settings):
    """One person of each role, on SMS."""
    with session_scope() as session:
        team = world.team(session, "Nakuru", "Africa/Nairobi", f"sms:{ORGANIZER}")
        circle = world.circle(session, team, f"sms:{FACILITATOR}", datetime(2030, 12, 3, 18, 0))
        contact = contact_for(session, "sms", LEARNER)
        session.add(Signup(circle_id=circle.id, person_id=contact.person_id, contact_id=contact.id))


def help_of(sms_user, run_jobs, number: str, language: str, text: str = "HELP") -> str:
    person = sms_user(number)
    if language == "sw":
        person.says("LUGHA sw")
    person.says(text)
    run_jobs()
    return person.last_reply()


@pytest.mark.parametrize("language", ["en", "sw"])
@pytest.mark.parametrize("number", [NEWCOMER, LEARNER, FACILITATOR, ORGANIZER])
def test_help_is_one_sms_for_every_role_in_both_languages(
    people, sms_user, run_jobs, number, language
):
    reply = help_of(sms_user, run_jobs, number, language)
    assert segments(reply) == 1, reply
    assert "STOP" in reply
    assert ("MSAADA" if language == "sw" else "HELP") in reply
    assert ("TIMU" if language == "sw" else "TEAM") in reply  # a would-be facilitator finds it


def test_help_on_sms_names_the_main_roles_commands(people, sms_user, run_jobs):
    assert help_of(sms_user, run_jobs, NEWCOMER, "en") == (
        "You can reply: CIRCLES, JOIN. More: HELP CIRCLES / TEAM / DATA. "
        "LANG sw: Kiswahili. STOP: no more messages, START: resume."
    )
    assert "NEXT" in help_of(sms_user, run_jobs, LEARNER, "en")
    facilitator = help_of(sms_user, run_jobs, FACILITATOR, "en")
    assert "NEW, MY, WHO, MSG" in facilitator
    assert "HELP CIRCLES / MEETINGS / TEAM / DATA" in facilitator


def test_swahili_help_shows_the_swahili_command_words(people, sms_user, run_jobs):
    newcomer = help_of(sms_user, run_jobs, NEWCOMER, "sw")
    assert newcomer.startswith("Unaweza kujibu: VIKUNDI, JIUNGE.")
    assert "JOIN" not in newcomer and "CIRCLES" not in newcomer
    facilitator = help_of(sms_user, run_jobs, FACILITATOR, "sw")
    for command in commands.COMMANDS:
        if command.words[0] in ("NEW", "MY", "WHO", "MSG"):
            assert command.words[1] in facilitator
            assert f"{command.words[0]}," not in facilitator


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("HELP circles", ("CIRCLES", "FIND", "JOIN", "NEXT", "LEAVE")),
        ("help meetings", ("NEW", "MY", "WHO", "MSG", "REMINDER", "MOVE", "REFLECT", "REPORT")),
        ("HELP TEAM", ("TEAM <code>", "INVITE", "LINK", "DIGEST")),
        ("help data", ("MYDATA", "FORGET", "CONNECT", "USE THIS")),
    ],
)
def test_help_topic_lists_its_commands(people, sms_user, run_jobs, text, words):
    reply = help_of(sms_user, run_jobs, NEWCOMER, "en", text)
    assert reply.startswith("You can reply:")
    assert all(word in reply for word in words), reply


def test_msaada_topic_in_swahili(people, sms_user, run_jobs):
    reply = help_of(sms_user, run_jobs, NEWCOMER, "sw", "MSAADA MIKUTANO")
    assert "MPYA: unda kikundi." in reply
    assert "HAMISHA / GHAIRI MKUTANO" in reply
    team = help_of(sms_user, run_jobs, "+15550009", "sw", "msaada timu")
    assert "TIMU <msimbo>" in team
    data = help_of(sms_user, run_jobs, "+15550010", "sw", "msaada taarifa")
    assert "TAARIFA ZANGU" in data and "NISAHAU" in data and "TUMIA HII" in data


def test_telegram_help_is_the_whole_list(telegram_user, run_jobs):
    ann = telegram_user(42001)
    ann.says("/help")
    run_jobs()
    assert ann.last_reply().splitlines() == [
        "You can reply:",
        "CIRCLES: open circles. FIND <place>: circles near you.",
        "JOIN <code>: join a circle.",
        "TEAM <code>: join a team as a facilitator.",
        "MYDATA: what we keep about you. FORGET: erase it. CONNECT: add your other phone or chat.",
        "More: HELP CIRCLES / TEAM / DATA.",
        "LANG sw: Kiswahili. EXIT: leave a dialog. STOP: no more messages.",
    ]


# -- Swahili wording, as a reader checked it -----------------------------------------------------


def test_swahili_letter_codes_are_msimbo_not_nambari(people, sms_user, run_jobs):
    zawadi = sms_user("+254711000003")
    zawadi.says("LUGHA sw")
    zawadi.says("JIUNGE ZZZZ")
    zawadi.says("TIMU QQQQ")
    run_jobs()
    assert zawadi.replies()[-2:] == [
        "Sijui msimbo ZZZZ. Tafadhali uangalie ujaribu tena, au jibu VIKUNDI kuona vikundi "
        "vilivyo wazi.",
        "Sijui msimbo wa mwaliko QQQQ. Tafadhali uangalie na mratibu wako.",
    ]


def test_swahili_week_line_reads_right_for_any_count(settings, sms_user, run_jobs):
    import time_machine

    from tests.support.timeline import at

    with session_scope() as session:
        team = world.team(session, "Nakuru", "Africa/Nairobi", f"sms:{ORGANIZER}")
        world.circle(session, team, f"sms:{FACILITATOR}", datetime(2026, 12, 8, 18, 0))
    organizer = sms_user(ORGANIZER)
    with time_machine.travel(at("2026-12-07T09:00:00+00:00"), tick=True):
        organizer.says("LUGHA sw")
        organizer.says("WIKI")
        run_jobs()
    assert organizer.last_reply().endswith(", waliosema ndiyo: 0")
    assert "wamesema" not in organizer.last_reply()


def test_help_with_courtesy_inside_a_dialog_is_help_and_the_question_still_waits(
    sms_user, run_jobs
):
    with session_scope() as session:
        team = world.team(session, "Nakuru", "Africa/Nairobi", f"sms:{ORGANIZER}")
        first = (now() + timedelta(days=10)).replace(tzinfo=None, hour=18, minute=0)
        code = world.circle(session, team, f"sms:{FACILITATOR}", first, name="Python").join_code
    ann = sms_user(NEWCOMER)
    for text in (f"JOIN {code}", "HELP me"):
        ann.says(text)
        run_jobs()
    assert ann.last_reply().startswith("You can reply:")
    ann.says("Msaada tafadhali")
    run_jobs()
    assert ann.last_reply().startswith("You can reply:")
    # The name question still waits; "help me with Excel" is an answer, not HELP.
    for text in ("Ann", "Help me with Excel"):
        ann.says(text)
        run_jobs()
    assert "Do you agree?" in ann.last_reply()
    ann.says("YES")
    run_jobs()
    with session_scope() as session:
        signup = session.exec(select(Signup).join(Circle)).one()
        assert signup.goal == "Help me with Excel"
