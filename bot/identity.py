"""Who is writing: contacts found or created from a channel address, and the CONTACT notation."""

from __future__ import annotations

import phonenumbers
from sqlalchemy import delete, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.channels.base import SMS, TELEGRAM, WHATSAPP
from bot.clock import now
from bot.config import get_settings
from models.people import Contact, Person


def parse_handle(handle: str) -> tuple[str, str]:
    """Split `sms:+15550001` / `whatsapp:+1…` / `telegram:12345` into a checked (channel, address)."""
    channel, _, address = handle.strip().partition(":")
    channel = channel.lower()
    if channel in (SMS, WHATSAPP):
        try:
            number = phonenumbers.parse(address, None)
        except phonenumbers.NumberParseException as error:
            raise ValueError(f"not a phone number in E.164 form: {address!r}") from error
        return channel, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if channel == TELEGRAM and address.lstrip("-").isdigit():
        return channel, address
    raise ValueError(
        f"a contact is written sms:+15550001, whatsapp:+15550001 or telegram:12345, not {handle!r}"
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
            person = Person(language=language or get_settings().default_language)
            session.add(person)
            session.flush()
            contact = Contact(person_id=person.id, channel=channel, address=address)
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
    person_id = connection.execute(
        insert(Person).values(language=language, created_at=now()).returning(Person.id)
    ).scalar_one()
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
    connection.execute(delete(Person).where(Person.id == person_id))
    return connection.execute(
        select(Contact.id).where(Contact.channel == channel, Contact.address == address)
    ).scalar_one()
