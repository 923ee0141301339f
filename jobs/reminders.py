"""The reminder sweep: claim due meetings and queue one reminder per learner contact."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import Session, select

from bot import buttons, outbox, queue
from bot.i18n import t
from bot.when import day_time, weekday_time
from jobs.meetings import claim_due, facilitator_rows
from models.circles import Meeting, Rsvp, Signup
from models.people import Contact, Person

REMINDER = "reminder"


def sweep(session: Session, at: datetime, queued: Counter) -> None:
    """Send every reminder that is due, once, to learners who have not stopped."""
    meetings = claim_due(
        session,
        Meeting.reminder_sent_at,
        at,
        Meeting.reminder_due_at <= at,
        Meeting.starts_at > at,
        order_by=Meeting.reminder_due_at,
    )
    if not meetings:
        return
    rows = _learner_reminders(session, meetings)
    rows += _facilitator_copies(session, meetings, learners=Counter(r["meeting_id"] for r in rows))
    outbox.queue_once(session, rows, queue_name=queue.LOW)
    queued[REMINDER] += sum(1 for row in rows if row["purpose"] == REMINDER)
    queued["reminder_copy"] += sum(1 for row in rows if row["purpose"] != REMINDER)


def reminder_text(meeting, language: str) -> str:
    """The reminder a learner gets: ours, or the facilitator's text under a line naming the
    circle, day, time and place; then how to RSVP."""
    rsvp = t("reminder.rsvp", language)
    if meeting.reminder_text:
        return framed(reminder_header(meeting, language), meeting.reminder_text, rsvp)
    body = t(
        "reminder.body",
        language,
        circle=meeting.name,
        when=day_time(meeting.starts_at, meeting.timezone, language),
        venue=meeting.venue,
    )
    return f"{body} {rsvp}"


def reminder_header(meeting, language: str) -> str:
    """The line above a facilitator's own text, so that it still says which meeting, where."""
    # The weekday without the date: the reminder comes within the week before, and the line
    # leaves room for a short text of the facilitator's in one SMS, in Swahili too.
    return t(
        "reminder.header",
        language,
        circle=meeting.name,
        when=weekday_time(meeting.starts_at, meeting.timezone, language),
        venue=meeting.venue,
    )


def framed(header: str, text: str, rsvp: str) -> str:
    """A facilitator's own text as learners get it: under its header line, then the RSVP line."""
    return f"{header}\n{text} {rsvp}"


def _learner_reminders(session: Session, meetings: dict) -> list[dict]:
    learners = session.execute(
        select(Signup.circle_id, Contact.id, Contact.channel, Person.language)
        .join(Contact, Contact.id == Signup.contact_id)
        .join(Person, Person.id == Signup.person_id)
        .where(
            Signup.circle_id.in_(list(meetings)),
            Signup.left_at.is_(None),
            Contact.opted_out_at.is_(None),
        )
    ).all()
    texts: dict[tuple[int, str], str] = {}
    answers: dict[str, dict] = {}  # Yes and No to tap, by language
    rows = []
    for circle_id, contact_id, channel, language in learners:
        meeting = meetings[circle_id]
        if (meeting.id, language) not in texts:
            texts[meeting.id, language] = reminder_text(meeting, language)
            answers.setdefault(language, buttons.yes_no(language))
        rows.append(
            {
                "channel": channel,
                "contact_id": contact_id,
                "meeting_id": meeting.id,
                "body": texts[meeting.id, language],
                "purpose": REMINDER,
                "buttons": answers[language],
                "dedupe_key": f"reminder:{meeting.id}:{contact_id}",
            }
        )
    return rows


def _facilitator_copies(session: Session, meetings: dict, learners: Counter) -> list[dict]:
    """Each facilitator's copy, with how many it reached and the RSVPs so far."""
    meeting_ids = [m.id for m in meetings.values()]
    counts = {
        meeting_id: (yes, no)
        for meeting_id, yes, no in session.execute(
            select(
                Rsvp.meeting_id,
                func.sum(case((Rsvp.attending, 1), else_=0)),
                func.sum(case((Rsvp.attending, 0), else_=1)),
            )
            .where(Rsvp.meeting_id.in_(meeting_ids))
            .group_by(Rsvp.meeting_id)
        ).all()
    }

    def copy(meeting, person) -> str:
        yes, no = counts.get(meeting.id, (0, 0))
        return t(
            "reminder.copy",
            person.language,
            count=learners[meeting.id],
            reminder=reminder_text(meeting, person.language),
            yes=yes,
            no=no,
        )

    return facilitator_rows(session, meetings, "reminder_copy", copy)
