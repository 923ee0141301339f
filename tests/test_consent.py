"""A confirmation that stores personal data, sends or erases takes an explicit YES (PRODUCT
"Learner" 2, "Facilitator" 5-6, LEAVE): a command leaves the question, anything else asks again.

Each flow is driven to its confirmation by signed webhooks, then given one reply from the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest
import time_machine
from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for, find_contact
from models.circles import Meeting, Signup
from models.conversation import ACTIVE, Conversation
from models.message import Message
from models.people import Contact
from tests.support import world

NOW = datetime.fromisoformat("2026-11-22T09:00:00+00:00")
FACILITATOR, LEARNER, NEWCOMER = "+15550000011", "+15550000200", "+254711000001"
REASK = "Please reply YES or NO."


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def make_world() -> str:
    """Python meets from Tue 1 Dec, with one learner; returns its join code."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550000010")
        circle = world.circle(session, team, f"sms:{FACILITATOR}", datetime(2026, 12, 1, 18, 0),
                              weeks=2, venue="Nakuru Library")  # fmt: skip
        contact = contact_for(session, "sms", LEARNER)
        session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                           contact_id=contact.id, goal="learn"))  # fmt: skip
        return circle.join_code


def joined() -> bool:
    with session_scope() as session:
        signup = session.exec(
            select(Signup.id)
            .join(Contact, Contact.person_id == Signup.person_id)
            .where(Contact.address == NEWCOMER)
        ).first()
        return signup is not None


def first_meeting() -> Meeting:
    with session_scope() as session:
        meeting = session.exec(select(Meeting).where(Meeting.number == 1)).one()
        session.expunge(meeting)
        return meeting


def announced() -> bool:
    with session_scope() as session:
        sent = session.exec(select(Message.id).where(Message.purpose == "announcement")).first()
        return sent is not None


def left() -> bool:
    with session_scope() as session:
        return session.exec(select(Signup.left_at)).one() is not None


@dataclass(frozen=True)
class Confirming:
    """A flow up to its confirmation: who answers, what they send first, what YES does."""

    name: str
    number: str
    steps: Callable[[str], tuple[str, ...]]  # from the join code
    question: str  # how the confirmation begins
    done: Callable[[], bool]


FLOWS = [
    Confirming("join", NEWCOMER, lambda code: (f"JOIN {code}", "Amina", "Learn Python"),
               "We keep your name, number and goal", joined),
    Confirming("msg", FACILITATOR, lambda code: ("MSG Bring your laptops",),
               "To Python, learners reached: 1.", announced),
    Confirming("cancel_meeting", FACILITATOR, lambda code: ("CANCEL MEETING", "1"),
               "Cancel Python, Tue 1 Dec, 18:00?",
               lambda: first_meeting().status == "cancelled"),
    Confirming("move_meeting", FACILITATOR, lambda code: ("MOVE", "1", "Thursday 3 Dec 18:00"),
               "Move Python, Tue 1 Dec, 18:00 to Thu 3 Dec, 18:00?",
               lambda: first_meeting().starts_at.day == 3),
    Confirming("leave", LEARNER, lambda code: ("LEAVE",), "Leave Python?", left),
]  # fmt: skip


@pytest.fixture
def at_confirmation(sms_user, run_jobs):
    """Bring one flow to its confirmation; returns the person who must answer it."""

    def reach(flow: Confirming):
        code = make_world()
        person = sms_user(flow.number)
        for text in flow.steps(code):
            person.says(text)
            run_jobs()
        assert person.last_reply().startswith(flow.question)
        assert not flow.done()
        return person

    return reach


def active_dialog(number: str) -> str | None:
    with session_scope() as session:
        contact = find_contact(session, "sms", number)
        return session.exec(
            select(Conversation.flow).where(
                Conversation.contact_id == contact.id, Conversation.status == ACTIVE
            )
        ).first()


# What counts as an explicit yes: the word itself, in either language, with courtesy around it.
EXPLICIT_YES = ["yes", "YES", "Yes!", "y", "ndiyo", "Ndio", "naam", "Yes please", "I agree",
                "nakubali", "ndiyo asante", "yesss", "ＹＥＳ", "yes 👍"]  # fmt: skip
# Words people also send as "seen", typos, doubts, and anything that is no answer: asked again.
NOT_EXPLICIT = ["fine", "ok", "OK sure", "sure", "okay", "k", "sawa", "poa", "👍", "👍🏾", "✅",
                "yse", "yes?", "maybe", "Nairobi", "yes but later", "of course"]  # fmt: skip
# A command word leaves the question; the command then runs as it would anywhere.
COMMANDS = {
    "FIND Nairobi": "Nairobi",
    "JOIN QQQQ": "I don't know the code QQQQ",
    "CIRCLES": "JOIN ",
    "stop please": "reply HELP",
}


def cases(replies: list[str], elsewhere: list[str]) -> list:
    """Every reply for the consent to join; the `elsewhere` ones for each other confirmation."""
    return [
        pytest.param(flow, reply, id=f"{flow.name}-{reply}")
        for flow in FLOWS
        for reply in (replies if flow.name == "join" else elsewhere)
    ]


@pytest.mark.parametrize(("flow", "reply"), cases(EXPLICIT_YES, ["yes", "Y", "Ndiyo", "I agree"]))
def test_an_explicit_yes_goes_ahead(at_confirmation, run_jobs, flow, reply):
    person = at_confirmation(flow)
    person.says(reply)
    run_jobs()
    assert flow.done()
    assert active_dialog(flow.number) is None


@pytest.mark.parametrize(
    ("flow", "reply"), cases(NOT_EXPLICIT, ["fine", "ok", "sawa", "👍", "maybe", "Nairobi"])
)
def test_anything_but_an_explicit_yes_is_asked_again_and_does_nothing(
    at_confirmation, run_jobs, flow, reply
):
    person = at_confirmation(flow)
    person.says(reply)
    run_jobs()
    assert not flow.done()
    hint, question = person.last_reply().split("\n")[:2]
    assert hint == REASK
    assert question.startswith(flow.question)
    person.says("YES")  # the question is still waiting for its answer
    run_jobs()
    assert flow.done()


@pytest.mark.parametrize(("flow", "reply"), cases(list(COMMANDS), ["FIND Nairobi", "JOIN QQQQ"]))
def test_a_command_word_leaves_the_confirmation_and_runs(at_confirmation, run_jobs, flow, reply):
    person = at_confirmation(flow)
    person.says(reply)
    run_jobs()
    assert COMMANDS[reply] in person.last_reply()
    assert REASK not in person.last_reply()
    assert active_dialog(flow.number) is None
    person.says("yes")  # too late: there is no question any more
    run_jobs()
    assert not flow.done()


@pytest.mark.parametrize(("flow", "reply"), cases(["no", "hapana", "not now", "No thanks"], ["no"]))
def test_a_no_ends_the_dialog_and_does_nothing(at_confirmation, run_jobs, flow, reply):
    person = at_confirmation(flow)
    person.says(reply)
    run_jobs()
    assert REASK not in person.last_reply()
    assert active_dialog(flow.number) is None
    assert not flow.done()


def test_find_nairobi_at_the_consent_question_searches_and_signs_nobody_up(
    at_confirmation, run_jobs
):
    amina = at_confirmation(FLOWS[0])
    amina.says("FIND Nairobi")
    run_jobs()
    assert amina.last_reply() == "No open circles found for Nairobi. Reply CIRCLES to see them all."
    assert not joined()


@pytest.mark.parametrize("reply", ["HELP", "help me", "Msaada tafadhali"])
def test_help_at_the_confirmation_answers_and_the_question_still_waits(
    at_confirmation, run_jobs, reply
):
    flow = FLOWS[0]
    assert flow.name == "join"
    person = at_confirmation(flow)
    person.says(reply)
    run_jobs()
    assert person.last_reply().startswith("You can reply:")
    assert active_dialog(flow.number) == "join"
    person.says("yes")
    run_jobs()
    assert flow.done()
