"""Who may act on which circle: every facilitator command, by every role, by message."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from bot.db import session_scope
from bot.identity import contact_for
from models.circles import Signup
from models.people import Person
from tests.support import world
from tests.support.drivers import refused

# Team T (Nairobi): circle A "Python" and circle B "Poetry"; team U (Chicago): circle "Speaking".
PEOPLE = {
    "learner": "+15550000101",
    "stranger": "+15550000999",
    "facilitator of A": "+15550000011",
    "facilitator of B": "+15550000012",
    "organizer of the team": "+15550000010",
    "organizer of another team": "+15550000020",
}
CIRCLES = ("Python", "Poetry", "Speaking")
LOOKS_AFTER = {
    "facilitator of A": {"Python"},
    "facilitator of B": {"Poetry"},
    "organizer of the team": {"Python", "Poetry"},
    "organizer of another team": {"Speaking"},
}
# The most recent meeting of one's circles: A met on Tuesday, B and Speaking on Monday.
LATEST_MEETING = {
    "facilitator of A": "Python",
    "facilitator of B": "Poetry",
    "organizer of the team": "Python",
    "organizer of another team": "Speaking",
}
NOT_HERE = "Sorry, you can't do that here."  # a circle that is not theirs
COMMANDS = ("MY", "WHO", "MSG Hello all", "REMINDER", "EDIT", "MOVE", "CANCEL MEETING", "REFLECT")
# Wednesday morning: every circle has met once and meets once more.
NOW = datetime.fromisoformat("2026-12-02T09:00:00+00:00")


def setup() -> None:
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"sms:{PEOPLE['organizer of the team']}")  # fmt: skip
        other = world.team(session, "Chicago Libraries", "America/Chicago",
                           f"sms:{PEOPLE['organizer of another team']}")  # fmt: skip
        a = world.circle(session, team, f"sms:{PEOPLE['facilitator of A']}",
                         datetime(2026, 12, 1, 18, 0), name="Python", weeks=2)  # fmt: skip
        world.circle(session, team, f"sms:{PEOPLE['facilitator of B']}",
                     datetime(2026, 11, 30, 18, 0), name="Poetry", weeks=2)  # fmt: skip
        world.circle(session, other, "sms:+15550000021", datetime(2026, 11, 30, 18, 0),
                     name="Speaking", weeks=2)  # fmt: skip
        contact = contact_for(session, "sms", PEOPLE["learner"])
        session.get(Person, contact.person_id).name = "Amina"
        session.add(Signup(circle_id=a.id, person_id=contact.person_id, contact_id=contact.id))


def act(person, command: str, run_jobs) -> list[str]:
    """Send the command and follow it far enough that the circle acted on is named: pick
    circle A when it is offered (else the first option), and give EDIT its text."""
    with time_machine.travel(NOW, tick=True):
        person.says(command)
        run_jobs()
        while person.last_reply().startswith(("Which", "Message which")):
            person.says(_option(person.last_reply(), "Python"))
            run_jobs()
        if command == "EDIT" and person.last_reply().startswith("Write the reminder"):
            person.says("Bring a pen")
            run_jobs()
    return person.replies()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("role", ["learner", "stranger"])
def test_people_who_look_after_no_circle_are_refused_and_shown_nothing(
    sms_user, run_jobs, role, command
):
    setup()
    (reply,) = act(sms_user(PEOPLE[role]), command, run_jobs)
    assert refused(reply)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("role", list(LOOKS_AFTER))
def test_facilitators_and_organizers_act_only_on_their_own_circles(
    sms_user, run_jobs, role, command
):
    setup()
    replies = act(sms_user(PEOPLE[role]), command, run_jobs)
    assert not any(refused(reply) or reply == NOT_HERE for reply in replies)
    named = {circle for circle in CIRCLES if any(circle in reply for reply in replies)}
    expected = {LATEST_MEETING[role]} if command == "REFLECT" else LOOKS_AFTER[role]
    assert named == expected
    # A learner's name reaches only those who look after the learner's circle.
    assert any("Amina" in reply for reply in replies) == (
        command == "WHO" and "Python" in LOOKS_AFTER[role]
    )


def _option(question: str, wanted: str) -> str:
    """The number of the option naming `wanted`, or 1."""
    for line in question.splitlines():
        number, _, label = line.partition(") ")
        if number.isdigit() and wanted in label:
            return number
    return "1"
