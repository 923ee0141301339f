"""Who is writing: contacts found or created from a channel address, and the CONTACT notation."""

from __future__ import annotations

from collections.abc import Mapping

import phonenumbers
from sqlalchemy import Table, UniqueConstraint, case, delete, exists, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, select

import models  # noqa: F401  every table: a merge moves each row that names a person
from bot.channels.base import SMS, TELEGRAM, WHATSAPP, whatsapp_user_id
from bot.clock import now
from bot.config import get_settings
from models.circles import Rsvp, Signup
from models.people import Contact, Person
from models.teams import ORGANIZER, TeamMember


def parse_handle(handle: str) -> tuple[str, str]:
    """Split `sms:+15550001` / `whatsapp:+1…` / `telegram:12345` into a checked (channel, address)."""
    channel, _, address = handle.strip().partition(":")
    channel = channel.lower()
    if channel == WHATSAPP and whatsapp_user_id(address.strip()):
        return channel, address.strip()
    if channel in (SMS, WHATSAPP):
        try:
            number = phonenumbers.parse(address, None)
        except phonenumbers.NumberParseException as error:
            raise ValueError(f"not a phone number in E.164 form: {address!r}") from error
        return channel, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if channel == TELEGRAM and address.lstrip("-").isdigit():
        return channel, address
    raise ValueError(
        "a contact is written sms:+15550001, whatsapp:+15550001, whatsapp:US.1234 or "
        f"telegram:12345, not {handle!r}"
    )


def find_contact(session: Session, channel: str, address: str) -> Contact | None:
    """The contact at this address, if we know it."""
    return session.exec(
        select(Contact).where(Contact.channel == channel, Contact.address == address)
    ).first()


def contact_for(
    session: Session, channel: str, address: str, *, language: str | None = None
) -> Contact:
    """Find the contact at this address, or create it with a new person."""
    contact = find_contact(session, channel, address)
    if contact is not None:
        return contact
    try:
        with session.begin_nested():
            person_id = session.execute(_same_number(channel, address)).scalar()
            if person_id is None:
                person = Person(language=language or get_settings().default_language)
                session.add(person)
                session.flush()
                person_id = person.id
            contact = Contact(person_id=person_id, channel=channel, address=address)
            session.add(contact)
            session.flush()
        return contact
    except IntegrityError:
        # Two first messages from the same address raced; the other one created it.
        return find_contact(session, channel, address)


def reachable_contacts(session: Session, person_ids: list[int]) -> dict[int, Contact]:
    """Each person's contact to write to: the one they last wrote from, not stopped; one query."""
    if not person_ids:
        return {}
    contacts = session.exec(
        select(Contact)
        .where(Contact.person_id.in_(person_ids), Contact.opted_out_at.is_(None))
        .order_by(Contact.person_id, Contact.last_inbound_at.desc().nulls_last(), Contact.id)
    ).all()
    chosen: dict[int, Contact] = {}
    for contact in contacts:
        chosen.setdefault(contact.person_id, contact)
    return chosen


def new_contact_id(connection: Connection, channel: str, address: str, language: str | None) -> int:
    """Create a person and their contact at this address (Core, for the webhook's hot path)."""
    language = language or get_settings().default_language
    # Only a new address pays for this look: a known one is found before we are called.
    person_id = connection.execute(_same_number(channel, address)).scalar()
    if person_id is not None:
        return _attach(connection, person_id, channel, address)
    person_id = connection.execute(
        insert(Person).values(language=language, created_at=now()).returning(Person.id)
    ).scalar_one()
    return _attach(connection, person_id, channel, address, new_person=True)


def _attach(
    connection: Connection, person_id: int, channel: str, address: str, *, new_person=False
) -> int:
    """Give the person this new address (Core), or find it if a racing message did."""
    upsert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    contact_id = connection.execute(
        upsert(Contact)
        .values(person_id=person_id, channel=channel, address=address)
        .on_conflict_do_nothing(index_elements=["channel", "address"])
        .returning(Contact.id)
    ).scalar()
    if contact_id is not None:
        return contact_id
    # Two first messages from the same address raced; the other one created it.
    if new_person:
        connection.execute(delete(Person).where(Person.id == person_id))
    return connection.execute(
        select(Contact.id).where(Contact.channel == channel, Contact.address == address)
    ).scalar_one()


def _same_number(channel: str, address: str):
    """The person already known at this number on the other phone channel: SMS and WhatsApp
    from one number are one person, with their roles, circles and language."""
    other = {SMS: WHATSAPP, WHATSAPP: SMS}.get(channel)
    if other is None or not address.startswith("+"):
        return select(Contact.person_id).where(False)
    return (
        select(Contact.person_id)
        .join(Person, Person.id == Contact.person_id)
        .where(
            Contact.channel == other,
            Contact.address == address,
            Person.anonymized_at.is_(None),
            # A made-up person of the console's simulator is nobody's other phone.
            Contact.simulator_team_id.is_(None),
        )
        .limit(1)
    )


# --- one person, several contacts ----------------------------------------------------------


def merge_people(session: Session, into: Mapping[int, int]) -> None:
    """Make each person in `into` (source id -> target id) one with their target: every row
    that names the source names the target, a duplicate keeps one row, and the source goes.
    A fixed number of statements, however many people: a target is no source, and has one."""
    into = {source: target for source, target in into.items() if source != target}
    if not into:
        return
    session.flush()  # what the ORM holds must be written before the tables change under it
    sources, targets = list(into), list(into.values())
    _keep_one_signup(session, into)
    _union_team_roles(session, into)
    # The target keeps their name and language; a nameless target takes the source's name.
    source = aliased(Person)
    session.execute(
        update(Person)
        .where(Person.id.in_(targets), Person.name.is_(None))
        .values(
            name=select(source.name)
            .where(source.id.in_(sources), _target(into, source.id) == Person.id)
            .scalar_subquery()
        )
        .execution_options(synchronize_session=False)
    )
    for table, column in _person_references():
        for others in _unique_with(table, column):
            if table.name != Signup.__tablename__:  # kept apart above, with its RSVPs
                _drop_duplicates(session, table, column, others, into)
        session.execute(
            update(table)
            .where(column.in_(sources))
            .values({column.key: _target(into, column)})
            .execution_options(synchronize_session=False)
        )
    session.execute(
        delete(Person).where(Person.id.in_(sources)).execution_options(synchronize_session=False)
    )
    session.expire_all()


def same_number_people(session: Session) -> dict[int, int]:
    """People who are one number on SMS and WhatsApp and yet two to us (they wrote from both
    before the two were joined): each later one, to the earlier one (one query)."""
    sms, whatsapp = aliased(Contact), aliased(Contact)
    sms_first = sms.person_id < whatsapp.person_id
    earlier = case((sms_first, sms.person_id), else_=whatsapp.person_id)
    later = case((sms_first, whatsapp.person_id), else_=sms.person_id)
    gone = select(Person.id).where(Person.anonymized_at.is_not(None))
    rows = session.execute(
        select(later, earlier)
        .join(whatsapp, (whatsapp.address == sms.address) & (whatsapp.channel == WHATSAPP))
        .where(
            sms.channel == SMS,
            sms.person_id != whatsapp.person_id,
            sms.person_id.not_in(gone),
            whatsapp.person_id.not_in(gone),
            sms.simulator_team_id.is_(None),
            whatsapp.simulator_team_id.is_(None),
        )
        .order_by(later)
    ).all()
    into: dict[int, int] = {}
    taken: set[int] = set()
    for source, target in rows:
        # One source to each target, and no target merged away in the same pass: the next
        # pass takes the rest (merge_same_numbers).
        if source in taken or target in taken:
            continue
        into[source] = target
        taken |= {source, target}
    return into


def merge_same_numbers(session: Session) -> int:
    """Merge every pair of people who share a number on SMS and WhatsApp; returns how many
    people went. Each pass is a fixed number of statements; a person with n numbers needs n."""
    merged = 0
    while into := same_number_people(session):
        merge_people(session, into)
        merged += len(into)
    return merged


def _target(into: Mapping[int, int], column):
    return case(dict(into), value=column)


def _person_references() -> list[tuple[Table, object]]:
    """Every column of every table that points at a person (read from the models)."""
    return [
        (table, key.parent)
        for table in SQLModel.metadata.sorted_tables
        for key in table.foreign_keys
        if key.column.table.name == Person.__tablename__
    ]


def _unique_with(table: Table, column) -> list[list]:
    """For each unique constraint on `column` and others, those other columns."""
    return [
        [other for other in constraint.columns if other is not column]
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint) and constraint.columns.contains_column(column)
    ]


def _drop_duplicates(session: Session, table: Table, column, others: list, into) -> None:
    """Delete a source's rows that the target has already (the same team, meeting, circle):
    the target's row stays."""
    theirs = table.alias()
    same = [theirs.c[other.key] == other for other in others]
    session.execute(
        delete(table)
        .where(
            column.in_(list(into)),
            exists().where(theirs.c[column.key] == _target(into, column), *same),
        )
        .execution_options(synchronize_session=False)
    )


def _union_team_roles(session: Session, into: Mapping[int, int]) -> None:
    """In a team both are in, the target is an organizer if either was (the wider role)."""
    source = aliased(TeamMember)
    session.execute(
        update(TeamMember)
        .where(
            TeamMember.person_id.in_(list(into.values())),
            exists().where(
                source.team_id == TeamMember.team_id,
                source.person_id.in_(list(into)),
                _target(into, source.person_id) == TeamMember.person_id,
                source.role == ORGANIZER,
            ),
        )
        .values(role=ORGANIZER)
        .execution_options(synchronize_session=False)
    )


def _keep_one_signup(session: Session, into: Mapping[int, int]) -> None:
    """Where both are in one circle, keep one signup: the active one (the target's when both
    or neither are), with the other's goal if it had none, and its RSVPs where it had none."""
    source, target = aliased(Signup), aliased(Signup)
    pairs = session.execute(
        select(source.id, source.left_at, source.goal, target.id, target.left_at, target.goal)
        .join(
            target,
            (target.circle_id == source.circle_id)
            & (target.person_id == _target(into, source.person_id)),
        )
        .where(source.person_id.in_(list(into)))
    ).all()
    if not pairs:
        return
    moved: dict[int, int] = {}  # dropped signup -> kept signup
    goals: dict[int, str] = {}
    for source_id, source_left, source_goal, target_id, target_left, target_goal in pairs:
        source_kept = source_left is None and target_left is not None
        kept, dropped = (source_id, target_id) if source_kept else (target_id, source_id)
        moved[dropped] = kept
        kept_goal, dropped_goal = (
            (source_goal, target_goal) if source_kept else (target_goal, source_goal)
        )
        if kept_goal is None and dropped_goal is not None:
            goals[kept] = dropped_goal
    dropped_ids = list(moved)
    theirs = aliased(Rsvp)
    kept_of = case(moved, value=Rsvp.signup_id)
    session.execute(
        delete(Rsvp)
        .where(
            Rsvp.signup_id.in_(dropped_ids),
            exists().where(theirs.meeting_id == Rsvp.meeting_id, theirs.signup_id == kept_of),
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Rsvp)
        .where(Rsvp.signup_id.in_(dropped_ids))
        .values(signup_id=kept_of)
        .execution_options(synchronize_session=False)
    )
    if goals:
        session.execute(
            update(Signup)
            .where(Signup.id.in_(list(goals)))
            .values(goal=case(goals, value=Signup.id))
            .execution_options(synchronize_session=False)
        )
    session.execute(
        delete(Signup)
        .where(Signup.id.in_(dropped_ids))
        .execution_options(synchronize_session=False)
    )
