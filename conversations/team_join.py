"""Joining a team as a facilitator: the invite code (if not given), the name (if unknown)."""

from __future__ import annotations

from sqlmodel import select

from bot import outbox, queue, sandbox
from bot.context import Context
from bot.i18n import t
from bot.identity import reachable_contacts
from conversations.engine import Flow, Next, Step, Stop
from conversations.parsers import text
from models.people import Person
from models.teams import FACILITATOR, ORGANIZER, Team, TeamMember, add_member

TEAM_WORDS = ("TEAM", "TIMU")  # TEAM's words: "TEAM K7Q2" answers "What's the code?"


def invited_team(ctx: Context, code: str) -> Team | None:
    """The team whose invite code this is, if this contact may join it (not across the line
    between the console's sandbox and real teams)."""
    seen = sandbox.teams_seen_by(ctx.contact.simulator_team_id)
    return ctx.session.exec(select(Team).where(Team.invite_code == code, seen)).first()


def check_code(ctx: Context, data: dict, answer: str):
    code = "".join(ch for ch in answer if ch.isalnum()).upper()
    found = invited_team(ctx, code)
    if found is None:
        return Stop("team.unknown_code", {"code": code})
    return Next(data={"team_id": found.id, "team": found.name})


def finish(ctx: Context, data: dict) -> None:
    """Add the person to the team as a facilitator and tell its organizers."""
    member = ctx.session.exec(
        select(TeamMember).where(
            TeamMember.team_id == data["team_id"], TeamMember.person_id == ctx.person.id
        )
    ).first()
    if member is not None:
        ctx.say("team.already", team=data["team"])
        return
    if data.get("name"):
        ctx.person.name = data["name"]
        ctx.session.add(ctx.person)
    add_member(ctx.session, data["team_id"], ctx.person.id, FACILITATOR)
    ctx.session.flush()
    ctx.forget_roles()
    ctx.say("team.joined", team=data["team"])
    organizers = ctx.session.exec(
        select(Person)
        .join(TeamMember, TeamMember.person_id == Person.id)
        .where(TeamMember.team_id == data["team_id"], TeamMember.role == ORGANIZER)
    ).all()
    contacts = reachable_contacts(ctx.session, [person.id for person in organizers])
    for person in organizers:
        if person.id in contacts:
            body = t("team.organizer_told", person.language, name=ctx.person.name or "-",
                     team=data["team"])  # fmt: skip
            outbox.to_contact(ctx.session, contacts[person.id], body, purpose="notice",
                              queue_name=queue.LOW)  # fmt: skip


FLOW = Flow(
    "team_join",
    steps=[
        Step("code", ask="team.ask_code", expect=text(max_len=20), check=check_code,
             skip=lambda data: "team_id" in data, command_words=TEAM_WORDS),
        Step("name", ask="join.ask_name", expect=text(max_len=60),
             skip=lambda data: data.get("known_name", False)),
    ],
    finish=finish,
)  # fmt: skip
