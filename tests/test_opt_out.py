"""STOP, whatever letters draw it, counts only as the whole message, and holds per contact while
naming the person's other channels (PRODUCT "Everyone")."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.db import session_scope
from bot.identity import contact_for, find_contact
from bot.sms import segments
from handlers.words import whole
from models.circles import Signup
from tests.support import world
from tests.support.timeline import says_at, tick_at

LEARNER, OTHER = "+254711000001", "+254711000002"
STOP_AT = "2026-11-25T08:00:00+00:00"
LATER = "2026-11-25T09:00:00+00:00"
REMINDERS_DUE = "2026-11-29T15:00:00+00:00"  # 48 h before Tue 1 Dec, 18:00 in Nairobi
STOPPED = "You won't get any more messages from circlebot. Reply START to resume."


def make_circle(*learners: str) -> None:
    """Python meets from Tue 1 Dec, 18:00 in Nairobi; these contacts are its learners."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        circle = world.circle(session, team, "sms:+15550000011", datetime(2026, 12, 1, 18, 0))
        for handle in learners:
            contact = contact_for(session, *handle.split(":", 1))
            session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                               contact_id=contact.id, goal="learn"))  # fmt: skip


def opted_out(channel: str, address: str) -> bool:
    with session_scope() as session:
        return find_contact(session, channel, address).opted_out_at is not None


# --- look-alike letters ---------------------------------------------------------------------

# What phones, "fancy text" keyboards and copy-paste make of an opt-out word.
LOOK_ALIKE_STOPS = [
    pytest.param("ＳＴＯＰ", id="fullwidth"),
    pytest.param("ｓｔｏｐ", id="fullwidth-lower"),
    pytest.param("Ｓｔｏｐ．", id="fullwidth-full-stop"),
    pytest.param("ＵＮＳＵＢＳＣＲＩＢＥ", id="fullwidth-unsubscribe"),
    pytest.param("ｃａｎｃｅｌ", id="fullwidth-cancel"),
    pytest.param("Ｑｕｉｔ！", id="fullwidth-quit"),
    pytest.param("ЅТОР", id="cyrillic"),
    pytest.param("SТОР", id="latin-s-cyrillic-top"),
    pytest.param("ΕΝD", id="greek-e-n"),
    pytest.param("ꜱᴛᴏᴘ", id="small-capitals"),
    pytest.param("𝐒𝐓𝐎𝐏", id="mathematical-bold"),
    pytest.param("ⓈⓉⓄⓅ", id="circled"),
    pytest.param("🇸🇹🇴🇵", id="regional-indicators"),
    pytest.param("ŚTÓP", id="accents"),
    pytest.param("ＳＴＯＰ\u200b", id="zero-width-space"),
    pytest.param("\u3164STOP", id="hangul-filler"),
    pytest.param("Ｓ\u00a0Ｔ\u00a0Ｏ\u00a0Ｐ", id="no-break-spaces"),
    pytest.param("\u2060ＯＰＴＯＵＴ\ufeff", id="word-joiner-and-byte-order-mark"),
]


@pytest.mark.parametrize("text", LOOK_ALIKE_STOPS)
def test_a_look_alike_stop_stops_and_then_nothing_reaches_the_person(sms_user, run_jobs, text):
    make_circle(f"sms:{LEARNER}", f"sms:{OTHER}")
    amina, other = sms_user(LEARNER), sms_user(OTHER)
    assert says_at(amina, STOP_AT, text, run_jobs) == STOPPED
    says_at(amina, LATER, "JOIN PY7K", run_jobs)
    tick_at(REMINDERS_DUE, run_jobs)
    assert other.last_reply().startswith("Reminder: Python")
    assert amina.replies() == [STOPPED]
    assert opted_out("sms", LEARNER)


@pytest.mark.parametrize("text", LOOK_ALIKE_STOPS)
def test_look_alike_letters_fold_to_the_word_they_show(text):
    assert whole(text) in {"STOP", "UNSUBSCRIBE", "CANCEL", "QUIT", "END", "OPTOUT"}


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("ＨＥＬＰ", "You can reply:"),
        ("ｈｅｌｐ", "You can reply:"),
        ("ＣＡＮＣＥＬ ＭＥＥＴＩＮＧ", "Sorry, CANCEL is for facilitators."),
    ],
)
def test_look_alike_commands_are_the_commands_they_show(sms_user, run_jobs, text, reply):
    amina = sms_user(LEARNER)
    assert says_at(amina, STOP_AT, text, run_jobs).startswith(reply)
    assert not opted_out("sms", LEARNER)


@pytest.mark.parametrize("text", ["ＳＴＡＲＴ", "ｕｎｓｔｏｐ", "ＹＥＳ", "ｎｄｉｙｏ"])
def test_a_look_alike_start_or_yes_resumes(sms_user, run_jobs, text):
    amina = sms_user(LEARNER)
    says_at(amina, STOP_AT, "STOP", run_jobs)
    assert says_at(amina, LATER, text, run_jobs).startswith("Welcome back!")
    assert not opted_out("sms", LEARNER)


# --- only the whole message -----------------------------------------------------------------

WHOLE_MESSAGE_ONLY = [
    "CANCEL MEETING",
    "ＣＡＮＣＥＬ ＭＥＥＴＩＮＧ",
    "stop sending me the old time",
    "Ｓｔｏｐ ｓｅｎｄｉｎｇ ｍｅ ｔｈｅ ｏｌｄ ｔｉｍｅ",
    "ЅТОР it",
    "Stop it!",
    "the end?",
    "quit smoking",
]
# Everyday Swahili, greetings and words for "stop", "enough" or "done": none is a carrier's
# opt-out word, so none stops. ACHA ("stop", "leave it") is in everyday talk ("Acha!",
# "acha nione"): it gets the hint that leads to HELP and STOP instead.
SWAHILI_EVERYDAY = [
    "habari", "Habari yako?", "habari za asubuhi", "asante", "Asante sana!", "sawa", "sawa sawa",
    "ndiyo", "hapana", "acha", "Acha!", "ACHA", "acha kabisa", "wacha", "nimeacha", "mambo",
    "poa", "sasa", "jambo", "karibu", "kwaheri", "shikamoo", "samahani", "endelea", "basi",
    "tosha", "imekwisha", "nimemaliza", "koma", "simama", "sitaki", "nitakuja",
]  # fmt: skip


@pytest.mark.parametrize(
    "texts, prefix",
    [(WHOLE_MESSAGE_ONLY, "+2547110001"), (SWAHILI_EVERYDAY, "+2547110002")],
    ids=["stop-inside-a-longer-message", "everyday-swahili"],
)
def test_what_is_not_a_whole_stop_word_never_stops(sms_user, run_jobs, texts, prefix):
    numbers = {text: f"{prefix}{n:02d}" for n, text in enumerate(texts)}
    for text, number in numbers.items():
        sms_user(number).says(text)
    run_jobs()
    stopped = [text for text, number in numbers.items() if opted_out("sms", number)]
    assert stopped == []
    assert all(sms_user(number).replies() for number in numbers.values())  # never silence
    assert all(sms_user(number).last_reply() != STOPPED for number in numbers.values())


def test_acha_gets_a_hint_and_the_reminders_keep_coming(sms_user, run_jobs):
    make_circle(f"sms:{LEARNER}")
    amina = sms_user(LEARNER)
    says_at(amina, STOP_AT, "LUGHA sw", run_jobs)
    assert says_at(amina, LATER, "Acha", run_jobs).startswith("Samahani, sikuelewa.")
    tick_at(REMINDERS_DUE, run_jobs)
    assert amina.last_reply().startswith("Kikumbusho: Python")


# --- one number on SMS and WhatsApp ---------------------------------------------------------


def test_stop_on_whatsapp_names_sms_which_still_gets_messages(sms_user, whatsapp_user, run_jobs):
    make_circle(f"sms:{LEARNER}")
    on_whatsapp, on_sms = whatsapp_user(LEARNER), sms_user(LEARNER)
    says_at(on_whatsapp, STOP_AT, "HELP", run_jobs)
    confirmation = says_at(on_whatsapp, LATER, "STOP", run_jobs)
    assert confirmation == (
        "You won't get more messages here on WhatsApp. You still get them on SMS: "
        "send STOP there, or STOP ALL here. Reply START to resume."
    )
    assert segments(confirmation) == 1
    assert says_at(on_sms, LATER, "HELP", run_jobs).startswith("You can reply:")
    tick_at(REMINDERS_DUE, run_jobs)
    assert on_sms.last_reply().startswith("Reminder: Python")
    assert on_whatsapp.replies()[-1] == confirmation
    # Once the SMS is stopped too, nothing else gets messages: the plain confirmation.
    assert says_at(on_sms, "2026-11-30T08:00:00+00:00", "STOP", run_jobs) == STOPPED


def test_the_confirmation_names_every_other_channel_in_the_persons_language(
    sms_user, whatsapp_user, telegram_user, run_jobs
):
    on_sms, on_whatsapp, on_telegram = (
        sms_user(LEARNER),
        whatsapp_user(LEARNER),
        telegram_user(5150),
    )
    for person in (on_sms, on_whatsapp, on_telegram):
        says_at(person, STOP_AT, "HELP", run_jobs)
    with session_scope() as session:
        # The Telegram account is the same person as the SMS number (as CONNECT will make it).
        sms = find_contact(session, "sms", LEARNER)
        find_contact(session, "telegram", "5150").person_id = sms.person_id
    says_at(on_sms, STOP_AT, "LUGHA sw", run_jobs)
    confirmation = says_at(on_sms, LATER, "stop", run_jobs)
    assert confirmation == (
        "Hutapokea ujumbe zaidi hapa kwenye SMS. Bado unapokea ujumbe kwenye WhatsApp na "
        "Telegram: tuma STOP huko, au STOP ALL hapa. Jibu START kuanza tena."
    )
    assert segments(confirmation) == 1


def test_stop_all_stops_every_channel_of_the_number_with_one_confirmation(
    sms_user, whatsapp_user, run_jobs
):
    make_circle(f"sms:{LEARNER}")
    on_whatsapp, on_sms = whatsapp_user(LEARNER), sms_user(LEARNER)
    says_at(on_sms, STOP_AT, "HELP", run_jobs)
    assert says_at(on_whatsapp, LATER, "Stop all", run_jobs) == STOPPED
    assert opted_out("sms", LEARNER) and opted_out("whatsapp", LEARNER)
    tick_at(REMINDERS_DUE, run_jobs)
    assert not any(reply.startswith("Reminder") for reply in on_sms.replies())
    assert len(on_whatsapp.replies()) == 1
