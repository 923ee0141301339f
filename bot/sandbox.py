"""The simulator's sandbox: a made-up team, its organizer, facilitator and open circle, and the
made-up people and groups an operator talks to the bot as. None of them reaches a phone
(jobs.send_message sends their messages to bot/channels/simulator.py), no real person sees the
sandbox's circles (circles_seen_by), and a real person at one of their addresses pushes the
made-up one aside (bot/webhooks.record)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot import clock
from bot.channels import simulator
from bot.channels.base import SMS, TELEGRAM, WHATSAPP
from bot.config import get_settings
from bot.db import session_scope
from models.circles import SIGNUP_OPEN, Circle, create_circle, has_meeting_after
from models.people import Contact, Person
from models.teams import FACILITATOR, ORGANIZER, GroupChat, Team, TeamMember, create_team

NAME = "Sandbox"
# The install's own DEFAULT_TIMEZONE when it was set, so that times read as the operator's;
# else Nairobi, where the product began: a zone away from UTC, so that the page's two clocks
# (UTC and the team's) show the difference a real team lives with.
FALLBACK_TIMEZONE = "Africa/Nairobi"
FIRST_MEETING_DAYS = 3  # soon enough to try the reminder, late enough to join first
FIRST_MEETING_HOUR = 18
WEEKS = 6
CIRCLE = {"name": "Sandbox Circle", "course": "Learning Together", "venue": "Sandbox Library",
          "city": "Sandbox"}  # fmt: skip
# Made-up addresses: the numbers North America keeps for fiction (555-0100 to 555-0199), and
# Telegram ids and group ids far from any handed out so far.
PHONES = [f"+1202555{n:04d}" for n in range(100, 200)]
TELEGRAM_IDS = [str(9000000001 + n) for n in range(80)]
GROUP_IDS = [str(-1009000000001 - n) for n in range(80)]
STAFF = {
    ORGANIZER: (TELEGRAM, "9000000091", "Neema"),
    FACILITATOR: (TELEGRAM, "9000000092", "Baraka"),
}


def find(session: Session) -> Team | None:
    """The sandbox team, if the simulator has been opened."""
    return session.exec(select(Team).where(Team.sandbox.is_(True)).order_by(Team.id)).first()


def ensure(at: datetime) -> int:
    """The sandbox team's id, made on first use, with a circle open to join as of `at`."""
    try:
        return _ensure(at)
    except IntegrityError:  # another first visit made it at the same moment: it is there now
        return _ensure(at)


def _ensure(at: datetime) -> int:
    with clock.simulated(at), session_scope() as session:
        # Locked while its circle is looked for: two visits at once open one circle, not two.
        team = session.exec(
            select(Team).where(Team.sandbox.is_(True)).order_by(Team.id).with_for_update()
        ).first()
        if team is None:
            team = _create(session)
        _open_circle(session, team, at)
        return team.id


def _create(session: Session) -> Team:
    settings = get_settings()
    timezone = settings.default_timezone
    timezone = FALLBACK_TIMEZONE if timezone in ("", "UTC") else timezone
    organizer = _new_staff(session, ORGANIZER, settings.default_language)
    team = create_team(session, NAME, timezone, organizer.person_id,
                       language=settings.default_language)  # fmt: skip
    team.sandbox = True
    organizer.simulator_team_id = team.id
    session.add_all([team, organizer])
    session.flush()
    return team


def _new_staff(session: Session, role: str, language: str) -> Contact:
    """A made-up member of the sandbox's staff, at their address unless someone holds it."""
    channel, address, name = STAFF[role]
    taken = session.exec(
        select(Contact.id).where(Contact.channel == channel, Contact.address == address)
    ).first()
    if taken is not None:
        address = free_address(session, channel)
    person = Person(name=name, language=language)
    session.add(person)
    session.flush()
    contact = Contact(person_id=person.id, channel=channel, address=address)
    session.add(contact)
    session.flush()
    return contact


def _open_circle(session: Session, team: Team, at: datetime) -> None:
    """Give the sandbox a circle to join when none is open as of `at` (the first, or after the
    simulated clock ran the last one to its end)."""
    open_one = session.exec(
        select(Circle.id).where(Circle.team_id == team.id, Circle.status.in_(SIGNUP_OPEN),
                                has_meeting_after(at))
    ).first()  # fmt: skip
    if open_one is not None:
        return
    facilitator = next((c for role, c in staff(session, team.id) if role == FACILITATOR), None)
    if facilitator is None:
        facilitator = _new_staff(session, FACILITATOR, team.language)
        facilitator.simulator_team_id = team.id
        session.add(facilitator)
    local = at.astimezone(ZoneInfo(team.timezone)).replace(tzinfo=None)
    first = (local + timedelta(days=FIRST_MEETING_DAYS)).replace(
        hour=FIRST_MEETING_HOUR, minute=0, second=0, microsecond=0
    )
    create_circle(session, team, facilitator.person_id, first=first, weeks=WEEKS, **CIRCLE)


def staff(session: Session, team_id: int) -> list[tuple[str, Contact]]:
    """The team's made-up organizers and facilitators with their roles, the first made first:
    the sandbox's own, and any made-up person who joined its staff since (TEAM code)."""
    return list(
        session.exec(
            select(TeamMember.role, Contact)
            .join(Contact, Contact.person_id == TeamMember.person_id)
            .where(TeamMember.team_id == team_id, Contact.simulator_team_id == team_id)
            .order_by(TeamMember.id, Contact.id)
        ).all()
    )


def circles_seen_by(contact: Contact):
    """SQL: the circles this contact may find and join. A made-up person sees only their own
    team's; a real one never a sandbox's."""
    if contact.simulator_team_id is not None:
        return Circle.team_id == contact.simulator_team_id
    sandboxes = select(Team.id).where(Team.sandbox.is_(True))
    return Circle.team_id.is_(None) | Circle.team_id.not_in(sandboxes)


def teams_seen_by(simulator_team_id: int | None):
    """SQL: the teams a contact or group may join or link to by code. A made-up one only its own
    team; a real one never a sandbox (a code seen on the console is no way in)."""
    if simulator_team_id is not None:
        return Team.id == simulator_team_id
    return Team.sandbox.is_(False)


def _same_person_channels(channel: str) -> tuple[str, ...]:
    # One number on SMS and WhatsApp is one person (bot.identity).
    return (SMS, WHATSAPP) if channel in (SMS, WHATSAPP) else (channel,)


def held_by_real(session: Session, channel: str, address: str) -> bool:
    """Whether a real person (one the simulator did not make) writes from this address."""
    return (
        session.exec(
            select(Contact.id).where(
                Contact.channel.in_(_same_person_channels(channel)),
                Contact.address == address,
                Contact.simulator_team_id.is_(None),
            )
        ).first()
        is not None
    )


def group_held_by_real(session: Session, chat_id: str) -> bool:
    """Whether a real Telegram group has this chat id."""
    found = session.exec(
        select(GroupChat.id).where(
            GroupChat.channel == TELEGRAM,
            GroupChat.chat_id == chat_id,
            GroupChat.simulator_team_id.is_(None),
        )
    ).first()
    return found is not None


def free_address(session: Session, channel: str) -> str:
    """A made-up address on this channel that nobody, real or made up, holds yet."""
    candidates = {SMS: PHONES, WHATSAPP: PHONES, TELEGRAM: TELEGRAM_IDS}[channel]
    taken = set(
        session.exec(
            select(Contact.address).where(
                Contact.channel.in_(_same_person_channels(channel)),
                Contact.address.in_(candidates),
            )
        ).all()
    )
    return next((c for c in candidates if c not in taken), candidates[-1])


def free_group(session: Session) -> str:
    """A made-up Telegram group id that no group chat has yet."""
    taken = set(
        session.exec(
            select(GroupChat.chat_id).where(
                GroupChat.channel == TELEGRAM, GroupChat.chat_id.in_(GROUP_IDS)
            )
        ).all()
    )
    return next((c for c in GROUP_IDS if c not in taken), GROUP_IDS[-1])


def simulated_contact(
    session: Session, team_id: int, channel: str, address: str, language: str
) -> Contact:
    """The made-up person at this address, made now if new (playing in `team_id`); the caller
    has made sure no real person holds it."""
    found = session.exec(
        select(Contact).where(Contact.channel == channel, Contact.address == address)
    ).first()
    if found is not None:
        return found
    # Made-up at one number on SMS and WhatsApp are one made-up person, as real ones are.
    twin = session.exec(
        select(Contact.person_id).where(
            Contact.channel.in_(_same_person_channels(channel)),
            Contact.address == address,
            Contact.simulator_team_id == team_id,
        )
    ).first()
    if twin is None:
        person = Person(language=language)
        session.add(person)
        session.flush()
        twin = person.id
    contact = Contact(person_id=twin, channel=channel, address=address, simulator_team_id=team_id)
    session.add(contact)
    session.flush()
    return contact


def simulated_group(session: Session, team_id: int, chat_id: str) -> GroupChat:
    """The made-up Telegram group at this id, made now if new, not linked to any team yet (as
    a new group is: /link CODE links it); the caller has made sure no real group has it."""
    found = session.exec(
        select(GroupChat).where(GroupChat.channel == TELEGRAM, GroupChat.chat_id == chat_id)
    ).first()
    if found is not None:
        return found
    group = GroupChat(channel=TELEGRAM, chat_id=chat_id, simulator_team_id=team_id)
    session.add(group)
    session.flush()
    return group


def made_up(session: Session, team_id: int, limit: int = 12) -> list[Contact]:
    """The made-up people playing in this team, the newest first, to talk as again (not those
    a real person pushed aside: their address is no longer theirs)."""
    return list(
        session.exec(
            select(Contact)
            .where(
                Contact.simulator_team_id == team_id,
                ~Contact.address.startswith(simulator.SET_ASIDE_PREFIX),
            )
            .order_by(Contact.id.desc())
            .limit(limit)
        ).all()
    )
