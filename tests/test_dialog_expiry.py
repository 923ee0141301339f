"""A facilitator's dialog left for a day lapses: a late answer changes nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from sqlmodel import func, select

from bot.db import session_scope
from bot.identity import contact_for
from models.circles import Circle, Meeting, Signup
from models.conversation import Conversation
from models.teams import TeamMember
from tests.support import world
from tests.support.timeline import at, tick_at

FACILITATOR, LEARNER, NEWCOMER = "+15550000011", "+15550000200", "+15550000300"
STARTED = "2026-11-23T09:00:00+00:00"
LATE = "2026-11-24T09:30:00+00:00"  # a day and a half hour after the last answer


def setup() -> str:
    """A team with one two-week circle and one learner; returns the team's invite code."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        circle = world.circle(session, team, f"sms:{FACILITATOR}", datetime(2026, 12, 1, 18, 0),
                              weeks=2)  # fmt: skip
        contact = contact_for(session, "sms", LEARNER)
        session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                           contact_id=contact.id))  # fmt: skip
        return team.invite_code


def state() -> dict:
    """What the dialogs could change: circles, meetings, team members."""
    with session_scope() as session:
        meetings = session.exec(select(Meeting).order_by(Meeting.id)).all()
        return {
            "circles": session.exec(select(func.count()).select_from(Circle)).one(),
            "meetings": [(m.starts_at, m.status, m.reminder_text) for m in meetings],
            "members": session.exec(select(func.count()).select_from(TeamMember)).one(),
        }


# Each dialog, its answers up to the last question, and the answer that comes too late.
DIALOGS = {
    "NEW": (FACILITATOR, ["NEW", "Poetry"], "Poetry club"),
    "MSG": (FACILITATOR, ["MSG Hello all"], "yes"),
    "EDIT": (FACILITATOR, ["EDIT"], "Bring a pen"),
    "MOVE": (FACILITATOR, ["MOVE", "1", "Thursday 3 Dec 18:00"], "yes"),
    "CANCEL MEETING": (FACILITATOR, ["CANCEL MEETING", "1"], "yes"),
    "TEAM": (NEWCOMER, ["TEAM {code}"], "Zawadi"),
}


@pytest.mark.parametrize("dialog", list(DIALOGS))
def test_a_late_answer_to_a_lapsed_dialog_changes_nothing(sms_user, run_jobs, dialog):
    code = setup()
    number, answers, late = DIALOGS[dialog]
    person, learner = sms_user(number), sms_user(LEARNER)
    before = state()
    with time_machine.travel(at(STARTED), tick=True):
        for answer in answers:
            person.says(answer.format(code=code))
            run_jobs()
    asked = person.last_reply()
    tick_at(LATE, run_jobs)  # the sweep closes it, quietly
    assert person.last_reply() == asked
    with session_scope() as session:
        assert session.exec(select(Conversation.status)).all() == ["expired"]
    with time_machine.travel(at(LATE), tick=True):
        person.says(late)
        run_jobs()
    assert state() == before
    assert learner.replies() == []
