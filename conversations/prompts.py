"""Dialogs the bot begins (a reflection, a survey): they wait until the person is in no other
dialog, start in bulk from tick, and are nudged once when left unanswered."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import bindparam, exists, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from bot import outbox, queue
from bot.context import Context
from bot.i18n import t
from conversations import engine
from models.conversation import ACTIVE, Conversation, PendingDialog
from models.people import Contact, Person

BATCH = 2000  # dialogs started per tick; more wait for the next one
INSERT_CHUNK = 2000  # rows of at most seven values per statement


def _insert(session: Session):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def defer(session: Session, rows: list[dict]) -> int:
    """Queue dialogs to begin (PendingDialog columns); a dedupe key already there is skipped,
    so a sweep running twice asks nobody twice. Returns how many are new."""
    inserted = 0
    # In chunks, to stay under PostgreSQL's 65,535 parameters however many there are.
    for start in range(0, len(rows), INSERT_CHUNK):
        inserted += len(
            session.execute(
                _insert(session)(PendingDialog)
                .values(rows[start : start + INSERT_CHUNK])
                .on_conflict_do_nothing(index_elements=["dedupe_key"])
                .returning(PendingDialog.id)
            ).all()
        )
    return inserted


def _busy(at: datetime):
    """The contact of a PendingDialog row is in a dialog that has not expired."""
    return exists().where(
        Conversation.contact_id == PendingDialog.contact_id,
        Conversation.status == ACTIVE,
        Conversation.expires_at > at,
    )


def _waiting(at: datetime):
    return (
        PendingDialog.started_at.is_(None),
        PendingDialog.expires_at > at,
        ~_busy(at),
    )


# Built once: it runs after every message a person sends.
_OLDEST_WAITING = (
    select(PendingDialog)
    .where(PendingDialog.contact_id == bindparam("contact_id"), *_waiting(bindparam("at")))
    .order_by(PendingDialog.id)
    .limit(1)
)


def start_waiting(ctx: Context) -> None:
    """After a message is handled: if the person is free now, begin the oldest dialog waiting."""
    if ctx.in_group or ctx.contact.opted_out_at is not None:
        return
    pending = ctx.session.scalars(
        _OLDEST_WAITING, {"contact_id": ctx.contact.id, "at": ctx.now}
    ).first()
    if pending is None or not _claim(ctx.session, [pending.id], ctx.now):
        return
    engine.start(ctx, pending.flow, pending.data)


def _claim(session: Session, ids: list[int], at: datetime) -> set[int]:
    return set(
        session.execute(
            update(PendingDialog)
            .where(PendingDialog.id.in_(ids), PendingDialog.started_at.is_(None))
            .values(started_at=at)
            .returning(PendingDialog.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )


def start_free(session: Session, at: datetime, queued: Counter) -> None:
    """Tick's sweep: begin the waiting dialogs of everyone not in another one, in a few
    statements however many there are."""
    rows = session.execute(
        select(PendingDialog.id, PendingDialog.contact_id, PendingDialog.flow,
               PendingDialog.data, Contact.channel, Person.language)
        .join(Contact, Contact.id == PendingDialog.contact_id)
        .join(Person, Person.id == Contact.person_id)
        .where(*_waiting(at), Contact.opted_out_at.is_(None))
        .order_by(PendingDialog.id)
        .limit(BATCH)
    ).all()  # fmt: skip
    first: dict[int, object] = {}
    for row in rows:  # one dialog per person at a time; the next waits for this one to end
        first.setdefault(row.contact_id, row)
    flows = engine.registry()
    starts = {}
    for contact_id, row in first.items():
        flow = flows.get(row.flow)
        step = engine.open_step(flow, flow.steps[0], dict(row.data)) if flow else None
        if step is not None:
            starts[contact_id] = (row, flow, step)
    # Claim the waiting rows first, as start_waiting does: the same order of locks, and a
    # tick beside this one gets none of them.
    claimed = _claim(session, [row.id for row, _, _ in starts.values()], at)
    starts = {contact_id: v for contact_id, v in starts.items() if v[0].id in claimed}
    if not starts:
        return
    # One active dialog per contact (a partial unique index): someone who began a dialog of
    # their own a moment ago keeps it, and their prompt waits again.
    began = dict(
        session.execute(
            _insert(session)(Conversation)
            .values([
                {"contact_id": contact_id, "flow": flow.name, "step": step.name,
                 "data": dict(row.data), "status": ACTIVE, "reasks": 0,
                 "expires_at": at + flow.lifetime, "created_at": at, "updated_at": at}
                for contact_id, (row, flow, step) in starts.items()
            ])
            .on_conflict_do_nothing(index_elements=["contact_id"],
                                    index_where=text("status = 'active'"))
            .returning(Conversation.contact_id, Conversation.id)
        ).all()
    )  # fmt: skip
    busy = [row.id for contact_id, (row, _, _) in starts.items() if contact_id not in began]
    if busy:
        session.execute(
            update(PendingDialog).where(PendingDialog.id.in_(busy)).values(started_at=None)
        )
    messages = []
    for contact_id, conversation_id in began.items():
        row, flow, step = starts[contact_id]
        messages.append({
            "channel": row.channel, "contact_id": contact_id, "purpose": flow.name,
            "body": engine.question(step, row.data, row.language),
            "buttons": engine.buttons_for(step, row.data, row.language, conversation_id),
            "dedupe_key": f"dialog:{row.id}",
        })  # fmt: skip
        queued[f"dialog:{flow.name}"] += 1
    outbox.queue_once(session, messages, queue_name=queue.LOW)


def nudge_idle(session: Session, at: datetime, queued: Counter) -> None:
    """Tick's sweep: once, remind whoever left a dialog we began unanswered, repeating the
    question; the dialog then lapses quietly when it expires."""
    for flow in engine.registry().values():
        if flow.nudge_after is None:
            continue
        nudged = session.execute(
            update(Conversation)
            .where(Conversation.status == ACTIVE, Conversation.flow == flow.name,
                   Conversation.nudged_at.is_(None), Conversation.expires_at > at,
                   Conversation.updated_at <= at - flow.nudge_after)
            .values(nudged_at=at)
            .returning(Conversation.id, Conversation.contact_id, Conversation.step,
                       Conversation.data)
            .execution_options(synchronize_session=False)
        ).all()  # fmt: skip
        if not nudged:
            continue
        contacts = {
            row.id: row
            for row in session.execute(
                select(Contact.id, Contact.channel, Person.language)
                .join(Person, Person.id == Contact.person_id)
                .where(Contact.id.in_([c.contact_id for c in nudged]),
                       Contact.opted_out_at.is_(None))
            ).all()
        }  # fmt: skip
        messages = []
        for conversation in nudged:
            contact = contacts.get(conversation.contact_id)
            if contact is None:
                continue
            step = flow.step(conversation.step)
            asked = engine.question(step, conversation.data, contact.language)
            messages.append({
                "channel": contact.channel, "contact_id": contact.id, "purpose": flow.name,
                "body": t(flow.nudge, contact.language) + "\n" + asked,
                "buttons": engine.buttons_for(step, conversation.data, contact.language,
                                              conversation.id),
                "dedupe_key": f"nudge:{conversation.id}",
            })  # fmt: skip
        outbox.queue_once(session, messages, queue_name=queue.LOW)
        queued[f"nudge:{flow.name}"] += len(messages)
