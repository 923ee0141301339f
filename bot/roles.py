"""A person's roles, read from data: signups, facilitations and team memberships."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, literal, select
from sqlmodel import Session

from models.circles import Facilitation, Signup
from models.teams import FACILITATOR, ORGANIZER, TeamMember


@dataclass(frozen=True)
class Roles:
    """What a person is to us right now."""

    learner: bool = False
    facilitator: bool = False
    organizer: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(
            name for name in ("learner", "facilitator", "organizer") if getattr(self, name)
        )


def roles_of(session: Session, person_id: int) -> Roles:
    """Read all three roles in one query."""
    learner = exists().where(Signup.person_id == person_id, Signup.left_at.is_(None))
    facilitates = exists().where(Facilitation.person_id == person_id)
    team_facilitator = exists().where(
        and_(TeamMember.person_id == person_id, TeamMember.role == FACILITATOR)
    )
    organizer = exists().where(
        and_(TeamMember.person_id == person_id, TeamMember.role == ORGANIZER)
    )
    row = session.execute(
        select(
            literal(True).label("known"),
            learner.label("learner"),
            (facilitates | team_facilitator).label("facilitator"),
            organizer.label("organizer"),
        )
    ).one()
    return Roles(
        learner=bool(row.learner), facilitator=bool(row.facilitator), organizer=bool(row.organizer)
    )
