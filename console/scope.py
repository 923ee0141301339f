"""Which rows an operator may see: those of their teams (console/auth.visible_team_ids)."""

from __future__ import annotations

from sqlalchemy import or_, select, true
from sqlmodel import Session

from console.auth import visible_team_ids
from models.circles import Circle, Facilitation, Meeting, Signup
from models.message import Message
from models.people import Contact
from models.teams import GroupChat, TeamMember


def people_of(team_ids: list[int]):
    """SQL: the ids of the people in these teams: members, learners and facilitators of their
    circles."""
    circles = select(Circle.id).where(Circle.team_id.in_(team_ids))
    return (
        select(TeamMember.person_id)
        .where(TeamMember.team_id.in_(team_ids))
        .union(
            select(Signup.person_id).where(Signup.circle_id.in_(circles)),
            select(Facilitation.person_id).where(Facilitation.circle_id.in_(circles)),
        )
    )


def messages_of(team_ids: list[int]):
    """SQL: the messages of these teams: to or from their people, in their group chats, or
    about their circles' meetings."""
    contacts = select(Contact.id).where(Contact.person_id.in_(people_of(team_ids)))
    groups = select(GroupChat.id).where(GroupChat.team_id.in_(team_ids))
    meetings = (
        select(Meeting.id)
        .join(Circle, Circle.id == Meeting.circle_id)
        .where(Circle.team_id.in_(team_ids))
    )
    return or_(
        Message.contact_id.in_(contacts),
        Message.group_chat_id.in_(groups),
        Message.meeting_id.in_(meetings),
    )


def messages_visible(db: Session):
    """SQL: the messages the operator may see (those of their teams); every one, for an
    operator of all teams."""
    ids = visible_team_ids(db)
    return true() if ids is None else messages_of(ids)
