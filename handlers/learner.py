"""A learner's replies: YES/NO to a reminder (an RSVP), NEXT, and LEAVE."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from bot import buttons
from bot.context import Context
from bot.i18n import t
from bot.when import day_time
from conversations import engine
from conversations.parsers import parse_yes_no
from handlers.words import whole
from models.circles import SCHEDULED, SIGNUP_OPEN, Circle, Meeting, Rsvp, Signup
from models.message import OUT, Message
from models.people import Contact

# A reminder this recent still tells which meeting a bare YES or NO is about.
REMINDER_CONTEXT = timedelta(days=7)
# Without a reminder to answer, only a plain yes or no is an RSVP: "ok thanks" is not.
PLAIN_ANSWERS = frozenset({"YES", "Y", "NO", "N", "NDIYO", "NDIO", "HAPANA"})
# The messages that ask "are you coming?" about their meeting: a reminder, and a reply (NEXT's)
# that carries a meeting because it asked about that one.
ASKING = ("reminder", "reply")


@dataclass(frozen=True)
class Upcoming:
    """A meeting a learner can answer for, with what they need to see about it."""

    meeting_id: int
    signup_id: int
    circle: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    timezone: str

    def when(self, language: str) -> str:
        return day_time(self.starts_at, self.timezone, language)

    def as_data(self) -> dict:
        values = asdict(self)
        return values | {
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
        }

    @classmethod
    def from_data(cls, data: dict) -> Upcoming:
        instants = {key: datetime.fromisoformat(data[key]) for key in ("starts_at", "ends_at")}
        return cls(**(data | instants))


def _upcoming_query(person_id: int):
    """A person's scheduled meetings in circles they are in and that still run."""
    return (
        select(
            Meeting.id,
            Signup.id,
            Circle.name,
            Circle.venue,
            Meeting.starts_at,
            Meeting.ends_at,
            Circle.timezone,
        )
        .join(Circle, Circle.id == Meeting.circle_id)
        .join(Signup, Signup.circle_id == Circle.id)
        .where(
            Signup.person_id == person_id,
            Signup.left_at.is_(None),
            Meeting.status == SCHEDULED,
            Circle.status.in_(SIGNUP_OPEN),
        )
    )


def next_meetings(session: Session, person_id: int, at: datetime) -> list[Upcoming]:
    """The next scheduled meeting of each circle the person is in, soonest first."""
    first = (
        select(Meeting.circle_id, func.min(Meeting.starts_at).label("starts_at"))
        .where(Meeting.status == SCHEDULED, Meeting.starts_at > at)
        .group_by(Meeting.circle_id)
        .subquery()
    )
    is_first = (first.c.circle_id == Meeting.circle_id) & (first.c.starts_at == Meeting.starts_at)
    rows = session.execute(
        _upcoming_query(person_id).join(first, is_first).order_by(Meeting.starts_at)
    ).all()
    return [Upcoming(*row) for row in rows]


def reminded_meetings(session: Session, ctx: Context) -> list[Upcoming]:
    """Meetings this person was lately asked to answer for (by a reminder, or NEXT's reply),
    newest question first, one per signup: on any of their contacts, as a reminder by SMS may
    be answered on WhatsApp."""
    theirs = select(Contact.id).where(Contact.person_id == ctx.person.id)
    rows = session.execute(
        _upcoming_query(ctx.person.id)
        .join(Message, Message.meeting_id == Meeting.id)
        .where(
            Message.contact_id.in_(theirs),
            Message.direction == OUT,
            Message.purpose.in_(ASKING),
            Message.created_at >= ctx.now - REMINDER_CONTEXT,
        )
        .order_by(Message.id.desc())
    ).all()
    seen, meetings = set(), []
    for row in rows:
        upcoming = Upcoming(*row)
        if upcoming.signup_id not in seen:
            seen.add(upcoming.signup_id)
            meetings.append(upcoming)
    return meetings


def rsvp_route(ctx: Context) -> bool:
    """A YES or NO from a learner is an RSVP: for the meeting just reminded of, or the next."""
    attending = parse_yes_no(ctx.text)
    if attending is None:
        return False
    reminded = reminded_meetings(ctx.session, ctx)
    if not reminded and not _plain(ctx.text):
        return False
    open_ones = [m for m in reminded if m.starts_at > ctx.now]
    running = [m for m in reminded if m.starts_at <= ctx.now < m.ends_at]
    if open_ones:
        candidates = open_ones
    elif running:
        ctx.say("rsvp.too_late", circle=running[0].circle)
        return True
    else:
        candidates = next_meetings(ctx.session, ctx.person.id, ctx.now)
        if not candidates and not ctx.roles.learner:
            return False
    if not candidates:
        ctx.say("rsvp.no_meeting")
    elif len(candidates) == 1:
        record_rsvp(ctx, candidates[0], attending)
    else:
        engine.start(ctx, "rsvp", {"attending": attending, **choices(ctx, candidates)})
    return True


def rsvp_before_dialog_route(ctx: Context) -> bool:
    """A YES or NO that answers a reminder sent after a dialog's last question is an RSVP;
    the dialog keeps waiting for its own answer."""
    conversation = engine.active(ctx.session, ctx.contact.id, ctx.now)
    if conversation is None or parse_yes_no(ctx.text) is None:
        return False
    newer = ctx.session.exec(
        select(Message.id).where(
            Message.contact_id == ctx.contact.id,
            Message.direction == OUT,
            Message.purpose == "reminder",
            Message.created_at > conversation.updated_at,
        )
    ).first()
    if newer is None or not rsvp_route(ctx):
        return False
    # The next reply belongs to the dialog again.
    conversation.updated_at = ctx.now
    ctx.session.add(conversation)
    return True


def _plain(text: str) -> bool:
    first = text.strip().split(maxsplit=1)
    return bool(first) and (whole(text) in PLAIN_ANSWERS or whole(first[0]) in PLAIN_ANSWERS)


def choices(ctx: Context, meetings: list[Upcoming]) -> dict:
    """Numbered choices for a dialog, kept in its data."""
    lines = [f"{n}) {m.circle}, {m.when(ctx.language)}" for n, m in enumerate(meetings, start=1)]
    return {"options": [m.as_data() for m in meetings], "choices": "\n".join(lines)}


def record_rsvp(ctx: Context, meeting: Upcoming, attending: bool) -> None:
    """Store (or change) the answer until the meeting starts, and acknowledge it."""
    if meeting.starts_at <= ctx.now:
        ctx.say("rsvp.too_late", circle=meeting.circle)
        return
    found = select(Rsvp).where(
        Rsvp.meeting_id == meeting.meeting_id, Rsvp.signup_id == meeting.signup_id
    )
    rsvp = ctx.session.exec(found).first() or Rsvp(
        meeting_id=meeting.meeting_id, signup_id=meeting.signup_id, attending=attending
    )
    rsvp.attending, rsvp.answered_at = attending, ctx.now
    ctx.session.add(rsvp)
    if attending:
        ctx.say("rsvp.yes", circle=meeting.circle, when=meeting.when(ctx.language))
    else:
        ctx.say("rsvp.no", circle=meeting.circle)


def next_meeting(ctx: Context, rest: str) -> None:
    """NEXT: when and where each of the learner's circles meets next, and their answer."""
    meetings = next_meetings(ctx.session, ctx.person.id, ctx.now)
    if not meetings:
        ctx.say("next.none")
        return
    answers = dict(
        ctx.session.execute(
            select(Rsvp.meeting_id, Rsvp.attending).where(
                Rsvp.meeting_id.in_([m.meeting_id for m in meetings]),
                Rsvp.signup_id.in_([m.signup_id for m in meetings]),
            )
        ).all()
    )
    lines, asked = [], []
    for meeting in meetings:
        said = answers.get(meeting.meeting_id)
        if said is None:
            asked.append(meeting.meeting_id)
        answer = "next.no_answer" if said is None else "next.said_yes" if said else "next.said_no"
        values = {"circle": meeting.circle, "venue": meeting.venue,
                  "when": meeting.when(ctx.language), "answer": t(answer, ctx.language)}  # fmt: skip
        lines.append(t("next.line", ctx.language, **values))
    reply = ctx.send("\n".join(lines))
    if len(asked) == 1:
        # It asked "Reply YES or NO" about one meeting: an answer, even 👍 or "sawa", is for it,
        # as it would be after that meeting's reminder.
        reply.meeting_id, reply.buttons = asked[0], buttons.yes_no(ctx.language)
        ctx.session.add(reply)


def leave(ctx: Context, rest: str) -> None:
    """LEAVE: confirm, asking which circle first when there are several."""
    signups = ctx.session.execute(
        select(Signup.id, Circle.name)
        .join(Circle, Circle.id == Signup.circle_id)
        .where(Signup.person_id == ctx.person.id, Signup.left_at.is_(None))
        .order_by(Signup.joined_at)
    ).all()
    if not signups:
        ctx.say("leave.none")
        return
    options = [{"signup_id": signup_id, "circle": name} for signup_id, name in signups]
    lines = [f"{n}) {option['circle']}" for n, option in enumerate(options, start=1)]
    data = {"options": options, "choices": "\n".join(lines)}
    if len(options) == 1:
        data |= options[0]
    engine.start(ctx, "leave", data)
