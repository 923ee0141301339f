"""One person on SMS and WhatsApp (the same number) and on channels joined by CONNECT: one set
of circles, roles and reminders; people made twice before that are merged (bot/identity.py)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import event
from sqlmodel import SQLModel, select

from bot.db import get_engine, session_scope
from bot.identity import find_contact, merge_people, merge_same_numbers, same_number_people
from models.circles import Facilitation, Meeting, Rsvp, Signup
from models.conversation import Conversation, PendingDialog
from models.feedback import Reflection, SurveyResponse
from models.people import Contact, Person
from models.teams import FACILITATOR, ORGANIZER, GroupChat, TeamMember
from tests.support import world
from tests.support.timeline import says_at, tick_at

LEARNER = "+254711000001"
FACILITATOR_NUMBER = "+15550000011"
JOINED_AT = "2026-11-22T09:00:00+00:00"
LATER = "2026-11-23T09:00:00+00:00"
REMINDERS_DUE = "2026-11-29T15:00:00+00:00"  # 48 h before Tue 1 Dec, 18:00 in Nairobi
ANSWER_AT = "2026-11-29T16:00:00+00:00"


def make_circles() -> dict[str, str]:
    """Python (Tue 1 Dec, 18:00) and Poetry (Wed 2 Dec, 10:00) in Nairobi; their join codes."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        python = world.circle(session, team, f"sms:{FACILITATOR_NUMBER}",
                              datetime(2026, 12, 1, 18, 0))  # fmt: skip
        poetry = world.circle(session, team, "sms:+15550000012", datetime(2026, 12, 2, 10, 0),
                              name="Poetry", course="Poetry")  # fmt: skip
        return {"Python": python.join_code, "Poetry": poetry.join_code}


def joins(user, code: str, run_jobs, at: str = JOINED_AT) -> str:
    for text in (f"JOIN {code}", "Amina", "Build a website", "YES"):
        reply = says_at(user, at, text, run_jobs)
    return reply


def reminders(user) -> list[str]:
    return [reply for reply in user.replies() if reply.startswith("Reminder:")]


# --- SMS and WhatsApp from one number -------------------------------------------------------


def test_a_learner_on_sms_then_whatsapp_keeps_their_circle_and_gets_one_reminder(
    sms_user, whatsapp_user, run_jobs
):
    codes = make_circles()
    on_sms, on_whatsapp = sms_user(LEARNER), whatsapp_user(LEARNER)
    assert joins(on_sms, codes["Python"], run_jobs).startswith("You're in Python!")
    assert says_at(on_whatsapp, LATER, "NEXT", run_jobs).startswith("Python: Tue 1 Dec, 18:00")
    assert person_of("whatsapp", LEARNER) == person_of("sms", LEARNER)
    tick_at(REMINDERS_DUE, run_jobs)
    # To the contact they joined with, once.
    assert len(reminders(on_sms)) == 1
    assert reminders(on_whatsapp) == []


def test_language_and_roles_come_along_to_whatsapp(sms_user, whatsapp_user, run_jobs):
    make_circles()
    facilitator = sms_user(FACILITATOR_NUMBER)
    says_at(facilitator, JOINED_AT, "LUGHA sw", run_jobs)
    help_text = says_at(whatsapp_user(FACILITATOR_NUMBER), LATER, "MSAADA", run_jobs)
    # In Swahili, with a facilitator's commands.
    assert help_text.startswith("Unaweza kujibu") and "MPYA" in help_text and "NANI" in help_text


def test_a_reminder_by_sms_answered_on_whatsapp_is_that_meetings_rsvp(
    sms_user, whatsapp_user, run_jobs
):
    codes = make_circles()
    on_sms, on_whatsapp = sms_user(LEARNER), whatsapp_user(LEARNER)
    joins(on_sms, codes["Python"], run_jobs)
    tick_at(REMINDERS_DUE, run_jobs)
    assert len(reminders(on_sms)) == 1
    assert says_at(on_whatsapp, ANSWER_AT, "yes 👍", run_jobs) == (
        "Thanks! See you at Python, Tue 1 Dec, 18:00."
    )
    assert rsvps() == [("Python", True)]


def test_a_reminder_answered_from_a_connected_telegram_counts(sms_user, telegram_user, run_jobs):
    codes = make_circles()
    on_sms, on_telegram = sms_user(LEARNER), telegram_user(5150)
    joins(on_sms, codes["Python"], run_jobs)
    code = re.search(r"code is (\w+)\.", says_at(on_sms, LATER, "CONNECT", run_jobs)).group(1)
    says_at(on_telegram, LATER, f"CONNECT {code}", run_jobs)
    says_at(on_telegram, LATER, "YES", run_jobs)
    tick_at(REMINDERS_DUE, run_jobs)
    assert len(reminders(on_sms)) == 1 and reminders(on_telegram) == []
    assert says_at(on_telegram, ANSWER_AT, "no", run_jobs) == (
        "Thanks for letting us know. We'll miss you at Python."
    )
    assert rsvps() == [("Python", False)]


def test_connect_brings_the_new_contacts_circles_along_and_keeps_one_of_a_shared_one(
    sms_user, telegram_user, run_jobs
):
    codes = make_circles()
    on_sms, on_telegram = sms_user(LEARNER), telegram_user(5150)
    joins(on_sms, codes["Python"], run_jobs)
    joins(on_telegram, codes["Python"], run_jobs)
    joins(on_telegram, codes["Poetry"], run_jobs)
    code = re.search(r"code is (\w+)\.", says_at(on_sms, LATER, "CONNECT", run_jobs)).group(1)
    says_at(on_telegram, LATER, f"CONNECT {code}", run_jobs)
    says_at(on_telegram, LATER, "YES", run_jobs)
    lines = says_at(on_sms, LATER, "NEXT", run_jobs).split("\n")
    assert [line.split(":")[0] for line in lines] == ["Python", "Poetry"]
    with session_scope() as session:
        rows = session.exec(select(Signup.circle_id, Signup.contact_id)).all()
        sms = find_contact(session, "sms", LEARNER).id
        telegram = find_contact(session, "telegram", "5150").id
    assert sorted(contact for _, contact in rows) == sorted([sms, telegram])
    tick_at(REMINDERS_DUE, run_jobs)
    tick_at("2026-11-30T07:00:00+00:00", run_jobs)
    # Each circle reminds them once, where they joined it.
    assert [r.split(",")[0] for r in reminders(on_sms)] == ["Reminder: Python"]
    assert [r.split(",")[0] for r in reminders(on_telegram)] == ["Reminder: Poetry"]


# --- people made twice before SMS and WhatsApp were joined ----------------------------------


def two_people(session, number: str, *, target_name=None, source_name="Amina"):
    """The same number on SMS and WhatsApp as two people, as they were before: (sms, whatsapp)."""
    made = []
    for channel, name, language in (("sms", target_name, "sw"), ("whatsapp", source_name, "en")):
        person = Person(name=name, language=language)
        session.add(person)
        session.flush()
        session.add(Contact(person_id=person.id, channel=channel, address=number))
        made.append(person.id)
    session.flush()
    return made


def test_people_made_twice_are_merged_with_everything_they_had(settings):
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        other_team = world.team(session, "Kisumu Hub", "Africa/Nairobi", "sms:+15550000020")
        python = world.circle(session, team, "sms:+15550000011", datetime(2026, 12, 1, 18, 0))
        poetry = world.circle(session, team, "sms:+15550000012", datetime(2026, 12, 2, 10, 0))
        kept, gone = two_people(session, LEARNER)
        meeting = session.exec(select(Meeting).where(Meeting.circle_id == python.id)).first()
        whatsapp = find_contact(session, "whatsapp", LEARNER)
        sms = find_contact(session, "sms", LEARNER)
        # Both in Python: the SMS one left, the WhatsApp one is in, and answered for meeting 1.
        session.add(Signup(circle_id=python.id, person_id=kept, contact_id=sms.id,
                           left_at=datetime.fromisoformat(JOINED_AT)))  # fmt: skip
        theirs = Signup(circle_id=python.id, person_id=gone, contact_id=whatsapp.id, goal="Web")
        session.add(theirs)
        session.add(Signup(circle_id=poetry.id, person_id=gone, contact_id=whatsapp.id))
        session.flush()
        session.add(Rsvp(meeting_id=meeting.id, signup_id=theirs.id, attending=True))
        session.add(TeamMember(team_id=team.id, person_id=kept, role=FACILITATOR))
        session.add(TeamMember(team_id=team.id, person_id=gone, role=ORGANIZER))
        session.add(TeamMember(team_id=other_team.id, person_id=gone, role=FACILITATOR))
        session.add(Facilitation(circle_id=poetry.id, person_id=kept))
        session.add(Facilitation(circle_id=poetry.id, person_id=gone))
        session.add(Reflection(meeting_id=meeting.id, person_id=gone, rating=5))
        session.add(SurveyResponse(circle_id=python.id, person_id=gone, role="learner"))
        session.add(GroupChat(channel="telegram", chat_id="-100", linked_by=gone))
        session.add(Conversation(contact_id=whatsapp.id, flow="leave", step="confirm",
                                 expires_at=datetime.fromisoformat(LATER)))  # fmt: skip
        session.add(PendingDialog(contact_id=whatsapp.id, flow="reflect", dedupe_key="r:1",
                                  expires_at=datetime.fromisoformat(LATER)))  # fmt: skip
        ids = {
            "python": python.id,
            "poetry": poetry.id,
            "team": team.id,
            "other_team": other_team.id,
            "theirs": theirs.id,
            "whatsapp": whatsapp.id,
        }
        assert same_number_people(session) == {gone: kept}
        assert merge_same_numbers(session) == 1
        assert same_number_people(session) == {}
    with session_scope() as session:
        assert session.get(Person, gone) is None
        person = session.get(Person, kept)
        # The earlier one's language stays; a name they lacked comes from the other.
        assert (person.name, person.language) == ("Amina", "sw")
        assert nothing_names(session, gone)
        signups = session.exec(select(Signup).where(Signup.person_id == kept)).all()
        # One Python signup, the active one, with its goal and its RSVP; and Poetry.
        assert sorted((s.circle_id, s.left_at is None, s.goal) for s in signups) == [
            (ids["python"], True, "Web"),
            (ids["poetry"], True, None),
        ]
        assert session.exec(select(Rsvp.signup_id)).all() == [ids["theirs"]]
        roles = session.exec(select(TeamMember.team_id, TeamMember.role)
                             .where(TeamMember.person_id == kept)).all()  # fmt: skip
        assert sorted(roles) == sorted([(ids["team"], ORGANIZER), (ids["other_team"], FACILITATOR)])
        assert len(session.exec(select(Facilitation).where(Facilitation.person_id == kept)).all())
        assert session.exec(select(Reflection.person_id)).all() == [kept]
        assert session.exec(select(SurveyResponse.person_id)).all() == [kept]
        assert session.exec(select(GroupChat.linked_by)).all() == [kept]
        # Dialogs belong to contacts: they stay with the WhatsApp, now the same person's.
        assert session.exec(select(Conversation.contact_id)).all() == [ids["whatsapp"]]
        assert session.exec(select(PendingDialog.contact_id)).all() == [ids["whatsapp"]]


def test_a_duplicate_rsvp_keeps_the_kept_signups_answer(settings):
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        python = world.circle(session, team, "sms:+15550000011", datetime(2026, 12, 1, 18, 0))
        meeting = session.exec(select(Meeting).where(Meeting.circle_id == python.id)).first()
        kept, gone = two_people(session, LEARNER)
        mine = Signup(circle_id=python.id, person_id=kept)
        theirs = Signup(circle_id=python.id, person_id=gone, goal="Web")
        session.add_all([mine, theirs])
        session.flush()
        session.add(Rsvp(meeting_id=meeting.id, signup_id=mine.id, attending=False))
        session.add(Rsvp(meeting_id=meeting.id, signup_id=theirs.id, attending=True))
        mine_id = mine.id
        merge_people(session, {gone: kept})
    with session_scope() as session:
        assert session.exec(select(Rsvp.signup_id, Rsvp.attending)).all() == [(mine_id, False)]
        assert session.exec(select(Signup.id, Signup.goal)).all() == [(mine_id, "Web")]


def merge_statements(pairs: int, prefix: str) -> int:
    """How many statements merging `pairs` people made twice takes, each in a shared circle."""
    statements = []
    with session_scope() as session:
        team = world.team(session, f"Team {prefix}", "Africa/Nairobi", f"sms:+1555{prefix}0000")
        python = world.circle(session, team, f"sms:+1555{prefix}0001", datetime(2026, 12, 1, 18))
        for n in range(pairs):
            kept, gone = two_people(session, f"+2547{prefix}{n:05d}")
            session.add(Signup(circle_id=python.id, person_id=kept))
            session.add(Signup(circle_id=python.id, person_id=gone))
        session.flush()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(get_engine(), "before_cursor_execute", listener)
        try:
            assert merge_same_numbers(session) == pairs
        finally:
            event.remove(get_engine(), "before_cursor_execute", listener)
    return len(statements)


def test_merging_is_a_fixed_number_of_statements_however_many_people(settings):
    assert merge_statements(10, "11") == merge_statements(1000, "22")


def test_an_erased_person_is_never_merged(settings):
    with session_scope() as session:
        _, gone = two_people(session, LEARNER)
        session.get(Person, gone).anonymized_at = datetime.fromisoformat(JOINED_AT)
        session.flush()
        assert same_number_people(session) == {}


def test_an_operator_merges_old_duplicates_from_the_cli(cli):
    with session_scope() as session:
        two_people(session, LEARNER)
        two_people(session, "+254711000002", target_name="Baraka", source_name=None)
    assert cli("people", "merge-numbers").stdout == "people merged into another: 2\n"
    assert person_of("sms", LEARNER) == person_of("whatsapp", LEARNER)
    assert person_of("sms", "+254711000002") == person_of("whatsapp", "+254711000002")
    assert person_of("sms", LEARNER) != person_of("sms", "+254711000002")
    assert cli("people", "merge-numbers", "--json").stdout == '{"merged": 0}\n'


# --- helpers --------------------------------------------------------------------------------


def person_of(channel: str, address: str) -> int:
    with session_scope() as session:
        return find_contact(session, channel, address).person_id


def rsvps() -> list[tuple[str, bool]]:
    from models.circles import Circle

    with session_scope() as session:
        return list(
            session.exec(
                select(Circle.name, Rsvp.attending)
                .join(Meeting, Meeting.id == Rsvp.meeting_id)
                .join(Circle, Circle.id == Meeting.circle_id)
            ).all()
        )


def nothing_names(session, person_id: int) -> bool:
    """No column anywhere that points at a person holds this one."""
    for table in SQLModel.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name == "person":
                found = session.execute(
                    select(key.parent).where(key.parent == person_id).limit(1)
                ).first()
                if found is not None:
                    return False
    return True
