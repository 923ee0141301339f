"""CONNECT: a one-time code attaches another channel to the person who asked for it, after a
confirmation that names them; USE THIS moves their reminders (PRODUCT "Everyone")."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.db import session_scope
from bot.i18n import catalog, t
from bot.identity import find_contact
from bot.sms import segments, to_gsm7
from models.circles import Signup
from models.conversation import Conversation
from models.people import ConnectCode, Contact, Person
from tests.support import world
from tests.support.timeline import says_at, tick_at

LEARNER = "+254711000001"
STRANGER = "+254711000099"
START = datetime.fromisoformat("2026-11-25T08:00:00+00:00")
REMINDERS_DUE = "2026-11-29T15:00:00+00:00"  # 48 h before Tue 1 Dec, 18:00 in Nairobi
BAD_CODE = (
    "That code doesn't work. A code lasts 15 minutes and works once: send CONNECT on your "
    "other phone or chat for a new one."
)
CODE = re.compile(r"Your code is ([A-Z0-9]{6})\.")


def at(minutes: float = 0) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def make_learner(handle: str = f"sms:{LEARNER}", name: str | None = "Amina") -> None:
    """Python meets from Tue 1 Dec, 18:00 in Nairobi; `handle` is its learner."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        circle = world.circle(session, team, "sms:+15550000011", datetime(2026, 12, 1, 18, 0))
        person = session.get(Person, world.person_id(session, handle))
        person.name = name
        contact = find_contact(session, *handle.split(":", 1))
        session.add(Signup(circle_id=circle.id, person_id=person.id, contact_id=contact.id,
                           goal="learn"))  # fmt: skip


def code_for(user, run_jobs, minutes: float = 0) -> str:
    """Send CONNECT and read the code out of the reply."""
    found = CODE.match(says_at(user, at(minutes), "CONNECT", run_jobs))
    assert found, user.last_reply()
    return found.group(1)


def person_of(channel: str, address: str) -> int:
    with session_scope() as session:
        return find_contact(session, channel, address).person_id


def people() -> int:
    with session_scope() as session:
        return len(session.exec(select(Person.id)).all())


# --- the code -------------------------------------------------------------------------------


def test_connect_gives_a_code_for_15_minutes_told_only_here_and_stored_hashed(
    sms_user, telegram_user, run_jobs
):
    make_learner()
    amina = sms_user(LEARNER)
    code = code_for(amina, run_jobs)
    assert amina.last_reply() == (
        f"Your code is {code}. Within 15 minutes, send CONNECT {code} from your other phone, "
        "WhatsApp or Telegram. Keep it to yourself."
    )
    with session_scope() as session:
        row = session.exec(select(ConnectCode)).one()
        assert row.code_hash == ConnectCode.digest(code) != code
        assert code not in repr(row.model_dump())
        assert row.expires_at - row.created_at == timedelta(minutes=15)


def test_a_telegram_connected_by_code_is_the_same_person_after_yes_and_both_are_told(
    sms_user, telegram_user, run_jobs
):
    make_learner()
    amina, on_telegram = sms_user(LEARNER), telegram_user(5150)
    code = code_for(amina, run_jobs)
    assert says_at(on_telegram, at(1), f"CONNECT {code}", run_jobs) == (
        "Connect this Telegram to Amina? You'll be one person to us, with the same circles "
        "and reminders. Reply YES or NO."
    )
    assert person_of("telegram", "5150") != person_of("sms", LEARNER)
    before = people()
    assert says_at(on_telegram, at(2), "YES", run_jobs) == (
        "Done: this Telegram is now connected to you. To get your reminders here, send USE THIS."
    )
    assert amina.last_reply() == (
        "Your Telegram is now connected to you: you can write to us from either."
    )
    assert person_of("telegram", "5150") == person_of("sms", LEARNER)
    assert people() == before - 1  # the Telegram's own person had nothing left: it is gone
    assert says_at(on_telegram, at(3), "NEXT", run_jobs).startswith("Python: Tue 1 Dec, 18:00")
    with session_scope() as session:
        row = session.exec(select(ConnectCode)).one()
        assert row.used_by_contact_id == find_contact(session, "telegram", "5150").id


def test_without_a_name_the_confirmation_names_the_asking_channel_masked(
    sms_user, telegram_user, run_jobs
):
    make_learner(name=None)
    code = code_for(sms_user(LEARNER), run_jobs)
    assert says_at(telegram_user(5150), at(1), f"connect {code.lower()}", run_jobs).startswith(
        "Connect this Telegram to your SMS ending 0001?"
    )


def test_a_telegram_code_named_without_digits(sms_user, telegram_user, run_jobs):
    code = code_for(telegram_user(5150), run_jobs)
    assert says_at(sms_user(STRANGER), at(1), f"CONNECT {code}", run_jobs).startswith(
        "Connect this SMS to your Telegram?"
    )


def test_no_leaves_both_apart_and_the_code_still_works(sms_user, telegram_user, run_jobs):
    make_learner()
    amina, on_telegram = sms_user(LEARNER), telegram_user(5150)
    code = code_for(amina, run_jobs)
    says_at(on_telegram, at(1), f"CONNECT {code}", run_jobs)
    assert says_at(on_telegram, at(2), "no", run_jobs) == "OK, nothing was connected."
    assert person_of("telegram", "5150") != person_of("sms", LEARNER)
    assert amina.replies()[-1].startswith("Your code is")  # nothing more to the SMS
    assert says_at(on_telegram, at(3), f"CONNECT {code}", run_jobs).startswith("Connect this")


# --- codes that do not work: one reply, telling nothing -------------------------------------


def test_an_unknown_code_tells_nothing(telegram_user, run_jobs):
    assert says_at(telegram_user(5150), at(), "CONNECT K7Q4XM", run_jobs) == BAD_CODE


def test_an_expired_code_gets_the_same_reply(sms_user, telegram_user, run_jobs):
    make_learner()
    code = code_for(sms_user(LEARNER), run_jobs)
    assert says_at(telegram_user(5150), at(15.1), f"CONNECT {code}", run_jobs) == BAD_CODE


def test_a_code_expiring_during_the_confirmation_connects_nothing(
    sms_user, telegram_user, run_jobs
):
    make_learner()
    code = code_for(sms_user(LEARNER), run_jobs)
    on_telegram = telegram_user(5150)
    says_at(on_telegram, at(14), f"CONNECT {code}", run_jobs)
    says_at(on_telegram, at(14.5), "hmm", run_jobs)  # a re-ask keeps the dialog going
    assert says_at(on_telegram, at(15.2), "YES", run_jobs) == (
        "Sorry, that code no longer works, so nothing was connected. Send CONNECT on your "
        "other phone or chat for a new one."
    )
    assert person_of("telegram", "5150") != person_of("sms", LEARNER)


def test_a_used_code_gets_the_same_reply_even_from_its_user(sms_user, telegram_user, run_jobs):
    make_learner()
    code = code_for(sms_user(LEARNER), run_jobs)
    on_telegram, stranger = telegram_user(5150), sms_user(STRANGER)
    says_at(on_telegram, at(1), f"CONNECT {code}", run_jobs)
    says_at(on_telegram, at(2), "YES", run_jobs)
    # Someone else's code, used: the stranger learns nothing of whose it was.
    assert says_at(stranger, at(3), f"CONNECT {code}", run_jobs) == BAD_CODE
    assert person_of("sms", STRANGER) != person_of("sms", LEARNER)
    assert says_at(on_telegram, at(4), f"CONNECT {code}", run_jobs) == BAD_CODE


def test_connect_own_code_from_the_same_person_is_already_yours(sms_user, whatsapp_user, run_jobs):
    make_learner()
    amina = sms_user(LEARNER)
    code = code_for(amina, run_jobs)
    # The same number on WhatsApp is the same person already.
    assert says_at(whatsapp_user(LEARNER), at(1), f"CONNECT {code}", run_jobs) == (
        "This WhatsApp is already connected to you: nothing to do."
    )
    assert says_at(amina, at(2), f"CONNECT {code}", run_jobs) == (
        "This SMS is already connected to you: nothing to do."
    )


# --- limits ---------------------------------------------------------------------------------


def test_three_codes_an_hour_and_each_new_one_ends_the_one_before(
    sms_user, telegram_user, run_jobs
):
    make_learner()
    amina, on_telegram = sms_user(LEARNER), telegram_user(5150)
    first, second, third = (code_for(amina, run_jobs, minutes) for minutes in (0, 1, 2))
    assert says_at(amina, at(3), "CONNECT", run_jobs) == (
        "You've asked for 3 codes this hour. Use the latest one, or ask again in an hour."
    )
    assert says_at(on_telegram, at(4), f"CONNECT {first}", run_jobs) == BAD_CODE
    assert says_at(on_telegram, at(4), f"CONNECT {second}", run_jobs) == BAD_CODE
    assert says_at(on_telegram, at(5), f"CONNECT {third}", run_jobs).startswith("Connect this")
    assert code_for(amina, run_jobs, 61)  # an hour on, a new one


def test_five_wrong_codes_and_the_contact_waits_15_minutes(sms_user, telegram_user, run_jobs):
    make_learner()
    amina, guesser = sms_user(LEARNER), telegram_user(5150)
    code = code_for(amina, run_jobs)
    for n, guess in enumerate(["AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE"]):
        assert says_at(guesser, at(n * 0.1), f"CONNECT {guess}", run_jobs) == BAD_CODE
    # Even the right code is refused now: a guesser cannot tell a hit.
    assert says_at(guesser, at(1), f"CONNECT {code}", run_jobs) == (
        "Too many codes that didn't work. Please wait 15 minutes, then try again."
    )
    assert person_of("telegram", "5150") != person_of("sms", LEARNER)
    # Another contact is not held back by this one's misses.
    assert says_at(sms_user(STRANGER), at(2), f"CONNECT {code}", run_jobs).startswith("Connect")


def test_the_wait_for_wrong_codes_ends(sms_user, telegram_user, run_jobs, settings):
    from bot import queue
    from handlers.connect import WRONG_TRIES_KEY

    make_learner()
    guesser = telegram_user(5150)
    for n in range(5):
        says_at(guesser, at(n * 0.1), "CONNECT AAAAAA", run_jobs)
    with session_scope() as session:
        key = WRONG_TRIES_KEY.format(find_contact(session, "telegram", "5150").id)
    assert 0 < queue.connection().ttl(key) <= 15 * 60  # Redis lets the count go by itself
    queue.connection().delete(key)  # as 15 minutes would
    code = code_for(sms_user(LEARNER), run_jobs, 20)
    assert says_at(guesser, at(21), f"CONNECT {code}", run_jobs).startswith("Connect this")


# --- two devices, STOP, other dialogs -------------------------------------------------------


def test_two_devices_confirming_one_code_exactly_one_wins(sms_user, telegram_user, run_jobs):
    make_learner()
    amina = sms_user(LEARNER)
    first, second = telegram_user(5150), telegram_user(5151)
    code = code_for(amina, run_jobs)
    says_at(first, at(1), f"CONNECT {code}", run_jobs)
    says_at(second, at(1), f"CONNECT {code}", run_jobs)
    assert second.last_reply().startswith("Connect this Telegram to Amina?")
    assert says_at(first, at(2), "YES", run_jobs).startswith("Done")
    assert says_at(second, at(2), "YES", run_jobs) == (
        "Sorry, that code was just used on another phone or chat, so nothing changed here."
    )
    assert person_of("telegram", "5150") == person_of("sms", LEARNER)
    assert person_of("telegram", "5151") != person_of("sms", LEARNER)
    told = [r for r in amina.replies() if r.startswith("Your Telegram is now connected")]
    assert len(told) == 1
    with session_scope() as session:
        row = session.exec(select(ConnectCode)).one()
        assert row.used_by_contact_id == find_contact(session, "telegram", "5150").id
        dialogs = session.exec(select(Conversation.status).where(Conversation.flow == "connect"))
        assert sorted(dialogs.all()) == ["done", "done"]


def test_stop_on_the_new_contact_between_connect_and_yes_attaches_nothing(
    sms_user, telegram_user, run_jobs
):
    make_learner()
    amina, on_telegram = sms_user(LEARNER), telegram_user(5150)
    code = code_for(amina, run_jobs)
    says_at(on_telegram, at(1), f"CONNECT {code}", run_jobs)
    assert says_at(on_telegram, at(2), "STOP", run_jobs).startswith("You won't get any more")
    # YES while stopped resumes messages; the dialog ended with the STOP.
    assert says_at(on_telegram, at(3), "YES", run_jobs).startswith("Welcome back!")
    assert person_of("telegram", "5150") != person_of("sms", LEARNER)
    assert amina.replies()[-1].startswith("Your code is")


def test_stop_on_the_asking_contact_between_connect_and_yes_attaches_nothing(
    sms_user, telegram_user, run_jobs
):
    make_learner()
    amina, on_telegram = sms_user(LEARNER), telegram_user(5150)
    code = code_for(amina, run_jobs)
    says_at(on_telegram, at(1), f"CONNECT {code}", run_jobs)
    says_at(amina, at(2), "STOP", run_jobs)
    assert says_at(on_telegram, at(3), "YES", run_jobs) == (
        "Sorry, that code no longer works, so nothing was connected. Send CONNECT on your "
        "other phone or chat for a new one."
    )
    assert person_of("telegram", "5150") != person_of("sms", LEARNER)
    assert amina.replies()[-1].startswith("You won't get any more")  # and nothing after it
    # A code asked for on a contact that has stopped since is no code.
    assert says_at(telegram_user(5151), at(4), f"CONNECT {code}", run_jobs) == BAD_CODE


def test_connect_with_a_code_replaces_a_dialog_in_progress(sms_user, telegram_user, run_jobs):
    """CONNECT is read before any dialog: with a code it starts its own, which ends the other;
    alone it gives the code and the other dialog goes on waiting for its answer."""
    make_learner()
    amina, on_telegram = sms_user(LEARNER), telegram_user(5150)
    assert says_at(amina, at(0), "LEAVE", run_jobs).startswith("Leave Python?")
    code = code_for(amina, run_jobs, 1)
    assert says_at(amina, at(2), "NO", run_jobs) == "OK, you're still in Python."
    says_at(on_telegram, at(3), "JOIN", run_jobs)
    assert on_telegram.last_reply().startswith("What's the circle's code?")
    assert says_at(on_telegram, at(4), f"CONNECT {code}", run_jobs).startswith("Connect this")
    assert says_at(on_telegram, at(5), "YES", run_jobs).startswith("Done")
    with session_scope() as session:
        join = session.exec(select(Conversation.status).where(Conversation.flow == "join")).one()
        assert join == "replaced"


def test_connect_with_words_after_it_is_no_command(sms_user, run_jobs):
    reply = says_at(sms_user(STRANGER), at(), "connect with other learners please", run_jobs)
    assert not reply.startswith(("Your code", "That code"))


def test_kiungo_in_swahili_from_both_sides(sms_user, telegram_user, run_jobs):
    make_learner()
    amina, on_telegram = sms_user(LEARNER), telegram_user(5150)
    says_at(amina, at(0), "LUGHA sw", run_jobs)
    reply = says_at(amina, at(1), "KIUNGO", run_jobs)
    code = re.match(r"Msimbo wako ni ([A-Z0-9]{6})\.", reply).group(1)
    assert reply == (
        f"Msimbo wako ni {code}. Ndani ya dakika 15, tuma KIUNGO {code} kutoka simu, WhatsApp "
        "au Telegram yako nyingine. Usimpe mtu."
    )
    says_at(on_telegram, at(2), "LUGHA sw", run_jobs)
    assert says_at(on_telegram, at(3), "kiungo XXXXXX", run_jobs).startswith("Msimbo huo haufanyi")
    assert says_at(on_telegram, at(4), f"kiungo {code}", run_jobs) == (
        "Tuunganishe Telegram hii na Amina? Utakuwa mtu mmoja kwetu, na vikundi na vikumbusho "
        "vilevile. Jibu NDIYO au HAPANA."
    )
    assert says_at(on_telegram, at(5), "ndiyo", run_jobs) == (
        "Tayari: Telegram hii sasa imeunganishwa nawe. Kupata vikumbusho vyako hapa, tuma "
        "TUMIA HII."
    )
    assert amina.last_reply() == (
        "Telegram yako sasa imeunganishwa nawe: unaweza kutuandikia kutoka zote mbili."
    )


def test_the_owners_language_stays(sms_user, telegram_user, run_jobs):
    make_learner()
    amina, on_telegram = sms_user(LEARNER), telegram_user(5150)
    says_at(amina, at(0), "LUGHA sw", run_jobs)
    code = re.search(r"([A-Z0-9]{6})\.", says_at(amina, at(1), "KIUNGO", run_jobs)).group(1)
    says_at(on_telegram, at(2), f"CONNECT {code}", run_jobs)  # the Telegram person is English
    assert says_at(on_telegram, at(3), "YES", run_jobs).startswith("Tayari: Telegram hii")
    with session_scope() as session:
        person = session.get(Person, find_contact(session, "telegram", "5150").person_id)
        assert (person.name, person.language) == ("Amina", "sw")


# --- USE THIS -------------------------------------------------------------------------------


def test_use_this_moves_reminders_to_where_they_write_from(sms_user, telegram_user, run_jobs):
    make_learner()
    amina, on_telegram = sms_user(LEARNER), telegram_user(5150)
    code = code_for(amina, run_jobs)
    says_at(on_telegram, at(1), f"CONNECT {code}", run_jobs)
    says_at(on_telegram, at(2), "YES", run_jobs)
    assert says_at(on_telegram, at(3), "use this", run_jobs) == (
        "Done: your reminders will now come here, on Telegram."
    )
    assert says_at(on_telegram, at(4), "USE THIS", run_jobs) == (
        "Your reminders already come here, on Telegram."
    )
    sms_before = len(amina.replies())
    tick_at(REMINDERS_DUE, run_jobs)
    assert on_telegram.last_reply().startswith("Reminder: Python")
    assert len(amina.replies()) == sms_before  # one reminder, on Telegram only
    # And back, in Swahili.
    says_at(amina, at(5), "LUGHA sw", run_jobs)
    assert says_at(amina, at(6), "TUMIA HII", run_jobs) == (
        "Tayari: vikumbusho vyako sasa vitakuja hapa, kwenye SMS."
    )


def test_use_this_without_a_circle_says_there_is_nothing_to_move(sms_user, run_jobs):
    assert says_at(sms_user(STRANGER), at(), "USE THIS", run_jobs) == (
        "You're not in any circle yet, so there are no reminders to move. "
        "Reply CIRCLES to find one."
    )


# --- the texts ------------------------------------------------------------------------------

# What each text is sent with, at the long end (a WhatsApp user id's digits, a long name).
VALUES = {
    "code": "K7Q4XM",
    "minutes": 15,
    "count": 3,
    "channel": "WhatsApp",
    "who": "Wanjiku Mwangi-Otieno",
    "digits": "0009",
}


@pytest.mark.parametrize("language", ["en", "sw"])
def test_every_connect_text_is_one_sms(language):
    keys = [k for k in catalog("en") if k.startswith(("connect.", "use_this."))]
    assert len(keys) == 16
    for key in keys:
        text = to_gsm7(t(key, language, **VALUES))
        assert segments(text) == 1, (key, text)
    masked = t("connect.masked", language, channel="WhatsApp", digits="0009")
    assert segments(to_gsm7(t("connect.confirm", language, channel="Telegram", who=masked))) == 1


def test_the_merged_person_keeps_no_contact_behind(sms_user, telegram_user, run_jobs):
    make_learner()
    code = code_for(sms_user(LEARNER), run_jobs)
    on_telegram = telegram_user(5150)
    says_at(on_telegram, at(1), f"CONNECT {code}", run_jobs)
    says_at(on_telegram, at(2), "YES", run_jobs)
    with session_scope() as session:
        owners = session.exec(select(Contact.person_id)).all()
        assert set(owners) <= set(session.exec(select(Person.id)).all())
