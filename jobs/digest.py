"""The weekly digest: each team's, at its local weekday and time, to its linked groups or,
when it has none, to its organizers directly."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import case, literal, update
from sqlmodel import Session, select

from bot import outbox, queue
from bot.i18n import t
from bot.identity import reachable_contacts
from bot.pages import fits, split
from handlers import team_view
from handlers.team_facts import TeamFacts, gather
from models.circles import SIGNUP_OPEN
from models.people import Person
from models.teams import ORGANIZER, GroupChat, Team, TeamMember, next_digest_at

BATCH = 200  # teams per tick; the rest follow a minute later


def sweep(session: Session, at: datetime, queued: Counter) -> None:
    """Claim the teams whose digest is due and queue each digest once."""
    due = session.exec(
        select(Team).where(Team.digest_due_at <= at).order_by(Team.digest_due_at).limit(BATCH)
    ).all()
    if not due:
        return
    weeks = {team.id: team.digest_due_at for team in due}
    claimed = _claim(session, due, at)
    teams = [team for team in due if team.id in claimed]
    if teams:
        rows = digest_rows(session, teams, at, weeks)
        outbox.queue_once(session, rows, queue_name=queue.LOW)
        queued["digest"] += len(rows)


def _claim(session: Session, teams: list[Team], at: datetime) -> set[int]:
    """Move each team's due instant to its next week, past `at`: a digest missed while the
    clock was down goes once, not once per missed week; a tick beside this one gets none."""
    column_type = Team.__table__.c.digest_due_at.type  # so the instants are stored as UTC
    following = {team.id: literal(next_digest_at(team, at), column_type) for team in teams}
    return set(
        session.execute(
            update(Team)
            .where(Team.id.in_(list(following)), Team.digest_due_at <= at)
            .values(digest_due_at=case(following, value=Team.id))
            .returning(Team.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )


def digest_rows(
    session: Session, teams: list[Team], at: datetime, weeks: dict[int, datetime]
) -> list[dict]:
    """Outbox rows of the weekly digest of each team, one dedupe key per team, week,
    destination and page."""
    ids = [team.id for team in teams]
    facts = gather(session, ids, at)
    groups = session.exec(select(GroupChat).where(GroupChat.team_id.in_(ids))).all()
    linked = {group.team_id for group in groups}
    organizers = session.exec(
        select(TeamMember.team_id, Person)
        .join(Person, Person.id == TeamMember.person_id)
        .where(TeamMember.team_id.in_([i for i in ids if i not in linked]),
               TeamMember.role == ORGANIZER)
    ).all()  # fmt: skip
    contacts = reachable_contacts(session, [person.id for _, person in organizers])
    by_id = {team.id: team for team in teams}
    rows = []

    def add(team: Team, language: str, channel: str, to: dict, where: str) -> None:
        week = weeks[team.id].date().isoformat()
        for number, (body, media) in enumerate(
            pages(facts[team.id], team, at, language, channel), start=1
        ):
            rows.append(
                {"channel": channel, "body": body, "media": media, "purpose": "digest",
                 "dedupe_key": f"digest:{team.id}:{week}:{where}:{number}", **to}
            )  # fmt: skip

    for group in groups:
        team = by_id[group.team_id]
        add(
            team,
            team.language,
            group.channel,
            {"group_chat_id": group.id, "contact_id": None},
            f"g{group.id}",
        )
    for team_id, person in organizers:
        contact = contacts.get(person.id)
        if contact is not None:
            add(by_id[team_id], person.language, contact.channel, {"contact_id": contact.id, "group_chat_id": None},
                f"c{contact.id}")  # fmt: skip
    return rows


def pages(facts: TeamFacts, team: Team, at: datetime, language: str, channel: str) -> list:
    """The digest's (text, media) messages, ending with the circles no facilitator runs any
    more (the last one left, or said FORGET): the organizers are the ones to find another."""
    found = team_view.digest_pages(facts, team, at, language, channel)
    lines = orphans(facts, language)
    if not lines:
        return found
    *before, (last, media) = found
    joined = "\n\n".join([last, "\n".join(lines)])
    if fits(joined, channel):
        return [*before, (joined, media)]
    return found + [(text, []) for text in split(lines, channel)]


def orphans(facts: TeamFacts, language: str) -> list[str]:
    """The "needs a facilitator" section: circles still to meet with nobody facilitating."""
    lines = [
        t("digest.orphan_line", language, circle=circle.name, learners=circle.learners)
        for circle in facts.circles
        if circle.status in SIGNUP_OPEN and not facts.facilitators.get(circle.id)
    ]
    return [t("digest.orphans_title", language), *lines] if lines else []
