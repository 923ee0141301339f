"""The connect dialog: a good code names whose this contact becomes; YES attaches it."""

from __future__ import annotations

from sqlalchemy import exists, update
from sqlmodel import select

from bot import outbox
from bot.context import Context
from bot.i18n import t
from bot.identity import merge_people
from conversations.engine import Done, Flow, Step, Stop
from conversations.parsers import confirmation
from models.people import CONNECT_CODE_LIFETIME, ConnectCode, Contact, Person


def confirm(data: dict, sure: bool):
    return Done() if sure else Stop("connect.kept")


def finish(ctx: Context, data: dict) -> None:
    """Use the code up, if it is still good and nobody used it first, and make this contact's
    person one with its owner; both contacts are told."""
    code = ctx.session.get(ConnectCode, data["code_id"])
    if code is not None and code.person_id == ctx.person.id:
        ctx.say("connect.already_yours", channel=t(f"channel.{ctx.contact.channel}", ctx.language))
        return
    # One statement decides: of two phones confirming one code, exactly one wins.
    asker_reached = exists().where(
        Contact.id == ConnectCode.contact_id, Contact.opted_out_at.is_(None)
    )
    owner_kept = exists().where(Person.id == ConnectCode.person_id, Person.anonymized_at.is_(None))
    claimed = ctx.session.execute(
        update(ConnectCode)
        .where(
            ConnectCode.id == data["code_id"],
            ConnectCode.used_at.is_(None),
            ConnectCode.expires_at > ctx.now,
            asker_reached,
            owner_kept,
        )
        .values(used_at=ctx.now, used_by_contact_id=ctx.contact.id)
        .returning(ConnectCode.person_id, ConnectCode.contact_id)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        used = ctx.session.exec(
            select(ConnectCode.used_at).where(ConnectCode.id == data["code_id"])
        ).first()
        ctx.say("connect.used" if used else "connect.lapsed")
        return
    owner_id, asker_id = claimed
    merge_people(ctx.session, {ctx.person.id: owner_id})
    # The person is now the code's owner: their language, their roles.
    ctx.person = ctx.session.get(Person, owner_id)
    ctx.forget_roles()
    here = t(f"channel.{ctx.contact.channel}", ctx.language)
    ctx.say("connect.done", channel=here)
    asker = ctx.session.get(Contact, asker_id)
    outbox.to_contact(ctx.session, asker, t("connect.told", ctx.language, channel=here))


FLOW = Flow(
    "connect",
    steps=[
        Step(
            "confirm",
            ask="connect.confirm",
            expect=confirmation(),
            ask_values=lambda data: {"channel": data["channel"], "who": data["who"]},
            then=confirm,
        )
    ],
    finish=finish,
    # No longer than the code lives: a late YES finds it lapsed anyway.
    expires=CONNECT_CODE_LIFETIME,
)
