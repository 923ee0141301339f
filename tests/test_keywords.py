"""Keywords for everyone, through signed webhooks and a real RQ worker (PRODUCT "Everyone")."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import select

from bot import outbox, queue
from bot.db import session_scope
from bot.identity import find_contact
from handlers import commands
from handlers.commands import Command
from models.message import OUT, SUPPRESSED, Message
from tests.support import world
from tests.support.drivers import refused


def contact_of(channel: str, address: str):
    with session_scope() as session:
        return find_contact(session, channel, address)


@pytest.fixture
def role_commands(monkeypatch):
    """Commands for each role, registered the way the journeys register theirs."""
    noop = lambda ctx, rest: None  # noqa: E731
    registered = [
        Command(("FIND",), noop, help="lang.ask", suggest=True),
        Command(("NEXT",), noop, roles=("learner",), help="exit.nothing", suggest=True),
        Command(("MY",), noop, roles=("facilitator",), help="parse.number", suggest=True),
        Command(("INVITE",), noop, roles=("organizer",), help="parse.date_past"),
    ]
    monkeypatch.setattr(commands, "COMMANDS", registered)


def make_circle(facilitator: str = "+15550002", organizer: str = "+15550099") -> None:
    with session_scope() as session:
        team = world.team(session, "Nakuru", "Africa/Nairobi", f"sms:{organizer}")
        world.circle(session, team, f"sms:{facilitator}", datetime(2026, 12, 1, 18, 0))


def test_help_tells_a_newcomer_how_to_find_and_join_a_circle(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("HELP")
    run_jobs()
    # One SMS: the words to try, and where the rest is.
    assert alice.replies() == [
        "You can reply: CIRCLES, JOIN. More: HELP CIRCLES / TEAM / DATA. LANG sw: Kiswahili. "
        "STOP: no more messages, START: resume."
    ]
    alice.says("HELP CIRCLES")
    run_jobs()
    assert "JOIN <code>: join a circle." in alice.last_reply()


def test_help_shows_each_person_the_commands_of_their_roles(sms_user, run_jobs, role_commands):
    make_circle()
    newcomer, facilitator, organizer = (
        sms_user("+15550001"),
        sms_user("+15550002"),
        sms_user("+15550099"),
    )
    for person in (newcomer, facilitator, organizer):
        person.says("help")
    run_jobs()
    # On SMS, HELP names the words of the person's own roles; HELP <topic> has the lines.
    assert "FIND" in newcomer.last_reply()  # for everyone
    assert "MY" not in newcomer.last_reply()
    assert "MY" in facilitator.last_reply()
    assert "INVITE" not in facilitator.last_reply()
    assert "INVITE" in organizer.last_reply()


def test_the_hint_names_the_command_that_fits_the_person(sms_user, run_jobs, role_commands):
    make_circle()
    newcomer, facilitator = sms_user("+15550001"), sms_user("+15550002")
    newcomer.says("saa ngapi?")
    facilitator.says("saa ngapi?")
    run_jobs()
    assert newcomer.last_reply() == "Sorry, I didn't get that. Try FIND, or reply HELP."
    assert facilitator.last_reply() == "Sorry, I didn't get that. Try MY, or reply HELP."


def test_a_command_is_refused_politely_to_someone_without_the_role(
    sms_user, run_jobs, role_commands
):
    alice = sms_user("+15550001")
    alice.says("MY")
    run_jobs()
    # It says who may, and what they can do instead.
    assert alice.last_reply().startswith("Sorry, MY is for facilitators. Try ")
    assert refused(alice.last_reply())


def test_help_survives_a_typo(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("HLEP")
    run_jobs()
    assert alice.last_reply().startswith("You can reply:")


def test_stop_confirms_once_and_then_nothing_more_is_sent(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("HELP")
    run_jobs()
    with session_scope() as session:
        contact = find_contact(session, "sms", "+15550001")
        # A bulk message already waiting in the low queue when STOP arrives.
        outbox.to_contact(session, contact, "Reminder: circle tomorrow", queue_name=queue.LOW)
    alice.says("STOP")
    run_jobs()
    assert len(alice.replies()) == 2
    assert "START" in alice.last_reply()
    alice.says("STOP")
    alice.says("what time is the meeting?")
    alice.says("NEXT")
    run_jobs()
    assert len(alice.replies()) == 2
    with session_scope() as session:
        reminder = session.exec(
            select(Message).where(Message.body == "Reminder: circle tomorrow")
        ).one()
        assert reminder.status == SUPPRESSED


def test_a_stop_word_counts_only_as_the_whole_message(sms_user, run_jobs):
    bob, cara, dan = sms_user("+15550002"), sms_user("+15550003"), sms_user("+15550004")
    bob.says("Stop.")
    cara.says("CANCEL MEETING")
    dan.says("stop sending me the old time")
    run_jobs()
    assert contact_of("sms", "+15550002").opted_out_at is not None
    assert contact_of("sms", "+15550003").opted_out_at is None
    assert contact_of("sms", "+15550004").opted_out_at is None
    assert refused(cara.last_reply())  # CANCEL MEETING is a command
    assert "Sorry, I didn't get that" in dan.last_reply()


def test_every_carrier_opt_out_word_stops(sms_user, run_jobs):
    words = ["STOPALL", "unsubscribe", "Cancel", "END", "quit", "OPTOUT", "revoke!"]
    for index, word in enumerate(words):
        sms_user(f"+1555010{index}").says(word)
    run_jobs()
    for index, _ in enumerate(words):
        assert contact_of("sms", f"+1555010{index}").opted_out_at is not None


def test_start_resumes_after_stop(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("STOP")
    run_jobs()
    alice.says("START")
    run_jobs()
    assert "Welcome back" in alice.last_reply()
    alice.says("HELP")
    run_jobs()
    assert "You can reply:" in alice.last_reply()


def test_yes_while_stopped_resumes(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("STOP")
    run_jobs()
    alice.says("ok")
    alice.says("👍")
    run_jobs()
    assert len(alice.replies()) == 1  # an "ok" is not a YES: still stopped
    alice.says("yes")
    run_jobs()
    assert "Welcome back" in alice.last_reply()
    assert contact_of("sms", "+15550001").opted_out_at is None


def test_help_while_stopped_says_how_to_start_once_per_stop(sms_user, run_jobs):
    alice = sms_user("+15550001")
    for text in ("STOP", "HELP", "help", "MSAADA", "what now?"):
        alice.says(text)
        run_jobs()
    assert alice.replies() == [
        "You won't get any more messages from circlebot. Reply START to resume.",
        "Messages from circlebot are off. Reply START to get them again.",
    ]
    for text in ("START", "STOP", "HELP"):
        alice.says(text)
        run_jobs()
    assert alice.replies()[-1] == "Messages from circlebot are off. Reply START to get them again."
    assert len(alice.replies()) == 5


@pytest.mark.parametrize("word", ["ANZA", "anza", "Endelea"])
def test_swahili_start_words_resume_after_stop(sms_user, run_jobs, word):
    alice = sms_user("+15550001")
    for text in ("LUGHA sw", "STOP", word):
        alice.says(text)
        run_jobs()
    assert alice.last_reply().startswith("Karibu tena!")
    assert contact_of("sms", "+15550001").opted_out_at is None


def test_anza_starts_and_endelea_is_everyday_talk_when_not_stopped(sms_user, run_jobs):
    alice, bob = sms_user("+15550001"), sms_user("+15550002")
    alice.says("anza")
    bob.says("endelea")
    run_jobs()
    # Written in Swahili, so answered in Swahili.
    assert alice.last_reply().startswith("Habari! Mimi ni circlebot")
    assert "circlebot" not in bob.last_reply()  # the hint, whatever it says


def test_exit_leaves_the_dialog_and_says_so(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("LANG")
    run_jobs()
    assert "Which language" in alice.last_reply()
    alice.says("EXIT")
    run_jobs()
    assert "we stopped there" in alice.last_reply()
    alice.says("2")
    run_jobs()
    assert "Sorry, I didn't get that" in alice.last_reply()
    alice.says("exit")
    run_jobs()
    assert "nothing to leave" in alice.last_reply()


def test_lang_sw_then_the_bot_answers_in_swahili(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("LANG sw")
    run_jobs()
    assert alice.last_reply() == "Sawa, nitaandika kwa Kiswahili."
    alice.says("HELP")
    run_jobs()
    assert alice.last_reply().startswith("Unaweza kujibu:")
    alice.says("saa ngapi?")
    run_jobs()
    assert alice.last_reply().startswith("Samahani, sikuelewa")
    alice.says("LUGHA en")
    run_jobs()
    assert alice.last_reply() == "OK, I'll write in English."


def test_lang_alone_asks_and_reasks_until_it_gets_an_answer(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("LANG")
    run_jobs()
    alice.says("7")
    run_jobs()
    assert "from 1 to 2" in alice.last_reply()
    assert "Which language" in alice.last_reply()
    alice.says("kiswahili")
    run_jobs()
    assert alice.last_reply() == "Sawa, nitaandika kwa Kiswahili."


def test_lang_with_an_unknown_language_lists_the_choices(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("LANG fr")
    run_jobs()
    assert "LANG en" in alice.last_reply() and "LANG sw" in alice.last_reply()


def test_a_picture_alone_gets_a_kind_reply(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says(
        "",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1",
        MediaContentType0="image/jpeg",
    )
    run_jobs()
    assert "only read text" in alice.last_reply()


def test_whatsapp_help_round_trip(whatsapp_user, run_jobs, twilio_api):
    bea = whatsapp_user("+254712345678")
    bea.says("help")
    run_jobs()
    assert "You can reply:" in bea.last_reply()
    assert twilio_api.sent[-1]["From"] == "whatsapp:+15550000001"


def test_telegram_private_help_and_start(telegram_user, run_jobs):
    ann = telegram_user(4242)
    ann.says("/start")
    run_jobs()
    assert "circlebot" in ann.last_reply()
    ann.says("/help")
    run_jobs()
    assert "You can reply:" in ann.last_reply()


def test_telegram_group_help_addressed_to_the_bot_is_answered_in_the_group(
    telegram_user, run_jobs, fake_telegram
):
    ann = telegram_user(4242)
    ann.says_in(-100123, "/help@circlebot_test_bot")
    ann.says_in(-100123, "/help@some_other_bot")
    ann.says_in(-100123, "good morning everyone")
    run_jobs()
    texts = fake_telegram.sent_texts(chat_id=-100123)
    assert len(texts) == 1
    assert "/link CODE" in texts[0]
    assert ann.replies() == []


def test_unlinked_group_is_told_to_link_first(telegram_user, run_jobs, fake_telegram):
    ann = telegram_user(4242)
    ann.says_in(-100123, "/week")
    run_jobs()
    assert "isn't linked to a team" in fake_telegram.sent_texts(chat_id=-100123)[-1]


def test_unknown_text_gets_a_hint_never_silence(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("what is this?")
    run_jobs()
    assert alice.last_reply() == "Sorry, I didn't get that. Try CIRCLES, or reply HELP."


def test_replies_are_outbound_rows_marked_sent(sms_user, run_jobs):
    alice = sms_user("+15550001")
    alice.says("HELP")
    run_jobs()
    with session_scope() as session:
        rows = session.exec(select(Message).where(Message.direction == OUT)).all()
        assert [row.status for row in rows] == ["sent"]
        assert rows[0].provider_id.startswith("SM")


def test_messages_from_one_contact_are_handled_in_arrival_order(sms_user, run_jobs):
    alice = sms_user("+15550001")
    for text in ("LANG", "2", "HELP", "LUGHA en", "HELP"):
        alice.says(text)
    run_jobs()
    replies = alice.replies()
    assert replies[0].startswith("Which language")
    assert replies[1] == "Sawa, nitaandika kwa Kiswahili."
    assert replies[2].startswith("Unaweza kujibu:")
    assert replies[3] == "OK, I'll write in English."
    assert replies[4].startswith("You can reply:")


def test_a_linked_group_hears_its_teams_language(telegram_user, run_jobs, fake_telegram):
    from models.teams import GroupChat

    ann = telegram_user(4242)
    ann.says_in(-100321, "/help@circlebot_test_bot")
    run_jobs()
    with session_scope() as session:
        team = world.team(session, "Mombasa", "Africa/Nairobi", "telegram:4242")
        team.language = "sw"
        session.exec(select(GroupChat)).one().team_id = team.id
    ann.says_in(-100321, "/help@circlebot_test_bot")
    run_jobs()
    texts = fake_telegram.sent_texts(chat_id=-100321)
    assert texts[0].startswith("Hi! An organizer can link this group")
    assert texts[1].startswith("Kikundi hiki kinapata muhtasari wa kila wiki wa timu.")
