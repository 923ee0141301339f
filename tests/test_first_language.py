"""A new person's first language, through signed webhooks: their app's language, the language
of their first message, their number's country (COUNTRY_LANGUAGES), else the default; and their
first reply says, in the other language, how to switch."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from bot import languages
from bot.config import use_settings
from bot.db import session_scope
from bot.sms import segments
from models.people import Person
from tests.support import drivers, world

NOW = datetime.fromisoformat("2026-11-22T09:00:00+00:00")
KENYAN, AMERICAN = "+254711000001", "+15550001"
TO_ENGLISH = "For English, reply LANG en."
TO_SWAHILI = "Kwa Kiswahili, jibu LUGHA sw."
HELLO_SW = "Habari! Jaribu VIKUNDI, au jibu MSAADA kuona unachoweza kufanya."
HELLO_EN = "Hello! Try CIRCLES, or reply HELP to see what you can do."
UNKNOWN_SW = "Samahani, sikuelewa. Jaribu VIKUNDI, au jibu MSAADA."


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def kenya_speaks_swahili(app, settings):
    use_settings(settings.model_copy(update={"country_languages": {"KE": "sw"}}))


def first_replies(user, run_jobs, *texts: str) -> list[str]:
    for text in texts:
        user.says(text)
    run_jobs()
    return user.replies()


def language_of(handle: str) -> str:
    with session_scope() as session:
        return session.get(Person, world.person_id(session, handle)).language


def open_circle() -> str:
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+254700000001")
        return world.circle(
            session, team, "sms:+254700000002", datetime(2026, 12, 1, 18, 0)
        ).join_code


def two_open_circles() -> None:
    open_circle()
    with session_scope() as session:
        team = world.team(session, "Mombasa", "Africa/Nairobi", "sms:+254700000009")
        world.circle(session, team, "sms:+254700000008", datetime(2026, 12, 2, 9, 0),
                     name="Digital Skills", venue="Fort Jesus", city="Mombasa")  # fmt: skip


@pytest.mark.parametrize(("text", "reply"), [("Habari", HELLO_SW), ("Nataka kujiunga", UNKNOWN_SW)])
def test_a_new_kenyan_number_writing_swahili_is_answered_in_swahili(
    sms_user, run_jobs, text, reply
):
    zawadi = sms_user(KENYAN)
    assert first_replies(zawadi, run_jobs, text) == [f"{reply}\n{TO_ENGLISH}"]
    assert language_of(f"sms:{KENYAN}") == "sw"


def test_hello_is_answered_in_english_offering_swahili_where_the_team_speaks_it(
    kenya_speaks_swahili, sms_user, run_jobs
):
    assert first_replies(sms_user(KENYAN), run_jobs, "hello") == [f"{HELLO_EN}\n{TO_SWAHILI}"]
    # Nothing says Swahili about an American number that writes English.
    assert first_replies(sms_user(AMERICAN), run_jobs, "hello") == [HELLO_EN]


def test_a_code_only_first_message_takes_the_numbers_country_language(
    kenya_speaks_swahili, sms_user, run_jobs
):
    code = open_circle()
    assert first_replies(sms_user(KENYAN), run_jobs, f"JOIN {code}") == [
        f"Karibu! Jina lako ni nani?\n{TO_ENGLISH}"
    ]
    assert first_replies(sms_user(AMERICAN), run_jobs, f"JOIN {code}") == [
        "Welcome! What's your name?"
    ]


def test_without_country_languages_a_code_only_first_message_is_in_the_default(sms_user, run_jobs):
    code = open_circle()
    assert first_replies(sms_user(KENYAN), run_jobs, f"JOIN {code}") == [
        "Welcome! What's your name?"
    ]
    assert language_of(f"sms:{KENYAN}") == "en"


def test_only_the_first_reply_says_how_to_switch(sms_user, run_jobs):
    zawadi = sms_user(KENYAN)
    assert first_replies(zawadi, run_jobs, "Habari", "Habari", "asante") == [
        f"{HELLO_SW}\n{TO_ENGLISH}",
        HELLO_SW,
        "Karibu sana! Jibu MSAADA wakati wowote kuona unachoweza kufanya.",
    ]


def test_someone_who_wrote_before_is_never_guessed_again(kenya_speaks_swahili, sms_user, run_jobs):
    baraka = sms_user(KENYAN)
    first_replies(baraka, run_jobs, "hello")
    assert first_replies(baraka, run_jobs, "Habari")[-1] == HELLO_EN
    assert language_of(f"sms:{KENYAN}") == "en"


def test_someone_set_up_by_an_operator_keeps_their_language(sms_user, run_jobs):
    open_circle()  # its facilitator is +254700000002, made in English
    [reply] = first_replies(sms_user("+254700000002"), run_jobs, "Habari")
    assert reply.startswith("Hello! Try MY")
    assert language_of("sms:+254700000002") == "en"


def test_choosing_a_language_first_gets_no_line_about_switching(sms_user, run_jobs):
    assert first_replies(sms_user(KENYAN), run_jobs, "LUGHA sw") == [
        "Sawa, nitaandika kwa Kiswahili."
    ]


def test_stop_first_is_only_confirmed(kenya_speaks_swahili, sms_user, run_jobs):
    assert first_replies(sms_user(KENYAN), run_jobs, "STOP") == [
        "Hutapokea ujumbe zaidi kutoka circlebot. Jibu START kuanza tena."
    ]


def test_on_sms_a_full_first_reply_gets_the_line_as_its_own_message(sms_user, run_jobs):
    two_open_circles()
    listing, line = first_replies(sms_user(KENYAN), run_jobs, "VIKUNDI")
    assert listing.count("JOIN") == 2
    assert segments(listing) == 1
    assert segments(f"{listing}\n{TO_ENGLISH}") == 2
    assert line == TO_ENGLISH


def test_on_whatsapp_the_line_always_ends_the_first_reply(whatsapp_user, run_jobs):
    two_open_circles()
    [listing] = first_replies(whatsapp_user(KENYAN), run_jobs, "VIKUNDI")
    assert listing.count("JOIN") == 2
    assert listing.endswith(f"\n{TO_ENGLISH}")


def telegram_says(client, user, text: str, language_code: str | None) -> None:
    update = user.update(text)
    if language_code:
        update["message"]["from"]["language_code"] = language_code
    assert drivers.telegram_post(client, update).status_code == 200


def test_telegrams_language_wins_over_the_words(client, telegram_user, run_jobs):
    ann, juma, neema = telegram_user(5001), telegram_user(5002, "Juma"), telegram_user(5003)
    telegram_says(client, ann, "Habari", "en")
    telegram_says(client, juma, "hello", "sw")
    telegram_says(client, neema, "Habari", None)
    run_jobs()
    assert ann.replies() == [f"{HELLO_EN}\n{TO_SWAHILI}"]
    assert juma.replies() == [f"{HELLO_SW}\n{TO_ENGLISH}"]
    assert neema.replies() == [f"{HELLO_SW}\n{TO_ENGLISH}"]


def test_a_first_message_in_a_group_gets_no_line_about_switching(telegram_user, run_jobs):
    ann = telegram_user(5004)
    ann.says_in(-1005004, "/habari")
    run_jobs()
    assert ann.telegram.sent_texts(chat_id=-1005004) == [
        "Kikundi hiki bado hakijaunganishwa na timu. Mratibu anaweza kukiunganisha kwa /link MSIMBO."
    ]
    assert ann.replies() == []


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Habari", "sw"),
        ("Nataka kujiunga", "sw"),
        ("habari za asubuhi", "sw"),
        ("Hi, nataka kujiunga", "sw"),
        ("JIUNGE H7XR", "sw"),
        ("msaada tafadhali", "sw"),
        ("asante sana", "sw"),
        ("hello", "en"),
        ("Hi!", "en"),
        ("I want to join", "en"),
        ("help me please", "en"),
        ("My name is Juma", "en"),
        # Nothing clear: a code, a bare command word, a mix, a thumbs-up, nothing at all.
        ("JOIN H7XR", None),
        ("H7XR", None),
        ("HELP", None),
        ("STOP", None),
        ("hello habari", None),
        ("ok", None),
        ("👍", None),
        ("", None),
    ],
)
def test_the_language_a_message_is_written_in(text, language):
    assert languages.written_in(text) == language


@pytest.mark.parametrize(
    ("channel", "address", "text", "hint", "language"),
    [
        ("telegram", "5001", "Habari", "en-GB", "en"),  # the app's language first
        ("telegram", "5001", "hello", "fr", "en"),  # a language we don't speak says nothing
        ("sms", KENYAN, "hello", None, "en"),  # then the words
        ("sms", AMERICAN, "Habari", None, "sw"),
        ("sms", KENYAN, "JOIN H7XR", None, "sw"),  # then the number's country
        ("whatsapp", "+255712000001", "H7XR", None, None),  # else the default
        ("telegram", "5001", "H7XR", None, None),
    ],
)
def test_first_language_asks_the_app_then_the_words_then_the_country(
    kenya_speaks_swahili, channel, address, text, hint, language
):
    assert languages.first_language(channel, address, text, hint) == language
