"""After each meeting, its facilitators are asked how it went: the reflection dialog."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.identity import reachable_contacts
from conversations import prompts, reflect
from handlers.notify import facilitators
from jobs.meetings import claim_due
from jobs.rsvp_summary import rsvp_counts
from models.circles import SIGNUP_OPEN, Meeting
from models.conversation import ACTIVE, Conversation
from models.feedback import Reflection

PROMPT_AFTER = timedelta(minutes=15)  # time to say goodbye and pack up first
# A meeting that ended longer ago than this when tick first sees it (the bot was down) is
# not prompted for; REFLECT still reaches it.
LATEST = timedelta(days=1)
# A prompt waiting behind another dialog is dropped after this: by then it is stale.
WAIT = timedelta(days=2)
# The last meeting of a circle is reflected on too, after the circle has finished.
CIRCLES = (*SIGNUP_OPEN, "finished")


def sweep(session: Session, at: datetime, queued: Counter) -> None:
    """Claim meetings that ended PROMPT_AFTER ago and queue each facilitator's reflection."""
    meetings = claim_due(
        session,
        Meeting.prompted_at,
        at,
        Meeting.ends_at <= at - PROMPT_AFTER,
        Meeting.ends_at > at - LATEST,
        order_by=Meeting.ends_at,
        circles=CIRCLES,
    )
    if not meetings:
        return
    counts = rsvp_counts(session, meetings)
    pairs = facilitators(session, list(meetings))
    contacts = reachable_contacts(session, list({person.id for _, person in pairs}))
    # Someone who used REFLECT before the prompt has already answered it.
    answered = set(
        session.execute(
            select(Reflection.meeting_id, Reflection.person_id).where(
                Reflection.meeting_id.in_([m.id for m in meetings.values()])
            )
        ).all()
    )
    # Someone answering REFLECT about this very meeting right now is not asked again after.
    reflecting = {
        (row.data.get("meeting_id"), row.contact_id)
        for row in session.execute(
            select(Conversation.contact_id, Conversation.data).where(
                Conversation.status == ACTIVE,
                Conversation.flow == reflect.FLOW.name,
                Conversation.expires_at > at,
                Conversation.contact_id.in_([c.id for c in contacts.values()]),
            )
        ).all()
    }
    recapped = reflect.recapped(session, [m.id for m in meetings.values()])
    rows = []
    for circle_id, person in pairs:
        meeting, contact = meetings[circle_id], contacts.get(person.id)
        if contact is None or (meeting.id, person.id) in answered:
            continue
        if (meeting.id, contact.id) in reflecting:
            continue
        data = reflect.prompt_data(meeting, counts.get(circle_id), person.language)
        rows.append(
            {
                "contact_id": contact.id,
                "flow": reflect.FLOW.name,
                "data": data | {"recapped": meeting.id in recapped},
                "dedupe_key": reflect.key(meeting.id, person.id),
                "created_at": at,
                "expires_at": at + WAIT,
            }
        )
    queued["reflection"] += prompts.defer(session, rows)
