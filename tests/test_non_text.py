"""Greetings, thanks, HELP in a few more words and non-text messages, through signed webhooks:
each gets a kind answer, never "Sorry, I didn't get that"."""

from __future__ import annotations

import itertools

import pytest

from tests.support import drivers

MEDIA = "Thanks! I can only read text messages. Reply HELP to see what you can do."
VOICE = "Thanks! I can't listen to voice notes yet. Please type your message, or reply HELP."
_ids = itertools.count(7000)

# What Telegram sends for each kind of message, trimmed to the fields that tell them apart.
FILE = {"file_id": "AwACAgQAAxkBAAIBQ2Zx", "file_unique_id": "AgADQ2Zx"}
TELEGRAM_KINDS = [
    ("voice", {"voice": {**FILE, "duration": 4, "mime_type": "audio/ogg"}}, VOICE),
    ("audio", {"audio": {**FILE, "duration": 180, "mime_type": "audio/mpeg"}}, VOICE),
    ("video", {"video": {**FILE, "width": 640, "height": 360, "duration": 9}}, MEDIA),
    ("video_note", {"video_note": {**FILE, "length": 240, "duration": 6}}, MEDIA),
    (
        "sticker",
        {
            "sticker": {**FILE, "type": "regular", "width": 512, "height": 512,
                        "is_animated": False, "is_video": False, "emoji": "👍"}
        },
        MEDIA,
    ),
    ("location", {"location": {"latitude": -0.3031, "longitude": 36.08}}, MEDIA),
    (
        "contact",
        {"contact": {"phone_number": "+254711000002", "first_name": "Baraka"}},
        MEDIA,
    ),
    (
        "document",
        {"document": {**FILE, "file_name": "notes.pdf", "mime_type": "application/pdf"}},
        MEDIA,
    ),
    ("photo", {"photo": [{**FILE, "width": 90, "height": 90}]}, MEDIA),
]  # fmt: skip


def telegram_update(user_id: int, fields: dict) -> dict:
    update_id = next(_ids)
    sender = {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": "en"}
    chat = {"id": user_id, "type": "private", "first_name": "Ann"}
    message = {"message_id": update_id, "from": sender, "chat": chat, "date": 1790000000}
    return {"update_id": update_id, "message": message | fields}


@pytest.mark.parametrize(
    ("kind", "fields", "expected"), TELEGRAM_KINDS, ids=[kind for kind, _, _ in TELEGRAM_KINDS]
)
def test_every_telegram_non_text_message_gets_the_same_kind_reply(
    client, telegram_user, run_jobs, kind, fields, expected
):
    ann = telegram_user(41001)
    response = drivers.telegram_post(client, telegram_update(41001, fields))
    assert response.status_code == 200
    run_jobs()
    assert ann.replies() == [expected]


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [("image/jpeg", MEDIA), ("audio/ogg", VOICE), ("video/mp4", MEDIA), ("audio/amr", VOICE)],
)
@pytest.mark.parametrize("whatsapp", [False, True], ids=["sms", "whatsapp"])
def test_twilio_media_without_text_gets_the_same_kind_reply(
    sms_user, whatsapp_user, run_jobs, content_type, expected, whatsapp
):
    bea = (whatsapp_user if whatsapp else sms_user)("+15550101")
    media = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1"
    bea.says("", NumMedia="1", MediaUrl0=media, MediaContentType0=content_type)
    run_jobs()
    assert bea.replies() == [expected]


def test_a_voice_note_in_swahili_asks_to_type(sms_user, run_jobs):
    zawadi = sms_user("+254711000001")
    zawadi.says("LUGHA sw")
    zawadi.says("", NumMedia="1", MediaUrl0="https://example.test/v", MediaContentType0="audio/ogg")
    run_jobs()
    assert "sauti" in zawadi.last_reply()


HABARI = "Habari! Jaribu VIKUNDI, au jibu MSAADA kuona unachoweza kufanya."
KARIBU = "Karibu sana! Jibu MSAADA wakati wowote kuona unachoweza kufanya."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", "Hello! Try CIRCLES, or reply HELP to see what you can do."),
        ("Hi!", "Hello! Try CIRCLES, or reply HELP to see what you can do."),
        ("good morning", "Hello! Try CIRCLES, or reply HELP to see what you can do."),
        ("thanks", "You're welcome! Reply HELP any time to see what you can do."),
        ("Thank you so much!", "You're welcome! Reply HELP any time to see what you can do."),
        # Someone new who writes Swahili is answered in Swahili, told once how to switch.
        ("Habari", f"{HABARI}\nFor English, reply LANG en."),
        ("mambo", f"{HABARI}\nFor English, reply LANG en."),
        ("Jambo", f"{HABARI}\nFor English, reply LANG en."),
        ("asante", f"{KARIBU}\nFor English, reply LANG en."),
    ],
)
def test_greetings_and_thanks_get_a_friendly_answer(sms_user, run_jobs, text, expected):
    alice = sms_user("+15550001")
    alice.says(text)
    run_jobs()
    assert alice.replies() == [expected]


def test_greetings_answer_in_swahili_with_the_swahili_command(sms_user, run_jobs):
    zawadi = sms_user("+254711000001")
    zawadi.says("LUGHA sw")
    zawadi.says("Habari za asubuhi")
    zawadi.says("asante sana")
    run_jobs()
    assert zawadi.replies()[-2:] == [HABARI, KARIBU]


def test_a_greeting_names_the_command_of_the_persons_role(telegram_user, run_jobs):
    from datetime import datetime

    from bot.db import session_scope
    from tests.support import world

    with session_scope() as session:
        team = world.team(session, "Nakuru", "Africa/Nairobi", "sms:+15550099")
        world.circle(session, team, "telegram:41002", datetime(2030, 12, 3, 18, 0))
    omar = telegram_user(41002, "Omar")
    omar.says("hi there")
    run_jobs()
    assert omar.last_reply() == "Hello! Try MY, or reply HELP to see what you can do."


@pytest.mark.parametrize(
    ("text", "start"),
    [("HELP me", "You can reply:"), ("help please", "You can reply:"),
     ("Help!  pls", "You can reply:"), ("msaada tafadhali", "Unaweza kujibu:")],
)  # fmt: skip
def test_help_with_courtesy_words_is_help(sms_user, run_jobs, text, start):
    alice = sms_user("+15550001")
    alice.says(text)
    run_jobs()
    assert alice.last_reply().startswith(start)


def test_small_talk_is_not_taken_for_more_than_it_is(sms_user, run_jobs):
    alice = sms_user("+15550001")
    for text in ("good", "hi, when is the meeting?"):
        alice.says(text)
    run_jobs()
    assert alice.replies() == ["Sorry, I didn't get that. Try CIRCLES, or reply HELP."] * 2
