"""The console's teams and circles, read only: what each team runs, who comes, and its latest
digest as it went, in a fixed number of queries however many teams and circles there are."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import render_template
from sqlalchemy import String, case, cast, func, literal, or_, true, union_all
from sqlmodel import Session, select
from werkzeug.exceptions import NotFound

from bot.clock import now
from bot.db import session_scope
from bot.when import day_time
from console import console
from console.auth import not_found_page, require_team, signed_in, visible_team_ids
from console.text import language
from models.circles import (
    CIRCLE_STATUSES,
    SCHEDULED,
    SIGNUP_OPEN,
    Circle,
    Facilitation,
    Meeting,
    Rsvp,
    Signup,
    first_local,
    learner_counts,
)
from models.feedback import LEARNER, Reflection, SurveyResponse
from models.message import OUT, Message
from models.people import Contact, Person
from models.teams import ORGANIZER, GroupChat, Team, TeamMember

DIGEST = "digest"  # the purpose jobs/digest.py gives the weekly digest's pages
CANCELLED = "cancelled"


def _among(column, ids: list[int] | None):
    """SQL: the rows of these teams; every row when `ids` is None (an all-teams operator)."""
    return true() if ids is None else column.in_(ids)


def _when(instant: datetime | None, timezone: str) -> str | None:
    return day_time(instant, timezone, language()) if instant else None


def digest_pages(ids: list[int] | None):
    """SQL: the weekly digests' pages of these teams (team_id, message_id, dedupe_key,
    created_at), found where a digest goes: the team's groups and its organizers' chats."""
    sent = (Message.purpose == DIGEST) & (Message.direction == OUT)
    to_groups = (
        select(GroupChat.team_id.label("team_id"), Message.id.label("message_id"),
               Message.dedupe_key, Message.created_at)
        .join(Message, Message.group_chat_id == GroupChat.id)
        .where(GroupChat.team_id.is_not(None), _among(GroupChat.team_id, ids), sent)
    )  # fmt: skip
    to_organizers = (
        select(TeamMember.team_id, Message.id, Message.dedupe_key, Message.created_at)
        .join(Contact, Contact.person_id == TeamMember.person_id)
        .join(Message, Message.contact_id == Contact.id)
        .where(TeamMember.role == ORGANIZER, _among(TeamMember.team_id, ids), sent)
    )
    pages = union_all(to_groups, to_organizers).subquery()
    # An organizer of two teams gets both digests: each page's key names its team,
    # "digest:<team>:<week>:<where>:<page>" (jobs/digest.py).
    own = pages.c.dedupe_key.startswith(
        literal(f"{DIGEST}:") + cast(pages.c.team_id, String) + literal(":")
    )
    return select(pages).where(own).subquery()


@console.get("/teams")
@signed_in
def teams():
    """Every team the operator sees: its circles by status, learners, next meeting, organizers
    and when its latest digest went; one query for the teams, one for their organizers."""
    at = now()
    with session_scope() as db:
        ids = visible_team_ids(db)
        shown = _team_rows(db, ids, at)
        organizers: dict[int, list[str | None]] = {}
        for team_id, name in db.exec(
            select(TeamMember.team_id, Person.name)
            .join(Person, Person.id == TeamMember.person_id)
            .where(TeamMember.role == ORGANIZER, _among(TeamMember.team_id, ids))
            .order_by(Person.name, Person.id)
        ):
            organizers.setdefault(team_id, []).append(name)
        # Circles of no team (facilitators without one, where the deployment allows it) are
        # for the operators of all teams alone.
        teamless = _teamless(db) if ids is None else []
        rows = [
            {"team": row.Team,
             "circles": {s: getattr(row, s) for s in CIRCLE_STATUSES if getattr(row, s)},
             "learners": row.learners, "organizers": organizers.get(row.Team.id, []),
             "next": _when(row.next, row.Team.timezone),
             "digest": _when(row.digest, row.Team.timezone)}
            for row in shown
        ]  # fmt: skip
        return render_template("console/teams.html", active="teams", rows=rows,
                               teamless=teamless)  # fmt: skip


def _team_rows(db: Session, ids: list[int] | None, at: datetime) -> list:
    """The teams with their circles per status, learners, next meeting and latest digest."""
    by_status = (
        select(Circle.team_id,
               *(func.sum(case((Circle.status == s, 1), else_=0)).label(s)
                 for s in CIRCLE_STATUSES))
        .where(_among(Circle.team_id, ids))
        .group_by(Circle.team_id)
        .subquery()
    )  # fmt: skip
    learners = (
        select(Circle.team_id, func.count(Signup.id).label("learners"))
        .join(Signup, Signup.circle_id == Circle.id)
        .where(_among(Circle.team_id, ids), Circle.status.in_(SIGNUP_OPEN),
               Signup.left_at.is_(None))
        .group_by(Circle.team_id)
        .subquery()
    )  # fmt: skip
    coming = (
        select(Circle.team_id, func.min(Meeting.starts_at).label("next"))
        .join(Meeting, Meeting.circle_id == Circle.id)
        .where(_among(Circle.team_id, ids), Circle.status != CANCELLED,
               Meeting.status == SCHEDULED, Meeting.starts_at > at)
        .group_by(Circle.team_id)
        .subquery()
    )  # fmt: skip
    pages = digest_pages(ids)
    digested = (
        select(pages.c.team_id, func.max(pages.c.created_at).label("digest"))
        .group_by(pages.c.team_id)
        .subquery()
    )
    return list(
        db.exec(
            select(Team, *(func.coalesce(by_status.c[s], 0).label(s) for s in CIRCLE_STATUSES),
                   func.coalesce(learners.c.learners, 0).label("learners"), coming.c.next,
                   digested.c.digest)
            .outerjoin(by_status, by_status.c.team_id == Team.id)
            .outerjoin(learners, learners.c.team_id == Team.id)
            .outerjoin(coming, coming.c.team_id == Team.id)
            .outerjoin(digested, digested.c.team_id == Team.id)
            .where(_among(Team.id, ids))
            .order_by(Team.name, Team.id)
        ).all()
    )  # fmt: skip


def _teamless(db: Session) -> list[Circle]:
    return list(db.exec(select(Circle).where(Circle.team_id.is_(None)).order_by(Circle.name)).all())


@console.get("/teams/<int:team_id>")
@signed_in
def team(team_id: int):
    """One team: its people and group chats, its circles with the RSVPs of their next (or last)
    meeting and their reflections, and its latest digest exactly as it was sent."""
    at = now()
    with session_scope() as db:
        try:
            shown = require_team(db, team_id)
        except NotFound:
            return not_found_page()
        circles = _circle_rows(db, team_id, at)
        return render_template(
            "console/team.html", active="teams", team=shown, people=_people(db, team_id),
            groups=_groups(db, team_id), circles=circles, digest=_latest_digest(db, shown),
        )  # fmt: skip


def _people(db: Session, team_id: int) -> list[dict]:
    """Organizers, then facilitators, each with the channels they can be reached on."""
    people: dict[int, dict] = {}
    for member, person, contact in db.exec(
        select(TeamMember, Person, Contact)
        .join(Person, Person.id == TeamMember.person_id)
        .outerjoin(Contact, Contact.person_id == Person.id)
        .where(TeamMember.team_id == team_id)
        .order_by(case((TeamMember.role == ORGANIZER, 0), else_=1), Person.name, Person.id,
                  Contact.id)
    ):  # fmt: skip
        entry = people.setdefault(person.id, {"name": person.name, "role": member.role,
                                              "channels": []})  # fmt: skip
        if contact is not None:
            entry["channels"].append({"channel": contact.channel,
                                      "stopped": contact.opted_out_at is not None,
                                      "simulated": contact.simulator_team_id is not None})  # fmt: skip
    return list(people.values())


def _groups(db: Session, team_id: int) -> list[GroupChat]:
    """The team's linked group chats, and the simulator's made-up ones playing in it."""
    return list(
        db.exec(
            select(GroupChat)
            .where(or_(GroupChat.team_id == team_id, GroupChat.simulator_team_id == team_id))
            .order_by(GroupChat.team_id.is_(None), GroupChat.title, GroupChat.id)
        ).all()
    )


def _circle_rows(db: Session, team_id: int, at: datetime) -> list[dict]:
    """The team's circles with learners, facilitators, the RSVPs of the next meeting (the last
    one when none is to come) and the count and latest of their reflections."""
    upcoming = (
        select(Meeting.id)
        .where(Meeting.circle_id == Circle.id, Meeting.status == SCHEDULED,
               Meeting.starts_at > at, Circle.status != CANCELLED)
        .order_by(Meeting.starts_at)
        .limit(1)
        .correlate(Circle)
        .scalar_subquery()
    )  # fmt: skip
    latest = (
        select(Meeting.id)
        .where(Meeting.circle_id == Circle.id, Meeting.status == SCHEDULED,
               Meeting.starts_at <= at)
        .order_by(Meeting.starts_at.desc())
        .limit(1)
        .correlate(Circle)
        .scalar_subquery()
    )  # fmt: skip
    reflected = (
        select(Meeting.circle_id, func.count(Reflection.id).label("reflections"),
               func.max(Reflection.id).label("latest"))
        .join(Reflection, Reflection.meeting_id == Meeting.id)
        .join(Circle, Circle.id == Meeting.circle_id)
        .where(Circle.team_id == team_id)
        .group_by(Meeting.circle_id)
        .subquery()
    )  # fmt: skip
    found = db.exec(
        select(Circle, upcoming.label("upcoming"), latest.label("latest"),
               func.coalesce(reflected.c.reflections, 0).label("reflections"), Reflection)
        .outerjoin(reflected, reflected.c.circle_id == Circle.id)
        .outerjoin(Reflection, Reflection.id == reflected.c.latest)
        .where(Circle.team_id == team_id)
        .order_by(Circle.first_date, Circle.start_time, Circle.name, Circle.id)
    ).all()  # fmt: skip
    circle_ids = [row.Circle.id for row in found]
    learners = learner_counts(db, circle_ids)
    answers = meeting_answers(db, [row.upcoming or row.latest for row in found])
    facilitators = _facilitators(db, circle_ids)
    rows = []
    for row in found:
        circle = row.Circle
        focus = answers.get(row.upcoming or row.latest)
        rows.append({
            "circle": circle,
            "first": _when(first_local(circle), circle.timezone),
            "next": _when(focus.starts_at, circle.timezone) if row.upcoming else None,
            "learners": learners.get(circle.id, 0),
            "facilitators": facilitators.get(circle.id, []),
            "answers": focus,
            "answers_when": _when(focus.starts_at, circle.timezone) if focus else None,
            "answers_past": row.upcoming is None,
            "reflections": row.reflections,
            "reflection": row.Reflection,
        })  # fmt: skip
    return rows


def _facilitators(db: Session, circle_ids: list[int]) -> dict[int, list[str | None]]:
    names: dict[int, list[str | None]] = {}
    for circle_id, name in db.exec(
        select(Facilitation.circle_id, Person.name)
        .join(Person, Person.id == Facilitation.person_id)
        .where(Facilitation.circle_id.in_(circle_ids))
        .order_by(Person.name, Person.id)
    ):
        names.setdefault(circle_id, []).append(name)
    return names


def meeting_answers(db: Session, meeting_ids: list[int]) -> dict[int, object]:
    """Per meeting, in one query: its start, the yes and no of learners still in the circle
    who had joined by then, how many of them gave no answer, and how many came (reflection)."""
    ids = [meeting_id for meeting_id in meeting_ids if meeting_id is not None]
    if not ids:
        return {}
    came = (
        select(Reflection.meeting_id, func.max(Reflection.attendance).label("came"))
        .where(Reflection.meeting_id.in_(ids))
        .group_by(Reflection.meeting_id)
        .subquery()
    )
    yes = func.sum(case((Rsvp.attending.is_(True), 1), else_=0))
    no = func.sum(case((Rsvp.attending.is_(False), 1), else_=0))
    rows = db.exec(
        select(Meeting.id, Meeting.starts_at, func.coalesce(yes, 0).label("yes"),
               func.coalesce(no, 0).label("no"),
               (func.count(Signup.id) - func.count(Rsvp.id)).label("silent"),
               func.max(came.c.came).label("came"))
        .select_from(Meeting)
        # Who the meeting was for: learners still in the circle who had joined by its start.
        .outerjoin(Signup, (Signup.circle_id == Meeting.circle_id) & Signup.left_at.is_(None)
                   & (Signup.joined_at <= Meeting.starts_at))
        .outerjoin(Rsvp, (Rsvp.meeting_id == Meeting.id) & (Rsvp.signup_id == Signup.id))
        .outerjoin(came, came.c.meeting_id == Meeting.id)
        .where(Meeting.id.in_(ids))
        .group_by(Meeting.id, Meeting.starts_at)
    ).all()  # fmt: skip
    return {row.id: row for row in rows}


def _latest_digest(db: Session, team: Team) -> list[dict]:
    """Each place the team's latest weekly digest went, with its pages in order, as sent."""
    pages = digest_pages([team.id])
    key = db.exec(
        select(pages.c.dedupe_key)
        .order_by(pages.c.created_at.desc(), pages.c.message_id.desc())
        .limit(1)
    ).first()
    if key is None:
        return []
    week = key.split(":")[2]
    sent = db.exec(
        select(Message, GroupChat.title, GroupChat.chat_id, Person.name)
        .join(pages, pages.c.message_id == Message.id)
        .outerjoin(GroupChat, GroupChat.id == Message.group_chat_id)
        .outerjoin(Contact, Contact.id == Message.contact_id)
        .outerjoin(Person, Person.id == Contact.person_id)
        .where(pages.c.dedupe_key.startswith(f"{DIGEST}:{team.id}:{week}:"))
        .order_by(Message.id)
    ).all()
    places: dict[str, dict] = {}
    for message, title, chat_id, name in sent:
        _, _, _, where, number = message.dedupe_key.split(":")
        group = (title or chat_id) if message.group_chat_id else None
        place = places.setdefault(where, {"group": group, "name": name,
                                          "channel": message.channel, "pages": []})  # fmt: skip
        place["pages"].append({
            "number": int(number), "message": message,
            "at": _when(message.created_at, team.timezone),
            "sent": _when(message.sent_at, team.timezone),
        })  # fmt: skip
    for place in places.values():
        place["pages"].sort(key=lambda page: page["number"])
    return list(places.values())


@console.get("/circles/<int:circle_id>")
@signed_in
def circle(circle_id: int):
    """One circle: its meetings with their RSVPs and attendance, how many learners it has and
    how many answered the survey; never who they are or what they hope for."""
    with session_scope() as db:
        found = db.get(Circle, circle_id)
        ids = visible_team_ids(db)
        # A circle of no team is the all-teams operators' alone.
        if found is None or (ids is not None and found.team_id not in ids):
            return not_found_page()
        team = db.get(Team, found.team_id) if found.team_id else None
        meetings = list(
            db.exec(select(Meeting).where(Meeting.circle_id == circle_id)
                    .order_by(Meeting.number)).all()
        )  # fmt: skip
        answers = meeting_answers(db, [meeting.id for meeting in meetings])
        off_slot = moved(meetings, found.timezone)
        asked, answered = db.exec(
            select(func.count(SurveyResponse.id), func.count(SurveyResponse.completed_at))
            .where(SurveyResponse.circle_id == circle_id, SurveyResponse.role == LEARNER)
        ).one()  # fmt: skip
        rows = [
            {"meeting": meeting, "when": _when(meeting.starts_at, found.timezone),
             "cancelled": meeting.status == CANCELLED, "moved": meeting.id in off_slot,
             "answers": answers[meeting.id]}
            for meeting in meetings
        ]  # fmt: skip
        return render_template(
            "console/circle.html", active="teams", circle=found, team=team, meetings=rows,
            first=_when(first_local(found), found.timezone),
            learners=learner_counts(db, [circle_id])[circle_id], asked=asked, answered=answered,
        )  # fmt: skip


def moved(meetings: list[Meeting], timezone: str) -> set[int]:
    """The meetings away from their circle's weekly day and time: moved with MOVE. The weekly
    slot is the one most meetings keep; a called-off meeting keeps its time, so it counts."""
    zone = ZoneInfo(timezone)

    def slot(meeting: Meeting) -> tuple:
        # Local wall-clock time, as meetings are made: a DST change moves no meeting.
        local = meeting.starts_at.astimezone(zone)
        return local.date() - timedelta(weeks=meeting.number - 1), local.time()

    slots = Counter(slot(meeting) for meeting in sorted(meetings, key=lambda m: m.number))
    if not slots:
        return set()
    weekly = max(slots, key=slots.__getitem__)  # a tie goes to the earliest meeting's slot
    return {meeting.id for meeting in meetings if slot(meeting) != weekly}
