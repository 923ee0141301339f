"""A facilitator's commands: TEAM <invite code>, MY circles, WHO is coming."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, select

from bot.channels.base import SMS, TELEGRAM
from bot.config import get_settings
from bot.context import Context
from bot.i18n import t
from bot.pages import split
from bot.when import day_time
from conversations import engine
from conversations.team_join import invited_team
from models.circles import SCHEDULED, Circle, Facilitation, Meeting, Rsvp, Signup
from models.feedback import Reflection
from models.people import Person
from models.teams import ORGANIZER, Team, TeamMember

SMS_PAGE_SEGMENTS = 2


def team(ctx: Context, rest: str) -> None:
    """TEAM <invite code>: become a facilitator of the team (asking the name if unknown)."""
    code = re.sub(r"[^A-Za-z0-9]", "", rest).upper()[:16]
    data = {"known_name": bool(ctx.person.name)}
    if code:
        found = invited_team(ctx, code)
        if found is None:
            ctx.say("team.unknown_code", code=code)
            return
        data |= {"team_id": found.id, "team": found.name}
    engine.start(ctx, "team_join", data)


def new_circle(ctx: Context, rest: str) -> None:
    """NEW: start the create-circle dialog in the team's timezone (asking which team if several)."""
    teams = ctx.session.exec(
        select(Team).join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.person_id == ctx.person.id).order_by(Team.name)
    ).all()  # fmt: skip
    settings = get_settings()
    if not teams and not settings.allow_teamless_facilitators:
        ctx.say("new.need_team")
        return
    data: dict = {"language": ctx.language}
    if len(teams) == 1:
        data |= {"team_id": teams[0].id, "timezone": teams[0].timezone}
    elif teams:
        options = [{"team_id": t_.id, "team": t_.name, "timezone": t_.timezone} for t_ in teams]
        lines = [f"{n}) {o['team']}" for n, o in enumerate(options, start=1)]
        data |= {"teams": options, "choices": "\n".join(lines)}
    else:
        data["timezone"] = settings.default_timezone
    engine.start(ctx, "create_circle", data)


def circles_of(session: Session, person_id: int, *, finished: bool = False) -> list[Circle]:
    """The circles a person may look after: those they facilitate and their teams' as organizer
    (with `finished`, those that have ended too: their reflections and reports go on)."""
    organizer_teams = select(TeamMember.team_id).where(
        TeamMember.person_id == person_id, TeamMember.role == ORGANIZER
    )
    facilitated = select(Facilitation.circle_id).where(Facilitation.person_id == person_id)
    return list(
        session.exec(
            select(Circle)
            .where(
                or_(Circle.id.in_(facilitated), Circle.team_id.in_(organizer_teams)),
                Circle.status.not_in(("cancelled",) if finished else ("finished", "cancelled")),
            )
            .order_by(Circle.first_date, Circle.id)
        ).all()
    )


def _next_starts(session: Session, circle_ids: list[int], at: datetime) -> dict[int, Meeting]:
    """Each circle's next scheduled meeting, in one query."""
    first = (
        select(Meeting.circle_id, func.min(Meeting.starts_at).label("starts_at"))
        .where(
            Meeting.circle_id.in_(circle_ids), Meeting.status == SCHEDULED, Meeting.starts_at > at
        )
        .group_by(Meeting.circle_id)
        .subquery()
    )
    meetings = session.exec(
        select(Meeting).join(
            first,
            (first.c.circle_id == Meeting.circle_id) & (first.c.starts_at == Meeting.starts_at),
        )
    ).all()
    return {meeting.circle_id: meeting for meeting in meetings}


def my_circles(ctx: Context, rest: str) -> None:
    """MY: the circles this person facilitates (or organizes), codes and next meetings."""
    circles = circles_of(ctx.session, ctx.person.id)
    if not circles:
        ctx.say("my.none")
        return
    ids = [circle.id for circle in circles]
    upcoming = _next_starts(ctx.session, ids, ctx.now)
    counts = dict(
        ctx.session.exec(
            select(Signup.circle_id, func.count())
            .where(Signup.circle_id.in_(ids), Signup.left_at.is_(None))
            .group_by(Signup.circle_id)
        ).all()
    )
    lines = []
    for circle in circles:
        meeting = upcoming.get(circle.id)
        when = (
            day_time(meeting.starts_at, circle.timezone, ctx.language)
            if meeting
            else t("my.no_meeting", ctx.language)
        )
        lines.append(
            t("my.line", ctx.language, circle=circle.name, code=circle.join_code, when=when,
              count=counts.get(circle.id, 0))
        )  # fmt: skip
    _send_pages(ctx, lines)


def who(ctx: Context, rest: str) -> None:
    """WHO: who said yes, no, or nothing for the next meeting (asking which circle if several)."""
    circles = circles_of(ctx.session, ctx.person.id)
    if not circles:
        ctx.say("auth.not_allowed")
        return
    if len(circles) == 1:
        show_who(ctx, circles[0].id)
        return
    lines = [f"{n}) {c.name} ({c.join_code})" for n, c in enumerate(circles, start=1)]
    options = [{"circle_id": c.id, "circle": f"{c.name} {c.join_code}"} for c in circles]
    engine.start(ctx, "who", {"options": options, "choices": "\n".join(lines)})


def show_who(ctx: Context, circle_id: int) -> None:
    """The roster of one circle for its next meeting, grouped by answer."""
    if circle_id not in {c.id for c in circles_of(ctx.session, ctx.person.id)}:
        ctx.say("auth.not_allowed")  # never show another circle's learners
        return
    circle = ctx.session.get(Circle, circle_id)
    meeting = _next_starts(ctx.session, [circle_id], ctx.now).get(circle_id)
    learners = ctx.session.exec(
        select(Person.name, Rsvp.attending)
        .join(Signup, Signup.person_id == Person.id)
        .outerjoin(
            Rsvp,
            (Rsvp.signup_id == Signup.id) & (Rsvp.meeting_id == (meeting.id if meeting else -1)),
        )
        .where(Signup.circle_id == circle_id, Signup.left_at.is_(None))
        .order_by(Person.name.asc().nulls_last(), Signup.id)
    ).all()
    unnamed = t("learner.unnamed", ctx.language)
    groups: dict[object, list[str]] = {True: [], False: [], None: []}
    for name, attending in learners:
        groups[attending].append(name or unnamed)
    when = day_time(meeting.starts_at, circle.timezone, ctx.language) if meeting else "-"
    lines = [
        t("who.header", ctx.language, circle=circle.name, when=when, yes=len(groups[True]),
          no=len(groups[False]), silent=len(groups[None]))
    ]  # fmt: skip
    for key, attending in (("who.yes", True), ("who.no", False), ("who.silent", None)):
        if groups[attending]:
            lines.append(t(key, ctx.language, names=", ".join(groups[attending])))
    if not learners:
        lines.append(t("who.empty", ctx.language))
    _send_pages(ctx, lines)


def _send_pages(ctx: Context, lines: list[str]) -> None:
    """Send the lines as few messages as fit: two segments each on SMS."""
    for page in split(lines, ctx.contact.channel, sms_segments=SMS_PAGE_SEGMENTS):
        ctx.send(page)


def message_learners(ctx: Context, rest: str) -> None:
    """MSG <text>: an announcement to a circle's learners, after a confirmation."""
    from conversations.announce import counted
    from conversations.engine import Stop

    circles = circles_of(ctx.session, ctx.person.id)
    if not circles:
        ctx.say("auth.not_allowed")
        return
    options = [{"circle_id": c.id, "circle": c.name} for c in circles]
    lines = [f"{n}) {c.name} ({c.join_code})" for n, c in enumerate(circles, start=1)]
    data: dict = {"options": options, "choices": "\n".join(lines)}
    text = rest.strip()[:600]
    if len(circles) == 1 and text:
        transition = counted(ctx, options[0], text)
        if isinstance(transition, Stop):  # nobody to reach: say so, start nothing
            ctx.say(transition.say, **transition.values)
            return
        data |= transition.data
    elif len(circles) == 1:
        data |= options[0]
    elif text:
        data["text"] = text
    engine.start(ctx, "announce", data)


def pending_reminders(ctx: Context) -> list[tuple[Circle, Meeting]]:
    """For each circle the person looks after, the next meeting whose reminder is still to go."""
    circles = {c.id: c for c in circles_of(ctx.session, ctx.person.id)}
    if not circles:
        return []
    first = (
        select(Meeting.circle_id, func.min(Meeting.starts_at).label("starts_at"))
        .where(
            Meeting.circle_id.in_(list(circles)),
            Meeting.status == SCHEDULED,
            Meeting.starts_at > ctx.now,
            Meeting.reminder_sent_at.is_(None),
        )
        .group_by(Meeting.circle_id)
        .subquery()
    )
    meetings = ctx.session.exec(
        select(Meeting)
        .join(first, (first.c.circle_id == Meeting.circle_id)
              & (first.c.starts_at == Meeting.starts_at))
        .order_by(Meeting.starts_at)
    ).all()  # fmt: skip
    return [(circles[m.circle_id], m) for m in meetings]


def reminder_preview(ctx: Context, rest: str) -> None:
    """REMINDER: the next reminder's text and when it goes out."""
    from jobs.reminders import reminder_text

    pending = pending_reminders(ctx)
    if not pending:
        ctx.say("edit.nothing")
        return
    lines = []
    for circle, meeting in pending:
        lines.append(
            t("edit.preview", ctx.language, circle=circle.name,
              when=day_time(meeting.reminder_due_at, circle.timezone, ctx.language),
              text=reminder_text(_reminder_row(circle, meeting), ctx.language))
        )  # fmt: skip
    _send_pages(ctx, lines)


def edit_reminder(ctx: Context, rest: str) -> None:
    """EDIT: write the text of the next reminder (asking which circle if several)."""
    from jobs.reminders import reminder_header

    pending = pending_reminders(ctx)
    if not pending:
        ctx.say("edit.nothing")
        return
    options = [
        {
            "meeting_id": m.id,
            "circle": f"{c.name} {day_time(m.starts_at, c.timezone, ctx.language)}",
            "header": reminder_header(_reminder_row(c, m), ctx.language),
        }
        for c, m in pending
    ]
    data = _choosing(ctx, options) | {"rsvp_line": t("reminder.rsvp", ctx.language)}
    if len(options) == 1:
        data |= options[0]
    engine.start(ctx, "edit_reminder", data)


def _choosing(ctx: Context, options: list[dict]) -> dict:
    """A dialog's data to choose a meeting from `options`: by SMS, a page at a time."""
    return {"options": options, "language": ctx.language, "paged": ctx.contact.channel == SMS}


def _reminder_row(circle: Circle, meeting: Meeting):
    """What reminder_text reads: the meeting with its circle's name, venue and timezone."""
    from types import SimpleNamespace

    return SimpleNamespace(name=circle.name, venue=circle.venue, timezone=circle.timezone,
                           starts_at=meeting.starts_at, reminder_text=meeting.reminder_text)  # fmt: skip


def _meeting_choice(ctx: Context, flow: str) -> None:
    """Start MOVE or CANCEL MEETING with the upcoming meetings of one's circles to choose from."""
    from conversations.reschedule import chosen

    circles = {c.id: c for c in circles_of(ctx.session, ctx.person.id)}
    meetings = ctx.session.exec(
        select(Meeting)
        .where(Meeting.circle_id.in_(list(circles)), Meeting.status == SCHEDULED,
               Meeting.starts_at > ctx.now)
        .order_by(Meeting.starts_at, Meeting.id)
    ).all() if circles else []  # fmt: skip
    if not meetings:
        ctx.say("move.nothing")
        return
    options = []
    for meeting in meetings:
        circle = circles[meeting.circle_id]
        label = f"{circle.name}, {day_time(meeting.starts_at, circle.timezone, ctx.language)}"
        options.append({"meeting_id": meeting.id, "label": label, "timezone": circle.timezone})
    data = _choosing(ctx, options)
    if len(options) == 1:
        data |= chosen(ctx, options[0])
    engine.start(ctx, flow, data)


def move_meeting(ctx: Context, rest: str) -> None:
    """MOVE: give one meeting a new date and time."""
    _meeting_choice(ctx, "move_meeting")


def cancel_meeting(ctx: Context, rest: str) -> None:
    """CANCEL MEETING: call one meeting off (CANCEL alone is a carrier STOP word)."""
    _meeting_choice(ctx, "cancel_meeting")


def reflect(ctx: Context, rest: str) -> None:
    """REFLECT: the reflection dialog for one's most recent meeting that has none from them."""
    from conversations.reflect import prompt_data, recapped
    from jobs.meetings import FIELDS
    from jobs.rsvp_summary import rsvp_counts

    circles = [c.id for c in circles_of(ctx.session, ctx.person.id, finished=True)]
    reflected = select(Reflection.meeting_id).where(Reflection.person_id == ctx.person.id)
    meeting = ctx.session.execute(
        select(*FIELDS)
        .join(Circle, Circle.id == Meeting.circle_id)
        .where(Meeting.circle_id.in_(circles), Meeting.status == SCHEDULED,
               Meeting.ends_at <= ctx.now, Meeting.id.not_in(reflected))
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    ).first() if circles else None  # fmt: skip
    if meeting is None:
        # None to reflect on, because every one has a reflection or because none has ended yet.
        ended = select(Meeting.id).where(
            Meeting.circle_id.in_(circles), Meeting.status == SCHEDULED, Meeting.ends_at <= ctx.now
        )
        met = bool(circles) and ctx.session.exec(ended.limit(1)).first() is not None
        ctx.say("reflect.nothing" if met else "reflect.none_yet")
        return
    counts = rsvp_counts(ctx.session, {meeting.circle_id: meeting})
    data = prompt_data(meeting, counts.get(meeting.circle_id), ctx.language)
    engine.start(ctx, "reflect", data | {"recapped": bool(recapped(ctx.session, [meeting.id]))})


def report(ctx: Context, rest: str) -> None:
    """REPORT: a circle's report as it stands (asking which circle if several)."""
    circles = [c for c in circles_of(ctx.session, ctx.person.id, finished=True)
               if c.first_date <= ctx.now.date()]  # fmt: skip
    if not circles:
        ctx.say("report.none")
        return
    if len(circles) == 1:
        show_report(ctx, circles[0].id)
        return
    circles.sort(key=lambda c: c.first_date, reverse=True)  # the latest first
    lines = [f"{n}) {c.name} ({c.join_code})" for n, c in enumerate(circles, start=1)]
    options = [{"circle_id": c.id, "circle": f"{c.name} {c.join_code}"} for c in circles]
    engine.start(ctx, "report", {"options": options, "choices": "\n".join(lines)})


def show_report(ctx: Context, circle_id: int) -> None:
    """One circle's report, whole, paged for the channel, its chart first on Telegram."""
    from handlers import circle_report

    allowed = {c.id for c in circles_of(ctx.session, ctx.person.id, finished=True)}
    if circle_id not in allowed:
        ctx.say("auth.not_allowed")
        return
    found = circle_report.gather(ctx.session, [circle_id], ctx.now)[circle_id]
    spec = circle_report.chart(found, ctx.language) if ctx.contact.channel == TELEGRAM else None
    pages = split(circle_report.full(found, ctx.language), ctx.contact.channel)
    for number, page in enumerate(pages):
        ctx.send(page, media=[{"chart": spec}] if spec and number == 0 else None)
