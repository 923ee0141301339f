"""Telling a circle's facilitators what happened: a new learner, a learner who left."""

from __future__ import annotations

from sqlmodel import Session, select

from bot import outbox, queue
from bot.i18n import t
from bot.identity import reachable_contacts
from models.circles import Facilitation
from models.people import Person


def facilitators(session: Session, circle_ids: list[int]) -> list[tuple[int, Person]]:
    """(circle id, facilitator) pairs for the circles, in one query."""
    if not circle_ids:
        return []
    rows = session.exec(
        select(Facilitation.circle_id, Person)
        .join(Person, Person.id == Facilitation.person_id)
        .where(Facilitation.circle_id.in_(circle_ids))
        .order_by(Facilitation.circle_id, Person.id)
    ).all()
    return list(rows)


def tell_facilitators(session: Session, circle_id: int, key: str, **values: object) -> None:
    """Send each facilitator of the circle the text `key`, in their own language (a learner
    we have no name for is "a learner" in that language too)."""
    people = [person for _, person in facilitators(session, [circle_id])]
    contacts = reachable_contacts(session, [person.id for person in people])
    for person in people:
        contact = contacts.get(person.id)
        if contact is not None:
            name = values.get("name") or t("learner.unnamed", person.language)
            body = t(key, person.language, **(values | {"name": name}))
            outbox.to_contact(session, contact, body, purpose="notice", queue_name=queue.LOW)
