"""Who may use which command in a team's Telegram group: every group command, by every role,
cell by cell, read where the group reads it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for
from models.circles import Meeting, Signup
from models.feedback import Reflection
from models.people import Person
from models.teams import GroupChat, create_link_code
from tests.support import world
from tests.support.timeline import at

GROUP = -4012345678
# Everyone posts in the group from Telegram.
PEOPLE = {
    "stranger": 5151,
    "learner of the team's circle": 5101,
    "facilitator of the team": 5011,
    "organizer of the team": 4242,
    "organizer of another team": 4343,
}
NOW = "2026-12-02T09:00:00+00:00"  # Wednesday: Python met yesterday and meets next Tuesday
TEAM, OTHER = "Nakuru Libraries", "Chicago Libraries"
NOT_ALLOWED = ["Sorry, you can't do that here."]


def setup(linked: bool) -> dict:
    """Team Nakuru with Python (Juma facilitates, Amina joined with a goal, met once and was
    reflected on), team Chicago with Speaking, a link code of each, and the group (linked to
    Nakuru, or not yet)."""
    with time_machine.travel(at(NOW)), session_scope() as session:
        team = world.team(session, TEAM, "Africa/Nairobi", _handle("organizer of the team"))
        other = world.team(session, OTHER, "America/Chicago", _handle("organizer of another team"))
        python = world.circle(session, team, _handle("facilitator of the team"),
                              datetime(2026, 12, 1, 18, 0), name="Python", weeks=3)  # fmt: skip
        world.circle(session, other, "sms:+15550000021", datetime(2026, 12, 3, 18, 0),
                     name="Speaking")  # fmt: skip
        juma = world.person_id(session, _handle("facilitator of the team"))
        session.get(Person, juma).name = "Juma"
        learner = contact_for(session, "telegram", str(PEOPLE["learner of the team's circle"]))
        session.get(Person, learner.person_id).name = "Amina"
        session.add(Signup(circle_id=python.id, person_id=learner.person_id,
                           contact_id=learner.id, goal="Build a website",
                           joined_at=at(NOW) - timedelta(days=2)))  # fmt: skip
        first = session.exec(select(Meeting).where(Meeting.circle_id == python.id,
                                                   Meeting.number == 1)).one()  # fmt: skip
        session.add(Reflection(meeting_id=first.id, person_id=juma, rating=5, attendance=1,
                               went_well="Good start"))  # fmt: skip
        session.add(GroupChat(channel="telegram", chat_id=str(GROUP), title="Team chat",
                              team_id=team.id if linked else None,
                              linked_at=at(NOW) if linked else None))  # fmt: skip
        return {
            "invite": team.invite_code,
            "join": python.join_code,
            "team link": create_link_code(session, team.id, at(NOW)).code,
            "other link": create_link_code(session, other.id, at(NOW)).code,
        }


def _handle(role: str) -> str:
    return f"telegram:{PEOPLE[role]}"


def in_group(telegram_user, role: str, text: str, run_jobs) -> list[str]:
    """Post `text` in the group as `role`; return what the bot said in the group."""
    person = telegram_user(PEOPLE[role])
    with time_machine.travel(at(NOW), tick=True):
        person.says_in(GROUP, text)
        run_jobs()
    return person.telegram.sent_texts(chat_id=GROUP)


# In a group linked to Nakuru, who may use each command (/link is sent with Chicago's code),
# what they see, and what the others see.
EVERYONE = set(PEOPLE)
ORGANIZERS = {"organizer of the team"}
MAY = {
    "/help": EVERYONE,
    "/week": EVERYONE,
    "/circles": EVERYONE,
    "/facilitators": EVERYONE,
    "/feedback": EVERYONE,
    "/digest": {"facilitator of the team", "organizer of the team"},
    "/invite": ORGANIZERS,
    "/link {other link}": ORGANIZERS,
    "/unlink": ORGANIZERS,
}
HELP = "This group gets its team's weekly digest. Ask me: /week /circles /facilitators /feedback"
ANSWERS = {
    # /help lists what the one asking may use.
    "/help": {
        **{role: [HELP] for role in PEOPLE},
        "facilitator of the team": [f"{HELP} /digest"],
        "organizer of the team": [f"{HELP} /digest /invite /link /unlink"],
    },
    "/week": ["This week:\nTue 8 Dec, 18:00: Python (Juma), 0 said yes"],
    "/circles": [
        "Circles of Nakuru Libraries:\nPython ({join}): next Tue 8 Dec, 18:00. Learners: 1."
    ],
    "/facilitators": ["Facilitators of Nakuru Libraries:\nJuma: Python"],
    "/feedback": [
        "Reflections of the last two weeks:\n"
        "Python, Tue 1 Dec, 18:00: 5/5, 1 came. Went well: Good start. To change: -."
    ],
    "/digest": None,  # pages of the digest, read apart
    "/invite": [
        "Facilitator invite code for Nakuru Libraries: {invite}. "
        'Share: "Send TEAM {invite} to +15550000000"'
    ],
    "/link {other link}": [
        "Linked to Chicago Libraries. The weekly digest will come here. Try /week."
    ],
    "/unlink": ["Unlinked from Nakuru Libraries: no more digests or team news here."],
}
REFUSALS = {
    "/digest": NOT_ALLOWED,
    "/invite": [
        "Only the team's organizers give out the facilitator invite code. To facilitate, ask "
        "one of them."
    ],
    "/link {other link}": [
        "This group is linked to Nakuru Libraries. An organizer of Nakuru Libraries must "
        "/unlink it first."
    ],
    "/unlink": NOT_ALLOWED,
}


@pytest.mark.parametrize("command", list(MAY))
@pytest.mark.parametrize("role", list(PEOPLE))
def test_each_member_of_a_linked_group_gets_what_their_role_allows(
    telegram_user, run_jobs, role, command
):
    codes = setup(linked=True)
    seen = in_group(telegram_user, role, command.format(**codes), run_jobs)
    expected = ANSWERS[command] if role in MAY[command] else REFUSALS[command]
    if isinstance(expected, dict):
        expected = expected[role]
    if expected is None:  # the digest on demand, with the learners' names and goals
        assert seen[0].startswith("Weekly digest for Nakuru Libraries, 2 Dec")
        assert any("Amina, goal: Build a website" in page for page in seen)
    else:
        assert seen == [line.format(**codes) for line in expected]
    # Codes show only where the table gives them.
    said = "\n".join(seen)
    assert (codes["invite"] in said) == (command == "/invite" and role in ORGANIZERS)
    assert codes["other link"] not in said


# In a group not linked yet: /help tells how to link, anyone holding a code may link it, and
# the team's commands wait for a link.
UNLINKED_HELP = [
    "Hi! An organizer can link this group to a team with /link CODE (get the code by sending "
    "LINK to me in a direct chat)."
]
LINK_FIRST = ["This group isn't linked to a team yet. An organizer can link it with /link CODE."]
UNLINKED = {
    "/help": UNLINKED_HELP,
    "/link {team link}": ["Linked to Nakuru Libraries. The weekly digest will come here. Try /week."],
    **{command: LINK_FIRST for command in
       ("/week", "/circles", "/facilitators", "/feedback", "/digest", "/invite", "/unlink")},
}  # fmt: skip


@pytest.mark.parametrize("command", list(UNLINKED))
@pytest.mark.parametrize("role", list(PEOPLE))
def test_a_group_not_linked_yet_answers_help_and_link_only(telegram_user, run_jobs, role, command):
    codes = setup(linked=False)
    assert in_group(telegram_user, role, command.format(**codes), run_jobs) == UNLINKED[command]
