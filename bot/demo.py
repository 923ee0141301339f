"""`flask seed-demo`: a demo team in Nairobi to try the bot with, and who is who in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from bot.db import session_scope
from bot.identity import contact_for
from models.circles import SCHEDULED, Circle, Facilitation, Meeting, Signup, create_circle
from models.people import Contact, Person
from models.teams import ORGANIZER, LinkCode, Team, TeamMember, create_link_code, create_team

SLUG = "demo-library"
ORGANIZERS = [("sms", "+254700000001", "Juliana")]
FACILITATORS = [("sms", "+254700000002", "Zawadi"), ("telegram", "100000002", "Otieno")]
LEARNERS = [
    ("sms", "+254700000010", "Amina", "Build a website for my shop"),
    ("whatsapp", "+254700000011", "Brian", "Get a job in tech"),
    ("telegram", "100000012", "Wanjiru", "Help my children with computers"),
]
DEMO_GROUP = "telegram-group:-100123"  # any negative id will do: the chat simulator makes it
NEW_LEARNER = "sms:+254700000099"  # nobody yet: try CIRCLES and JOIN as a stranger


def seed(at: datetime) -> dict:
    """Create the demo team, its organizer, two facilitators, two circles and three learners,
    once; every run says who is who, with the codes to use."""
    with session_scope() as session:
        team = session.exec(select(Team).where(Team.slug == SLUG)).first()
        created = team is None
        if created:
            team = _create(session, at)
        link = _usable_link_code(session, team, at)
        return _describe(session, team, link) | {"created": created}


def _create(session: Session, at: datetime) -> Team:
    (channel, address, name), = ORGANIZERS  # fmt: skip
    organizer = contact_for(session, channel, address)
    session.get(Person, organizer.person_id).name = name
    team = create_team(session, "Demo Library", "Africa/Nairobi", organizer.person_id)
    team.slug = SLUG
    local_now = at.astimezone(ZoneInfo(team.timezone)).replace(tzinfo=None)
    first = (local_now + timedelta(days=3)).replace(hour=18, minute=0, second=0, microsecond=0)
    facilitators = []
    for channel, address, name in FACILITATORS:
        contact = contact_for(session, channel, address)
        session.get(Person, contact.person_id).name = name
        facilitators.append(contact)
    circles = [
        create_circle(
            session, team, facilitators[0].person_id, name="Python for Beginners",
            course="Python for Everybody", venue="Nakuru Public Library", city="Nakuru",
            first=first,
        ),
        create_circle(
            session, team, facilitators[1].person_id, name="Digital Skills",
            course="Digital Literacy", venue="Kisumu Library", city="Kisumu",
            first=first + timedelta(days=1), weeks=8,
        ),
    ]  # fmt: skip
    for index, (channel, address, name, goal) in enumerate(LEARNERS):
        contact = contact_for(session, channel, address)
        session.get(Person, contact.person_id).name = name
        session.add(Signup(circle_id=circles[index % 2].id, person_id=contact.person_id,
                           contact_id=contact.id, goal=goal))  # fmt: skip
    session.flush()
    return team


def _usable_link_code(session: Session, team: Team, at: datetime) -> LinkCode:
    """The team's unused link code that is still valid, or a new one: each is one-time."""
    link = session.exec(
        select(LinkCode)
        .where(LinkCode.team_id == team.id, LinkCode.used_at.is_(None), LinkCode.expires_at > at)
        .order_by(LinkCode.expires_at.desc())
    ).first()
    return link or create_link_code(session, team.id, at)


def _describe(session: Session, team: Team, link: LinkCode) -> dict:
    """Everything a newcomer needs: the team's codes, its circles, and its people's roles."""
    first_meeting = (
        select(Meeting.circle_id, func.min(Meeting.starts_at).label("starts_at"))
        .group_by(Meeting.circle_id)
        .subquery()
    )
    next_reminder = (
        select(Meeting.circle_id, func.min(Meeting.reminder_due_at).label("due_at"))
        .where(Meeting.reminder_sent_at.is_(None), Meeting.status == SCHEDULED)
        .group_by(Meeting.circle_id)
        .subquery()
    )
    circles = session.exec(
        select(Circle, first_meeting.c.starts_at, next_reminder.c.due_at)
        .join(first_meeting, first_meeting.c.circle_id == Circle.id)
        .outerjoin(next_reminder, next_reminder.c.circle_id == Circle.id)
        .where(Circle.team_id == team.id)
        .order_by(Circle.id)
    ).all()
    zone = ZoneInfo(team.timezone)
    names = {circle.id: circle.name for circle, _, _ in circles}
    roles: dict[int, list[str]] = {}
    for person_id, role in session.exec(
        select(TeamMember.person_id, TeamMember.role)
        .where(TeamMember.team_id == team.id, TeamMember.role == ORGANIZER)
        .order_by(TeamMember.id)
    ):
        roles.setdefault(person_id, []).append(f"{role} of {team.name}")
    for role, table in (("facilitator", Facilitation), ("learner", Signup)):
        query = select(table.person_id, table.circle_id).where(table.circle_id.in_(list(names)))
        if table is Signup:
            query = query.where(Signup.left_at.is_(None))
        for person_id, circle_id in session.exec(query.order_by(table.id)):
            roles.setdefault(person_id, []).append(f"{role} of {names[circle_id]}")
    people = session.exec(
        select(Person, Contact)
        .join(Contact, Contact.person_id == Person.id)
        .where(Person.id.in_(list(roles)))
        .order_by(Person.id, Contact.id)
    ).all()
    return {
        "team": team.slug,
        "name": team.name,
        "timezone": team.timezone,
        "invite_code": team.invite_code,
        "link_code": link.code,
        "link_code_expires_at": link.expires_at.isoformat(),
        "join_codes": [circle.join_code for circle, _, _ in circles],
        "circles": [
            {
                "name": circle.name,
                "join_code": circle.join_code,
                "venue": circle.venue,
                "first_meeting": starts_at.astimezone(zone).strftime("%a %d %b %Y, %H:%M"),
                "next_reminder_at": _utc(due_at).isoformat() if due_at else None,
            }
            for circle, starts_at, due_at in circles
        ],
        "people": [
            {
                "name": person.name,
                "contact": f"{contact.channel}:{contact.address}",
                "roles": roles[person.id],
            }
            for person, contact in people
        ],
        "group": DEMO_GROUP,
        "new_learner": NEW_LEARNER,
    }


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


def describe(data: dict) -> str:
    """The demo as lines for the terminal: codes, circles, people, and the chats to try."""
    flask = ".venv/bin/flask --app app"
    chat = f"{flask} chat --as"
    first_of = {role: next(p for p in data["people"] if p["roles"][0].startswith(role))
                for role in ("organizer", "facilitator", "learner")}  # fmt: skip
    lines = [
        f"{data['name']} ({data['team']}, {data['timezone']})"
        + (": created." if data["created"] else ": already there, nothing new created."),
        f"  facilitator invite code {data['invite_code']}  (TEAM {data['invite_code']})",
        f"  group link code {data['link_code']}  (/link {data['link_code']}, one-time, valid "
        f"until {data['link_code_expires_at'][:16].replace('T', ' ')} UTC)",
        "Circles:",
        *(
            f"  {c['name']}: JOIN {c['join_code']}, first meeting {c['first_meeting']} at "
            f"{c['venue']} (local time)"
            for c in data["circles"]
        ),  # fmt: skip
        "People:",
        *(
            f"  {p['name']:<8} {p['contact']:<24} {', '.join(p['roles'])}" for p in data["people"]
        ),  # fmt: skip
        "Try it in another terminal:",
        f"  {chat} {first_of['learner']['contact']}      # a learner: NEXT, HELP",
        f"  {chat} {first_of['facilitator']['contact']}      # a facilitator: MY, WHO, REMINDER",
        f"  {chat} {first_of['organizer']['contact']}      # an organizer: WEEK, DIGEST",
        f"  {chat} {data['group']} --from telegram:100000002      "
        f"# a group: /link {data['link_code']}, then /week",
        f"  {chat} {data['new_learner']}      # someone new: CIRCLES, then JOIN",
    ]
    due = sorted(c["next_reminder_at"] for c in data["circles"] if c["next_reminder_at"])
    if due:
        lines += [
            "The first reminders, as if it were that time (the learners' windows show them):",
            f"  {flask} tick --at {due[0][:16]}",
        ]
    return "\n".join(lines)
