"""Linking a team's Telegram group: /link with a one-time code, /unlink, the bot removed, and
a group upgraded to a supergroup."""

from __future__ import annotations

import itertools
from datetime import datetime

import time_machine
from sqlmodel import select

from bot.db import session_scope
from models.people import Person
from models.teams import ORGANIZER as ORGANIZER_ROLE
from models.teams import GroupChat, Team, add_member, create_link_code
from tests.support import world
from tests.support.drivers import BOT_USERNAME, telegram_post
from tests.support.timeline import at

GROUP, SUPERGROUP = -4012345678, -1001234567890
ORGANIZER, MEMBER = 4242, 5151
NOW = "2026-11-23T09:00:00+00:00"
_updates = itertools.count(900000)


def setup() -> dict:
    """Team Nakuru (organizer on Telegram) with a circle, team Chicago with another, and a
    fresh link code for each."""
    with time_machine.travel(at(NOW)), session_scope() as session:
        nakuru = world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"telegram:{ORGANIZER}")
        chicago = world.team(session, "Chicago Libraries", "America/Chicago", "sms:+15550000020")
        world.circle(session, nakuru, "sms:+15550000011", datetime(2026, 12, 1, 18, 0),
                     name="Python")  # fmt: skip
        world.circle(session, chicago, "sms:+15550000021", datetime(2026, 12, 3, 18, 0),
                     name="Speaking")  # fmt: skip
        return {
            "nakuru": create_link_code(session, nakuru.id, at(NOW)).code,
            "chicago": create_link_code(session, chicago.id, at(NOW)).code,
            "invite": nakuru.invite_code,
        }


def in_group(person, text: str, run_jobs, iso: str = NOW, chat: int = GROUP) -> list[str]:
    """Post `text` in the group as `person`; return what the bot said in the group."""
    before = len(person.telegram.sent_texts(chat_id=chat))
    with time_machine.travel(at(iso), tick=True):
        person.says_in(chat, text)
        run_jobs()
    return person.telegram.sent_texts(chat_id=chat)[before:]


def linked_team() -> int | None:
    with session_scope() as session:
        return session.exec(select(GroupChat.team_id).where(GroupChat.chat_id == str(GROUP))).one()


def test_link_connects_the_group_and_confirms_there(telegram_user, run_jobs):
    codes = setup()
    ann = telegram_user(ORGANIZER)
    assert in_group(ann, f"/link@{BOT_USERNAME} {codes['nakuru'].lower()}", run_jobs) == [
        "Linked to Nakuru Libraries. The weekly digest will come here. Try /week."
    ]
    assert linked_team() is not None
    [circles] = in_group(ann, "/circles", run_jobs)
    assert circles.startswith("Circles of Nakuru Libraries:\nPython (")
    assert "Speaking" not in circles


def test_wrong_used_and_expired_codes_are_refused_alike(telegram_user, run_jobs):
    codes = setup()
    ann, bob = telegram_user(ORGANIZER), telegram_user(MEMBER)
    refusal = [
        "That code doesn't work: it may be wrong, used or expired. An organizer gets a new one "
        "by sending LINK to me."
    ]
    assert in_group(ann, "/link NOPE1234", run_jobs) == refusal
    assert in_group(ann, "/link", run_jobs) == refusal
    # Used: the code linked another group first.
    assert in_group(bob, f"/link {codes['chicago']}", run_jobs, chat=-555)[0].startswith("Linked")
    assert in_group(ann, f"/link {codes['chicago']}", run_jobs) == refusal
    # Expired: a day has passed.
    late = "2026-11-24T09:00:01+00:00"
    assert in_group(ann, f"/link {codes['nakuru']}", run_jobs, iso=late) == refusal
    assert linked_team() is None
    # The refusals never name a team.
    assert not any("Libraries" in text for text in ann.telegram.sent_texts(chat_id=GROUP))


def test_failed_links_are_rate_limited_per_group(telegram_user, run_jobs):
    codes = setup()
    ann = telegram_user(ORGANIZER)
    for guess in range(5):  # a try a second
        reply = in_group(
            ann, f"/link WRONG{guess:03d}", run_jobs, iso=f"2026-11-23T09:00:0{guess}Z"
        )
        assert reply[0].startswith("That code")
    # The sixth try is refused before the code is looked at, even the right one.
    assert in_group(ann, f"/link {codes['nakuru']}", run_jobs, iso="2026-11-23T09:00:05Z") == [
        "Too many tries. Please wait 15 minutes, then try again."
    ]
    assert linked_team() is None
    # Another group is not slowed down by this one.
    other = in_group(ann, f"/link {codes['nakuru']}", run_jobs, iso="2026-11-23T09:00:06Z",
                     chat=-777)  # fmt: skip
    assert other[0].startswith("Linked")
    # An hour after its first try this group may try again.
    again = in_group(ann, "/link WRONG999", run_jobs, iso="2026-11-23T10:00:00Z")
    assert again[0].startswith("That code")


def test_unlink_is_for_the_teams_organizers(telegram_user, run_jobs):
    codes = setup()
    ann, bob = telegram_user(ORGANIZER), telegram_user(MEMBER)
    in_group(ann, f"/link {codes['nakuru']}", run_jobs)
    assert in_group(bob, "/unlink", run_jobs) == ["Sorry, you can't do that here."]
    assert linked_team() is not None
    assert in_group(ann, "/unlink", run_jobs) == [
        "Unlinked from Nakuru Libraries: no more digests or team news here."
    ]
    assert linked_team() is None
    assert in_group(bob, "/week", run_jobs) == [
        "This group isn't linked to a team yet. An organizer can link it with /link CODE."
    ]


def test_a_member_without_a_role_cannot_move_the_group_to_another_team(telegram_user, run_jobs):
    codes = setup()
    ann, bob = telegram_user(ORGANIZER), telegram_user(MEMBER)
    in_group(ann, f"/link {codes['nakuru']}", run_jobs)
    nakuru = linked_team()
    assert in_group(bob, f"/link {codes['chicago']}", run_jobs) == [
        "This group is linked to Nakuru Libraries. An organizer of Nakuru Libraries must /unlink "
        "it first."
    ]
    assert linked_team() == nakuru
    # The refusal did not spend Chicago's code: it still links a group of Chicago's.
    assert in_group(bob, f"/link {codes['chicago']}", run_jobs, chat=-555) == [
        "Linked to Chicago Libraries. The weekly digest will come here. Try /week."
    ]


def test_an_organizer_moves_the_group_and_the_teams_other_organizers_are_told(
    telegram_user, sms_user, run_jobs
):
    codes = setup()
    with session_scope() as session:
        team = session.exec(select(Team).where(Team.name == "Nakuru Libraries")).one()
        amani = world.person_id(session, "sms:+15550000012")
        session.get(Person, amani).language = "sw"
        add_member(session, team.id, amani, ORGANIZER_ROLE)
    ann = telegram_user(ORGANIZER)
    in_group(ann, f"/link {codes['nakuru']}", run_jobs)
    nakuru = linked_team()
    assert in_group(ann, f"/link {codes['chicago']}", run_jobs) == [
        "Linked to Chicago Libraries. The weekly digest will come here. Try /week."
    ]
    assert linked_team() not in (None, nakuru)
    assert sms_user("+15550000012").replies() == [
        'Mratibu wa Nakuru Libraries ameunganisha kikundi "Team chat" na Chicago Libraries: '
        "hakipati tena muhtasari wala habari za timu yenu."
    ]
    assert ann.replies() == []  # she knows: she did it


def test_linking_again_to_the_same_team_keeps_the_code(telegram_user, run_jobs):
    codes = setup()
    ann = telegram_user(ORGANIZER)
    in_group(ann, f"/link {codes['nakuru']}", run_jobs)
    with session_scope() as session:
        team = session.exec(select(Team).where(Team.name == "Nakuru Libraries")).one()
        second = create_link_code(session, team.id, at(NOW)).code
    assert in_group(ann, f"/link {second}", run_jobs) == [
        "This group is already linked to Nakuru Libraries."
    ]
    assert in_group(ann, f"/link {second}", run_jobs, chat=-555)[0].startswith("Linked to Nakuru")


def test_invite_in_the_group_is_for_the_teams_organizers(telegram_user, run_jobs):
    codes = setup()
    ann, bob = telegram_user(ORGANIZER), telegram_user(MEMBER)
    in_group(ann, f"/link {codes['nakuru']}", run_jobs)
    assert in_group(bob, "/invite", run_jobs) == [
        "Only the team's organizers give out the facilitator invite code. To facilitate, ask one "
        "of them."
    ]
    assert codes["invite"] not in "\n".join(bob.telegram.sent_texts(chat_id=GROUP))


def chat_event(client, update: dict) -> None:
    response = telegram_post(client, {"update_id": next(_updates), **update})
    assert response.status_code == 200


def test_removing_the_bot_unlinks_the_group(telegram_user, run_jobs, client):
    codes = setup()
    ann = telegram_user(ORGANIZER)
    in_group(ann, f"/link {codes['nakuru']}", run_jobs)
    bot = {"id": 7000000001, "is_bot": True, "first_name": "Circlebot", "username": BOT_USERNAME}
    chat_event(client, {"my_chat_member": {
        "chat": {"id": GROUP, "type": "group", "title": "Team chat"},
        "from": {"id": ORGANIZER, "is_bot": False, "first_name": "Ann"}, "date": 1790000000,
        "old_chat_member": {"user": bot, "status": "member"},
        "new_chat_member": {"user": bot, "status": "kicked", "until_date": 0},
    }})  # fmt: skip
    run_jobs()
    assert linked_team() is None


def test_a_supergroup_keeps_the_link_under_its_new_id(telegram_user, run_jobs, client):
    codes = setup()
    ann = telegram_user(ORGANIZER)
    in_group(ann, f"/link {codes['nakuru']}", run_jobs)
    chat_event(client, {"message": {
        "message_id": 204, "date": 1790000000,
        "from": {"id": ORGANIZER, "is_bot": False, "first_name": "Ann"},
        "chat": {"id": GROUP, "type": "group", "title": "Team chat"},
        "migrate_to_chat_id": SUPERGROUP,
    }})  # fmt: skip
    run_jobs()
    with time_machine.travel(at(NOW), tick=True):
        update = ann.update("/circles", chat={"id": SUPERGROUP, "type": "supergroup", "title": "T"})
        telegram_post(client, update)
        run_jobs()
    [circles] = ann.telegram.sent_texts(chat_id=SUPERGROUP)
    assert circles.startswith("Circles of Nakuru Libraries:")


def test_a_group_sees_only_its_own_team(telegram_user, run_jobs):
    codes = setup()
    with session_scope() as session:
        chicago = session.exec(select(Team).where(Team.name == "Chicago Libraries")).one()
        add_member(session, chicago.id, world.person_id(session, f"telegram:{MEMBER}"),
                   ORGANIZER_ROLE)  # fmt: skip
    ann, bob = telegram_user(ORGANIZER), telegram_user(MEMBER)
    in_group(ann, f"/link {codes['nakuru']}", run_jobs)
    in_group(bob, f"/link {codes['chicago']}", run_jobs, chat=-555)
    for command in ("/week", "/circles", "/facilitators", "/feedback", "/digest", "/invite"):
        nakuru = "\n".join(in_group(ann, command, run_jobs))
        chicago = "\n".join(in_group(bob, command, run_jobs, chat=-555))
        assert "Speaking" not in nakuru and "Chicago" not in nakuru
        assert "Python" not in chicago and "Nakuru" not in chicago
    assert codes["invite"] in "\n".join(ann.telegram.sent_texts(chat_id=GROUP))
    assert "Chicago Libraries:" in "\n".join(bob.telegram.sent_texts(chat_id=-555))
