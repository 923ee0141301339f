"""Who is writing: contacts found or created from a channel address, and the CONTACT notation."""

from __future__ import annotations

import phonenumbers
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.channels.base import SMS, TELEGRAM, WHATSAPP
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
