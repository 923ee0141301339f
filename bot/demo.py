"""`flask seed-demo`: a demo team in Nairobi to try the bot with."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for
from models.circles import Circle, Signup, create_circle
from models.people import Person
from models.teams import Team, create_link_code, create_team

SLUG = "demo-library"
LEARNERS = [
    ("sms", "+254700000010", "Amina", "Build a website for my shop"),
    ("whatsapp", "+254700000011", "Brian", "Get a job in tech"),
    ("telegram", "100000012", "Wanjiru", "Help my children with computers"),
]


def seed(at: datetime) -> dict:
    """Create the demo team, a facilitator, two circles and three learners, once."""
    with session_scope() as session:
        existing = session.exec(select(Team).where(Team.slug == SLUG)).first()
        if existing is not None:
            codes = session.exec(select(Circle.join_code).where(Circle.team_id == existing.id))
            return {"team": existing.slug, "join_codes": list(codes.all()), "created": False}
        organizer = contact_for(session, "sms", "+254700000001")
        team = create_team(session, "Demo Library", "Africa/Nairobi", organizer.person_id)
        team.slug = SLUG
        link = create_link_code(session, team.id, at)
        local_now = at.astimezone(ZoneInfo(team.timezone)).replace(tzinfo=None)
        first = (local_now + timedelta(days=3)).replace(hour=18, minute=0, second=0, microsecond=0)
        facilitators = [contact_for(session, "sms", "+254700000002"),
                        contact_for(session, "telegram", "100000002")]  # fmt: skip
        for contact, name in zip(facilitators, ("Zawadi", "Otieno"), strict=True):
            session.get(Person, contact.person_id).name = name
        session.get(Person, organizer.person_id).name = "Juliana"
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
            session.add(
                Signup(
                    circle_id=circles[index % 2].id,
                    person_id=contact.person_id,
                    contact_id=contact.id,
                    goal=goal,
                )
            )
        return {
            "team": team.slug,
            "invite_code": team.invite_code,
            "link_code": link.code,
            "join_codes": [circle.join_code for circle in circles],
            "created": True,
        }
