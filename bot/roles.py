"""A person's roles, read from data: signups, facilitations and team memberships."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, exists, literal, select
from sqlmodel import Session

from models.circles import Circle, Facilitation, Signup
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


def _roles_statement():
    person = bindparam("person_id")
    learner = exists().where(Signup.person_id == person, Signup.left_at.is_(None))
    facilitates = exists().where(Facilitation.person_id == person)
    team_facilitator = exists().where(
        and_(TeamMember.person_id == person, TeamMember.role == FACILITATOR)
    )
    organizer = exists().where(and_(TeamMember.person_id == person, TeamMember.role == ORGANIZER))
    return select(
        literal(True).label("known"),
        learner.label("learner"),
        (facilitates | team_facilitator).label("facilitator"),
        organizer.label("organizer"),
    )


# Built once: most messages ask for the sender's roles.
_ROLES = _roles_statement()


def roles_of(session: Session, person_id: int) -> Roles:
    """Read all three roles in one query."""
    row = session.execute(_ROLES, {"person_id": person_id}).one()
    return Roles(
        learner=bool(row.learner), facilitator=bool(row.facilitator), organizer=bool(row.organizer)
    )


def roles_in(session: Session, person_id: int, team_id: int) -> Roles:
    """The person's roles in this one team, in one query: an organizer of another team is no
    organizer here. (Learners are left out: no group command is theirs alone.)"""
    member = and_(TeamMember.team_id == team_id, TeamMember.person_id == person_id)
    facilitates = and_(Facilitation.person_id == person_id, Facilitation.circle_id == Circle.id,
                       Circle.team_id == team_id)  # fmt: skip
    organizer_here, facilitator_here = session.execute(
        select(
            exists().where(member, TeamMember.role == ORGANIZER),
            exists().where(member, TeamMember.role == FACILITATOR) | exists().where(facilitates),
        )
    ).one()
    return Roles(facilitator=bool(facilitator_here), organizer=bool(organizer_here))
