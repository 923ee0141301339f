"""The operator CLI (`flask --app app …`); reporting commands print one JSON object with --json."""

from __future__ import annotations

import json
import re
import sys
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import Flask
from flask.cli import AppGroup
from sqlmodel import Session, select

from bot import outbox
from bot.clock import now
from bot.config import ROOT, get_settings, use_settings
from bot.db import session_scope
from bot.identity import contact_for, parse_handle
from models.circles import Circle, Facilitation, Meeting, Signup, meeting_times
from models.codes import new_code
from models.message import IN, OUT, QUEUED, RECEIVED, Message
from models.people import Person
from models.teams import FACILITATOR, ORGANIZER, LinkCode, Team, TeamMember

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
LINK_CODE_LIFETIME = timedelta(hours=24)


def report(data: dict, as_json: bool, human: str) -> None:
    """Print exactly one JSON object, or a line for people."""
    click.echo(json.dumps(data, default=str) if as_json else human)


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise click.BadParameter(f"unknown timezone {name!r} (e.g. Africa/Nairobi)") from error
    return name


def _handle(value: str) -> tuple[str, str]:
    try:
        return parse_handle(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error


def unique_code(session: Session, column, length: int) -> str:
    """A fresh code not yet used in `column`."""
    while True:
        code = new_code(length)
        if session.exec(select(column).where(column == code)).first() is None:
            return code


def _slug(session: Session, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48] or "team"
    slug, n = base, 1
    while session.exec(select(Team.id).where(Team.slug == slug)).first() is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_link_code(session: Session, team_id: int) -> LinkCode:
    """A one-time code, valid 24 hours, that links a group chat to the team."""
    link = LinkCode(
        team_id=team_id,
        code=unique_code(session, LinkCode.code, 8),
        expires_at=now() + LINK_CODE_LIFETIME,
    )
    session.add(link)
    session.flush()
    return link


def create_team(
    session: Session,
    name: str,
    timezone: str,
    organizer: tuple[str, str],
    language: str = "en",
    digest: str = "MON 08:00",
) -> tuple[Team, LinkCode]:
    """Create a team with its first organizer, invite code and a link code."""
    day, _, hour_minute = digest.strip().upper().partition(" ")
    if day not in WEEKDAYS or not re.fullmatch(r"\d{1,2}:\d{2}", hour_minute):
        raise click.BadParameter('write the digest time like "MON 08:00"')
    hour, minute = (int(part) for part in hour_minute.split(":"))
    if hour > 23 or minute > 59:
        raise click.BadParameter('write the digest time like "MON 08:00"')
    team = Team(
        name=name,
        slug=_slug(session, name),
        timezone=timezone,
        language=language,
        digest_weekday=WEEKDAYS.index(day),
        digest_hour=hour,
        digest_minute=minute,
        invite_code=unique_code(session, Team.invite_code, 6),
    )
    session.add(team)
    session.flush()
    contact = contact_for(session, *organizer, language=language)
    session.add(TeamMember(team_id=team.id, person_id=contact.person_id, role=ORGANIZER))
    return team, create_link_code(session, team.id)


def create_circle(
    session: Session,
    team: Team | None,
    facilitator: tuple[str, str],
    *,
    name: str,
    course: str,
    venue: str,
    city: str,
    first: datetime,
    weeks: int = 6,
    duration: int = 90,
    timezone: str | None = None,
    limit: int | None = None,
    status: str = "open",
) -> Circle:
    """Create a circle, its facilitation and its weekly meetings in local wall-clock time."""
    timezone = timezone or (team.timezone if team else "UTC")
    circle = Circle(
        team_id=team.id if team else None,
        name=name,
        course=course,
        venue=venue,
        city=city,
        timezone=timezone,
        language=team.language if team else "en",
        weekday=first.weekday(),
        start_time=first.time(),
        duration_min=duration,
        first_date=first.date(),
        weeks=weeks,
        join_code=unique_code(session, Circle.join_code, 4),
        signup_limit=limit,
        status=status,
    )
    session.add(circle)
    session.flush()
    contact = contact_for(session, *facilitator)
    session.add(Facilitation(circle_id=circle.id, person_id=contact.person_id))
    if team is not None:
        member = session.exec(
            select(TeamMember).where(
                TeamMember.team_id == team.id, TeamMember.person_id == contact.person_id
            )
        ).first()
        if member is None:
            session.add(TeamMember(team_id=team.id, person_id=contact.person_id, role=FACILITATOR))
    times = meeting_times(circle.first_date, circle.start_time, weeks, duration, timezone)
    for number, (starts, ends) in enumerate(times, start=1):
        session.add(Meeting(circle_id=circle.id, number=number, starts_at=starts, ends_at=ends))
    session.flush()
    return circle


def register_commands(app: Flask) -> None:
    """Attach the operator commands to the app."""
    db = AppGroup("db", help="The database.")
    team = AppGroup("team", help="Teams.")
    circle = AppGroup("circle", help="Circles.")
    telegram = AppGroup("telegram", help="Telegram.")

    @db.command("upgrade")
    @click.option("--json", "as_json", is_flag=True)
    def db_upgrade(as_json: bool) -> None:
        """Apply the migrations."""
        from alembic import command
        from alembic.config import Config

        config = Config(str(ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(ROOT / "migrations"))
        command.upgrade(config, "head")
        report({"upgraded": True}, as_json, "database is up to date")

    @team.command("create")
    @click.argument("name")
    @click.option("--timezone", required=True, callback=lambda c, p, v: _zone(v))
    @click.option("--organizer", required=True, callback=lambda c, p, v: _handle(v))
    @click.option("--language", default="en", type=click.Choice(["en", "sw"]))
    @click.option("--digest", default="MON 08:00", show_default=True)
    @click.option("--json", "as_json", is_flag=True)
    def team_create(name, timezone, organizer, language, digest, as_json) -> None:
        """Create a team and name its first organizer."""
        with session_scope() as session:
            created, link = create_team(session, name, timezone, organizer, language, digest)
            data = {
                "id": created.id,
                "slug": created.slug,
                "name": created.name,
                "timezone": created.timezone,
                "invite_code": created.invite_code,
                "link_code": link.code,
            }
        report(
            data,
            as_json,
            f"team {data['slug']}: invite code {data['invite_code']}, "
            f"group link code {data['link_code']} (valid 24 h)",
        )

    @circle.command("create")
    @click.option("--team", "team_slug", required=True)
    @click.option("--facilitator", required=True, callback=lambda c, p, v: _handle(v))
    @click.option("--name", required=True)
    @click.option("--course", required=True)
    @click.option("--venue", required=True)
    @click.option("--city", required=True)
    @click.option("--first", required=True, help='local wall-clock time, "YYYY-MM-DD HH:MM"')
    @click.option("--weeks", default=6, type=click.IntRange(1, 52))
    @click.option("--duration", default=90, type=click.IntRange(15, 600))
    @click.option("--timezone", default=None)
    @click.option("--limit", default=None, type=click.IntRange(1, 10000))
    @click.option("--json", "as_json", is_flag=True)
    def circle_create(team_slug, facilitator, first, timezone, limit, as_json, **fields) -> None:
        """Create a circle open for signups, with its weekly meetings."""
        try:
            first_local = datetime.strptime(first, "%Y-%m-%d %H:%M")
        except ValueError as error:
            raise click.BadParameter('write --first like "2026-12-01 18:00"') from error
        with session_scope() as session:
            found = session.exec(select(Team).where(Team.slug == team_slug)).first()
            if found is None:
                raise click.BadParameter(f"no team {team_slug!r}")
            created = create_circle(
                session,
                found,
                facilitator,
                first=first_local,
                timezone=_zone(timezone) if timezone else None,
                limit=limit,
                **fields,
            )
            meetings = session.exec(
                select(Meeting).where(Meeting.circle_id == created.id).order_by(Meeting.number)
            ).all()
            data = {
                "id": created.id,
                "name": created.name,
                "join_code": created.join_code,
                "timezone": created.timezone,
                "meetings": [
                    {"number": m.number, "starts_at": m.starts_at.isoformat()} for m in meetings
                ],
            }
        report(data, as_json, f"circle {data['name']}: join code {data['join_code']}")

    @app.cli.command("tick")
    @click.option("--at", default=None, help="ISO instant; no offset means UTC")
    @click.option("--json", "as_json", is_flag=True)
    def tick(at: str | None, as_json: bool) -> None:
        """Run one scheduler tick as of that instant; the workers send."""
        from jobs import tick as tick_job

        if at:
            try:
                datetime.fromisoformat(at)
            except ValueError as error:
                raise click.BadParameter("write --at like 2026-12-01T15:00") from error
        result = tick_job.run(at)
        report(result, as_json, f"tick at {result['at']}: {result['queued'] or 'nothing due'}")

    @app.cli.command("chat")
    @click.option("--as", "handle", required=True, callback=lambda c, p, v: _handle(v))
    def chat(handle: tuple[str, str]) -> None:
        """Talk to the bot in the terminal as CONTACT; replies are printed."""
        chat_as(handle, sys.stdin, interactive=sys.stdin.isatty())

    @telegram.command("set-webhook")
    @click.option("--json", "as_json", is_flag=True)
    def set_webhook(as_json: bool) -> None:
        """Register PUBLIC_BASE_URL/webhooks/telegram with the secret."""
        from bot.channels import telegram as telegram_channel

        settings = get_settings()
        if not (settings.telegram_bot_token and settings.telegram_webhook_secret):
            raise click.ClickException("set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET first")
        url = settings.public_base_url.rstrip("/") + "/webhooks/telegram"
        ok = telegram_channel.set_webhook(url, settings)
        report({"url": url, "ok": ok}, as_json, f"webhook {'set' if ok else 'NOT set'}: {url}")
        if not ok:
            sys.exit(1)

    @app.cli.command("seed-demo")
    @click.option("--json", "as_json", is_flag=True)
    def seed_demo(as_json: bool) -> None:
        """Create a demo team, facilitator, circles and learners."""
        data = seed(now())
        report(
            data, as_json, f"demo team {data['team']}: join codes {', '.join(data['join_codes'])}"
        )

    for group in (db, team, circle, telegram):
        app.cli.add_command(group)


def chat_as(handle: tuple[str, str], lines, *, interactive: bool) -> None:
    """Feed each line to the bot as if sent from `handle`, and print the replies."""
    channel, address = handle
    if interactive:
        click.echo(f"You are {channel}:{address}. Type a message; Ctrl-D to leave.", err=True)
    # This process sends its own replies to the console, so they print here and never reach
    # a real phone, even where provider credentials are set.
    settings = get_settings()
    use_settings(settings.model_copy(update={"outbox": "console"}))
    outbox.ENQUEUE = False
    try:
        for line in lines:
            if line.strip():
                _chat_line(channel, address, line.rstrip("\n"))
    finally:
        outbox.ENQUEUE = True
        use_settings(settings)


def _chat_line(channel: str, address: str, text: str) -> None:
    """Record one typed line as an inbound message, handle it, and send the replies here."""
    from jobs import handle_inbound, send_message

    with session_scope() as session:
        contact = contact_for(session, channel, address)
        contact.last_inbound_at = now()
        session.add(
            Message(
                direction=IN,
                channel=channel,
                contact_id=contact.id,
                body=text,
                provider_id=f"chat:{uuid.uuid4().hex}",
                status=RECEIVED,
            )
        )
        contact_id = contact.id
    handle_inbound.run(contact_id)
    with session_scope() as session:
        replies = session.exec(
            select(Message.id)
            .where(
                Message.contact_id == contact_id,
                Message.direction == OUT,
                Message.status == QUEUED,
            )
            .order_by(Message.id)
        ).all()
    for message_id in replies:
        send_message.run(message_id)


def seed(at: datetime) -> dict:
    """A demo team in Nairobi with a facilitator, two circles and three learners."""
    with session_scope() as session:
        existing = session.exec(select(Team).where(Team.slug == "demo-library")).first()
        if existing is not None:
            codes = session.exec(
                select(Circle.join_code).where(Circle.team_id == existing.id)
            ).all()
            return {"team": existing.slug, "join_codes": list(codes), "created": False}
        team, link = create_team(
            session, "Demo Library", "Africa/Nairobi", ("sms", "+254700000001")
        )
        team.slug = "demo-library"
        local_now = at.astimezone(ZoneInfo(team.timezone)).replace(tzinfo=None)
        first = (local_now + timedelta(days=3)).replace(hour=18, minute=0, second=0, microsecond=0)
        circles = [
            create_circle(
                session, team, ("sms", "+254700000002"), name="Python for Beginners",
                course="Python for Everybody", venue="Nakuru Public Library", city="Nakuru",
                first=first,
            ),
            create_circle(
                session, team, ("telegram", "100000002"), name="Digital Skills",
                course="Digital Literacy", venue="Kisumu Library", city="Kisumu",
                first=first + timedelta(days=1), weeks=8,
            ),
        ]  # fmt: skip
        learners = [
            ("sms", "+254700000010", "Amina", "Build a website for my shop"),
            ("whatsapp", "+254700000011", "Brian", "Get a job in tech"),
            ("telegram", "100000012", "Wanjiru", "Help my children with computers"),
        ]
        for index, (channel, address, name, goal) in enumerate(learners):
            contact = contact_for(session, channel, address)
            person = session.get(Person, contact.person_id)
            person.name = name
            session.add(
                Signup(
                    circle_id=circles[index % 2].id,
                    person_id=person.id,
                    contact_id=contact.id,
                    goal=goal,
                )
            )
        return {
            "team": team.slug,
            "invite_code": team.invite_code,
            "link_code": link.code,
            "join_codes": [c.join_code for c in circles],
            "created": True,
        }
