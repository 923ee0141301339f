"""Group chats: commands addressed to the bot, each with who in the group may use it; a group
sees only its own team."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import select

from bot import outbox, queue, sandbox, throttle
from bot.context import Context
from bot.i18n import t
from bot.identity import reachable_contacts
from bot.roles import Roles, roles_in
from handlers import organizer, team_view
from handlers.chat_events import unlink as forget_team
from handlers.keywords import HELP_WORDS
from handlers.words import split_command
from models.people import Person
from models.teams import ORGANIZER, LinkCode, Team, TeamMember

# Five tries at /link per group, one more every twelve minutes: guessing an 8-character code
# that way takes longer than the code lives.
LINK_TRIES = 5
LINK_TRIES_PER_SECOND = 1 / 720

Run = Callable[[Context, Team | None, str], None]


@dataclass(frozen=True)
class GroupCommand:
    """A group command word (and its Swahili twin), what it does, and who in the group may use
    it: the roles are those of the person posting, in the team the group is linked to."""

    words: tuple[str, ...]
    run: Run
    roles: tuple[str, ...]  # in a linked group: one of these is needed; empty: anyone
    # Also in a group not linked yet, for anyone: there is no team to hold a role in.
    unlinked: bool = False
    refusal: str = "auth.not_allowed"

    def allowed(self, roles: Roles) -> bool:
        return not self.roles or any(getattr(roles, role) for role in self.roles)


def route(ctx: Context) -> bool:
    """Run the group command named by the first word, if the one posting may use it here."""
    word, rest = split_command(ctx.text)
    command = next((c for c in COMMANDS if word in c.words), None)
    team = ctx.session.get(Team, ctx.group.team_id) if ctx.group.team_id else None
    if team is None:
        if command is not None and command.unlinked:
            command.run(ctx, None, rest)
        else:
            ctx.say("group.link_first")
        return True
    if command is None:
        return False
    roles = roles_in(ctx.session, ctx.person.id, team.id) if command.roles else Roles()
    if command.allowed(roles):
        command.run(ctx, team, rest)
    else:
        ctx.say(command.refusal, team=team.name)
    return True


def show_help(ctx: Context, team: Team | None, rest: str) -> None:
    """/help: how to link a group not linked yet; in a linked one, what the asker may use."""
    if team is None:
        ctx.say("help.group_unlinked")
        return
    roles = roles_in(ctx.session, ctx.person.id, team.id)
    usable = [
        f"/{command.words[0].lower()}"
        for command in COMMANDS
        if command.run is not show_help and command.allowed(roles)
    ]
    ctx.say("help.group_commands", commands=" ".join(usable))


def link(ctx: Context, linked: Team | None, rest: str) -> None:
    """/link CODE: link this group to the code's team; the code works once, for 24 hours."""
    bucket, at = f"group-link:{ctx.group.id}", ctx.now.timestamp()
    if throttle.try_take(bucket, LINK_TRIES_PER_SECOND, LINK_TRIES, at=at) > 0:
        ctx.say("group.link_slow")
        return
    code = re.sub(r"[^A-Za-z0-9]", "", rest).upper()[:16]
    seen = select(Team.id).where(sandbox.teams_seen_by(ctx.group.simulator_team_id))
    valid = (LinkCode.code == code, LinkCode.used_at.is_(None), LinkCode.expires_at > ctx.now,
             LinkCode.team_id.in_(seen))  # fmt: skip
    # A code of the group's own team changes nothing: it stays unused for another group.
    if linked is not None and code:
        own = ctx.session.exec(select(LinkCode.team_id).where(*valid)).first() == linked.id
        if own:
            ctx.say("group.link_same", team=linked.name)
            return
    # The claim and the check are one statement: two groups racing for a code, one wins.
    team_id = ctx.session.execute(
        update(LinkCode).where(*valid).values(used_at=ctx.now).returning(LinkCode.team_id)
    ).scalar_one_or_none() if code else None  # fmt: skip
    if team_id is None:  # wrong, used and expired read alike: a guess learns nothing
        ctx.say("group.link_bad")
        return
    team = ctx.session.get(Team, team_id)
    ctx.group.team_id, ctx.group.linked_at, ctx.group.linked_by = team.id, ctx.now, ctx.person.id
    ctx.session.add(ctx.group)
    ctx.group_language = team.language
    ctx.say("group.linked", team=team.name)
    if linked is not None:
        tell_old_organizers(ctx, linked, team)


def tell_old_organizers(ctx: Context, old: Team, new: Team) -> None:
    """Tell the old team's organizers, each in their language, that their group went to
    another team (not the one who moved it: they saw it happen)."""
    people = ctx.session.exec(
        select(Person)
        .join(TeamMember, TeamMember.person_id == Person.id)
        .where(TeamMember.team_id == old.id, TeamMember.role == ORGANIZER,
               Person.id != ctx.person.id)
    ).all()  # fmt: skip
    contacts = reachable_contacts(ctx.session, [person.id for person in people])
    group = ctx.group.title or ctx.group.chat_id
    for person in people:
        contact = contacts.get(person.id)
        if contact is not None:
            body = t("group.moved", person.language, old=old.name, group=group, team=new.name)
            outbox.to_contact(ctx.session, contact, body, purpose="notice", queue_name=queue.LOW)


def unlink(ctx: Context, team: Team | None, rest: str) -> None:
    """/unlink: the group gets no digest and no team data."""
    forget_team(ctx.group)
    ctx.session.add(ctx.group)
    ctx.say("group.unlinked", team=team.name)


def _view(view: organizer.View) -> Run:
    return lambda ctx, team, rest: organizer.show(ctx, [team], view)


def _digest(ctx: Context, team: Team | None, rest: str) -> None:
    organizer.send_digest(ctx, [team])


def _invite(ctx: Context, team: Team | None, rest: str) -> None:
    ctx.send(organizer.invite_text(team, ctx.language))


EVERYONE: tuple[str, ...] = ()
ORGANIZERS = ("organizer",)
LOOKS_AFTER = ("organizer", "facilitator")  # the roles that may see a circle's learners
LINK_WORDS = ("LINK", "UNGANISHA")
# Who may use each command in the group; /help lists them in this order. The team's views are
# for everyone who posts in the team's own chat: the group already gets them weekly, and they
# name no learner. The digest on demand repeats the learners' names and goals into the group,
# so it is for those who look after circles; the invite code makes its holder a facilitator,
# and /link and /unlink decide where the team's news goes: organizers of this team only.
COMMANDS: list[GroupCommand] = [
    # Telegram opens every new chat with /start: it is answered like /help.
    GroupCommand((*HELP_WORDS, "START"), show_help, EVERYONE, unlinked=True),
    GroupCommand(("WEEK", "WIKI"), _view(team_view.week_view), EVERYONE),
    GroupCommand(("CIRCLES", "VIKUNDI"), _view(team_view.circles), EVERYONE),
    GroupCommand(("FACILITATORS", "WAWEZESHAJI"), _view(team_view.facilitators), EVERYONE),
    GroupCommand(("FEEDBACK", "MAONI"), _view(team_view.feedback), EVERYONE),
    GroupCommand(("DIGEST", "MUHTASARI"), _digest, LOOKS_AFTER),
    GroupCommand(("INVITE", "MWALIKO"), _invite, ORGANIZERS, refusal="group.invite_ask"),
    # Anyone holding a code links a new group; moving a linked one is its organizers' call.
    GroupCommand(LINK_WORDS, link, ORGANIZERS, unlinked=True, refusal="group.link_taken"),
    GroupCommand(("UNLINK", "TENGANISHA"), unlink, ORGANIZERS),
]
