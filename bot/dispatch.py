"""Route one inbound message to the first part of the bot that takes it (DESIGN "Handle")."""

from __future__ import annotations

from sqlmodel import Session

from bot.clock import now
from bot.context import Context
from conversations import engine, prompts
from handlers import commands, fallback, groups, keywords, learner
from models.message import Message
from models.people import Contact, Person
from models.teams import GroupChat, Team

# Order matters: opt-out first, then the stopped gate, the other keywords, a waiting dialog,
# commands, a YES/NO read as an RSVP, and a hint for anything else. Group chats have their
# own small router.
ROUTES = [
    keywords.opt_out_route,
    keywords.stopped_route,
    keywords.route,
    learner.rsvp_before_dialog_route,
    engine.route,
    commands.route,
    learner.rsvp_route,
    fallback.route,
]
GROUP_ROUTES = [groups.route, fallback.group_route]


def dispatch(session: Session, message: Message) -> Context:
    """Handle one inbound message; effects and replies join the caller's transaction."""
    contact = session.get(Contact, message.contact_id)
    person = session.get(Person, contact.person_id)
    group = session.get(GroupChat, message.group_chat_id) if message.group_chat_id else None
    team = session.get(Team, group.team_id) if group and group.team_id else None
    ctx = Context(
        session=session,
        message=message,
        contact=contact,
        person=person,
        group=group,
        group_language=team.language if team else None,
        now=now(),
    )
    for route in GROUP_ROUTES if group is not None else ROUTES:
        if route(ctx):
            break
    # A dialog we began while the person was busy (a reflection) starts once they are free.
    prompts.start_waiting(ctx)
    return ctx
