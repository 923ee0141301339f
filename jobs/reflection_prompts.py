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
    rows = []
    for circle_id, person in pairs:
        meeting, contact = meetings[circle_id], contacts.get(person.id)
        if contact is None or (meeting.id, person.id) in answered:
            continue
        rows.append(
            {
                "contact_id": contact.id,
                "flow": reflect.FLOW.name,
                "data": reflect.prompt_data(meeting, counts.get(circle_id), person.language),
                "dedupe_key": reflect.key(meeting.id, person.id),
                "created_at": at,
                "expires_at": at + WAIT,
            }
        )
    queued["reflection"] += prompts.defer(session, rows)
