"""The operator CLI (`flask --app app …`); reporting commands print one JSON object with --json."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import Flask
from flask.cli import AppGroup
from sqlmodel import select

from bot.clock import aware, now
from bot.config import ROOT, get_settings
from bot.db import session_scope
from bot.identity import contact_for, find_contact, parse_handle
from models.circles import Meeting, create_circle
from models.teams import Team, create_link_code, create_team

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


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


def _known(session, contact: tuple[str, str]):
    """The contact at this address, or a clear error: an operator must not guess."""
    found = find_contact(session, *contact)
    if found is None:
        raise click.ClickException(f"no one is known at {contact[0]}:{contact[1]}")
    return found


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return aware(datetime.fromisoformat(value))
    except ValueError as error:
        raise click.BadParameter("write --at like 2026-12-01T15:00") from error


def parse_digest(text: str) -> tuple[int, int, int]:
    """Read "MON 08:00" as (weekday, hour, minute)."""
    day, _, hour_minute = text.strip().upper().partition(" ")
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", hour_minute)
    if day not in WEEKDAYS or not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise click.BadParameter('write the digest time like "MON 08:00"')
    return WEEKDAYS.index(day), int(match[1]), int(match[2])


def register_commands(app: Flask) -> None:
    """Attach the operator commands to the app."""
    db = AppGroup("db", help="The database.")
    team = AppGroup("team", help="Teams.")
    circle = AppGroup("circle", help="Circles.")
    telegram = AppGroup("telegram", help="Telegram.")
    outbox_group = AppGroup("outbox", help="What went out, and who missed out.")
    inbox = AppGroup("inbox", help="What came in.")
    privacy = AppGroup("privacy", help="What we hold about a person: export it, or erase it.")
    people = AppGroup("people", help="People and their contacts.")

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
        weekday, hour, minute = parse_digest(digest)
        with session_scope() as session:
            organizer_contact = contact_for(session, *organizer, language=language)
            created = create_team(
                session, name, timezone, organizer_contact.person_id, language=language,
                digest_weekday=weekday, digest_hour=hour, digest_minute=minute,
            )  # fmt: skip
            link = create_link_code(session, created.id, now())
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
                contact_for(session, *facilitator).person_id,
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
    @click.option("--as", "handle", required=True, metavar="HANDLE", help="who you are, or where")
    @click.option("--from", "member", default=None, metavar="CONTACT", help="who posts in a group")
    @click.option(
        "--at",
        default=None,
        metavar="ISO",
        callback=lambda c, p, v: _instant(v),
        help="ISO instant to chat at, simulated, time running on; no offset means UTC",
    )
    def chat(handle: str, member: str | None, at: datetime | None) -> None:
        """Talk to the bot in the terminal, and see every message sent to you as it goes.

        \b
        HANDLE is a contact, or a Telegram group with the member who posts there:
          sms:+254700000010, whatsapp:+254700000010, telegram:5001
          telegram-group:-100123 --from telegram:5001

        Replies, reminders after a tick, a facilitator's MSG: whatever the console outbox
        sends you, from this process or a worker, shows here.
        """
        from bot import chat as chatting

        try:
            who = chatting.speaker(handle, member)
        except ValueError as error:
            raise click.UsageError(str(error)) from error
        chatting.run(who, sys.stdin, at=at, interactive=sys.stdin.isatty())

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
        """Create a demo team once, and say who is who in it and which codes to use."""
        from bot.demo import describe, seed

        data = seed(now())
        report(data, as_json, describe(data))

    @outbox_group.command("list")
    @click.option(
        "--status",
        "statuses",
        multiple=True,
        default=("failed", "unknown"),
        show_default=True,
        type=click.Choice(
            [
                "queued",
                "retry",
                "sending",
                "sent",
                "delivered",
                "undelivered",
                "failed",
                "unknown",
                "suppressed",
            ]
        ),  # fmt: skip
        help="repeat for several",
    )
    @click.option("--since", default=None, help="ISO instant; no offset means UTC")
    @click.option("--json", "as_json", is_flag=True)
    def outbox_list(statuses: tuple[str, ...], since: str | None, as_json: bool) -> None:
        """List outbound messages by status, newest first: to whom, what for, and the error."""
        from bot import outbox_review

        rows = outbox_review.missed(statuses, _instant(since))
        lines = [
            f"#{r['id']} {r['status']} {r['created_at'][:16].replace('T', ' ')} {r['to']}"
            + (f" ({r['name']})" if r["name"] else "")
            + f" {r['purpose']}: {r['error'] or '(no error recorded)'}"
            for r in rows
        ]
        human = "\n".join(lines) or f"no {' or '.join(statuses)} messages"
        report({"messages": rows}, as_json, human)

    @outbox_group.command("resend")
    @click.argument("message_ids", nargs=-1, required=True, type=int)
    @click.option("--yes", is_flag=True, help="do not ask for a confirmation")
    @click.option("--json", "as_json", is_flag=True)
    def outbox_resend(message_ids: tuple[int, ...], yes: bool, as_json: bool) -> None:
        """Send failed, unknown or undelivered messages again, after a confirmation."""
        from bot import outbox_review

        if not yes:
            click.confirm(
                f"Send {len(message_ids)} message(s) again? One that is `unknown` may have "
                "reached the person already: they would get it twice.",
                abort=True,
                err=True,
            )
        result = outbox_review.resend(list(message_ids))
        human = f"queued again: {result['resent'] or 'none'}" + (
            f"; left alone (not failed, unknown or undelivered): {result['left']}"
            if result["left"]
            else ""
        )
        report(result, as_json, human)

    @inbox.command("reconcile")
    @click.option("--since", default=None, help="ISO instant; no offset means UTC")
    @click.option("--json", "as_json", is_flag=True)
    def inbox_reconcile(since: str | None, as_json: bool) -> None:
        """Store what people sent since then that our webhooks missed, from the providers' own
        lists, and answer it; say what each provider listed and what was new."""
        from jobs import reconcile

        try:
            instant = aware(datetime.fromisoformat(since)) if since else None
        except ValueError as error:
            raise click.BadParameter("write --since like 2026-12-01T15:00") from error
        result = reconcile.run(instant)
        human = (
            f"listed: twilio {result['twilio']}, africastalking {result['africastalking']}; "
            f"stored and answered: {result['inserted']}; provider errors: {result['errors']}"
        )
        report(result, as_json, human)

    @privacy.command("export")
    @click.argument("contact", callback=lambda c, p, v: _handle(v))
    @click.option("--json", "as_json", is_flag=True, help="one line (it is JSON either way)")
    def privacy_export(contact: tuple[str, str], as_json: bool) -> None:
        """Print everything we hold about the person at CONTACT, as JSON."""
        from bot.holdings import gather

        with session_scope() as session:
            found = _known(session, contact)
            data = gather(session, found.person_id, messages=True)
        click.echo(json.dumps(data, default=str, ensure_ascii=False, indent=None if as_json else 2))

    @privacy.command("forget")
    @click.argument("contact", callback=lambda c, p, v: _handle(v))
    @click.option("--yes", is_flag=True, help="do not ask for a confirmation")
    @click.option("--json", "as_json", is_flag=True)
    def privacy_forget(contact: tuple[str, str], yes: bool, as_json: bool) -> None:
        """Erase the person at CONTACT for good, as their FORGET would (without messaging
        them): name, addresses, goals, answers, messages; anonymous counts stay."""
        from bot.erasure import forget_person

        with session_scope() as session:
            person_id = _known(session, contact).person_id
            if not yes:
                click.confirm(
                    f"Erase everything about {contact[0]}:{contact[1]} and their other contacts? "
                    "This cannot be undone.",
                    abort=True,
                    err=True,
                )
            erased = forget_person(session, person_id, now(), reason="operator")
        data = {"person_id": person_id, "erased": erased}
        human = f"person {person_id} forgotten: " + ", ".join(
            f"{name} {count}" for name, count in erased.items() if count
        )
        report(data, as_json, human)

    @people.command("merge-numbers")
    @click.option("--json", "as_json", is_flag=True)
    def people_merge_numbers(as_json: bool) -> None:
        """Make one person of each SMS and WhatsApp pair with the same number that were kept
        as two (before they were joined on arrival): circles, roles and answers go with them."""
        from bot.identity import merge_same_numbers

        with session_scope() as session:
            merged = merge_same_numbers(session)
        report({"merged": merged}, as_json, f"people merged into another: {merged}")

    for group in (db, team, circle, telegram, outbox_group, inbox, privacy, people):
        app.cli.add_command(group)
