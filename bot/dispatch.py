"""Route one inbound message to the first part of the bot that takes it (DESIGN "Handle")."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam
from sqlmodel import Session, select

from bot import languages
from bot.channels.base import SMS
from bot.clock import now
from bot.context import Context
from bot.i18n import t
from bot.outbox import sms_body
from bot.sms import segments
from conversations import engine, prompts
from handlers import commands, fallback, groups, keywords, learner, privacy, taps
from handlers.words import split_command
from models.message import Message
from models.people import Contact, Person
from models.teams import GroupChat, Team

# Order matters: opt-out first, then a tapped button (for its own question only), the stopped
# gate, the other keywords, the words about a person's data (CONNECT, MYDATA, FORGET), a
# waiting dialog, commands, a YES/NO read as an RSVP, and a hint for anything else. Group chats
# have their own small router.
ROUTES = [
    keywords.opt_out_route,
    taps.route,
    keywords.stopped_route,
    keywords.route,
    privacy.route,
    learner.rsvp_before_dialog_route,
    engine.route,
    commands.route,
    learner.rsvp_route,
    fallback.route,
]
GROUP_ROUTES = [groups.route, fallback.group_route]
# A person made longer ago than this has been here before, or was set up by an operator: they
# are not asked the database whether this is their first message.
NEW_PERSON_FOR = timedelta(days=1)


# The sender and their person in one statement, built once: every message reads them.
_SENDER = (
    select(Contact, Person)
    .join(Person, Person.id == Contact.person_id)
    .where(Contact.id == bindparam("contact_id"))
)


def dispatch(session: Session, message: Message) -> Context:
    """Handle one inbound message; effects and replies join the caller's transaction."""
    contact, person = session.execute(_SENDER, {"contact_id": message.contact_id}).one()
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
    offer_other_language(ctx)
    # A dialog we began while the person was busy (a reflection) starts once they are free.
    prompts.start_waiting(ctx)
    return ctx


def offer_other_language(ctx: Context) -> None:
    """Tell a new person, in their first reply, how to switch to the other language, in it."""
    if ctx.in_group or not ctx.replies or ctx.contact.opted_out_at is not None:
        return
    if ctx.person.created_at < ctx.now - NEW_PERSON_FOR:
        return
    if split_command(ctx.text)[0] in keywords.LANG_WORDS:
        return  # they are choosing one already
    offered = languages.offered_language(
        ctx.language, ctx.contact.channel, ctx.contact.address, ctx.text
    )
    if offered is None or not _first_message(ctx):
        return
    line = t("lang.switch_hint", offered)
    reply = ctx.replies[-1]
    body = f"{reply.body}\n{line}"
    if reply.channel == SMS:
        body = sms_body(body)
        if segments(body) > segments(reply.body):
            # A reply that grew a part would split mid-sentence; the line alone costs no more.
            ctx.send(line)
            return
    reply.body = body


def _first_message(ctx: Context) -> bool:
    """Whether nothing came from or went to this person before this message (one query)."""
    earlier = (
        select(Message.id)
        .join(Contact, Message.contact_id == Contact.id)
        .where(Contact.person_id == ctx.person.id, Message.id < ctx.message.id)
        .limit(1)
    )
    return ctx.session.exec(earlier).first() is None
