"""`flask privacy export|forget CONTACT`: what we hold about a person, for operators, as JSON."""

from __future__ import annotations

import json
from datetime import datetime

from bot.db import session_scope
from bot.identity import contact_for, find_contact
from models.circles import Signup
from models.people import Person
from tests.support import world

AMINA, BARAKA = "+254711000001", "+254711000002"


def make_world() -> None:
    """Amina and Baraka are learners in Python; Amina also wrote from Telegram."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+254700000001")
        circle = world.circle(session, team, "sms:+254700000002", datetime(2026, 12, 1, 18, 0))
        for number, name in ((AMINA, "Amina Wanjiru"), (BARAKA, "Baraka Otieno")):
            contact = contact_for(session, "sms", number)
            session.get(Person, contact.person_id).name = name
            session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                               contact_id=contact.id, goal=f"{name} wants Python"))  # fmt: skip
        amina = find_contact(session, "sms", AMINA)
        session.add(contact_for(session, "telegram", "5150"))
        session.flush()
        find_contact(session, "telegram", "5150").person_id = amina.person_id


def test_export_prints_what_we_hold_about_that_person_only(cli):
    make_world()
    held = json.loads(cli("privacy", "export", f"sms:{AMINA}", "--json").stdout)
    text = json.dumps(held)
    assert "Amina Wanjiru" in text and "Amina Wanjiru wants Python" in text
    assert "5150" in text  # her other contact
    assert "Baraka" not in text


def test_forget_erases_and_prints_what_went(cli):
    make_world()
    result = json.loads(cli("privacy", "forget", f"sms:{AMINA}", "--yes", "--json").stdout)
    assert result["erased"]["people"] == 1
    assert result["erased"]["contacts"] == 2
    assert result["erased"]["goals"] == 1
    with session_scope() as session:
        assert find_contact(session, "sms", AMINA) is None
        assert find_contact(session, "telegram", "5150") is None
        assert session.get(Person, result["person_id"]).name is None
        assert find_contact(session, "sms", BARAKA) is not None
    gone = cli("privacy", "export", f"sms:{AMINA}", ok=False)
    assert gone.exit_code != 0
    assert f"no one is known at sms:{AMINA}" in gone.stderr


def test_forget_asks_first_unless_told_yes(cli):
    make_world()
    declined = cli("privacy", "forget", f"sms:{AMINA}", input="n\n", ok=False)
    assert declined.exit_code != 0
    with session_scope() as session:
        assert find_contact(session, "sms", AMINA) is not None
    agreed = cli("privacy", "forget", f"sms:{AMINA}", input="y\n")
    assert agreed.stdout.startswith("person ")
    with session_scope() as session:
        assert find_contact(session, "sms", AMINA) is None


def test_an_unknown_or_malformed_contact_is_a_clear_error(cli):
    unknown = cli("privacy", "forget", "sms:+15550009999", "--yes", ok=False)
    assert unknown.exit_code == 1
    assert "no one is known at sms:+15550009999" in unknown.stderr
    malformed = cli("privacy", "export", "amina", ok=False)
    assert malformed.exit_code == 2
    assert "a contact is written sms:+15550001" in malformed.stderr
