"""The console's simulator: talk to the bot as a made-up person (SMS, WhatsApp, Telegram, or a
member of a Telegram group), see what they would see, and move a simulated clock on.

Every message goes the real way: recorded as its provider's webhook would record it, handled by
the same dispatch, answered through the same outbox; only the last step differs, the simulator
channel (bot/channels/simulator.py) in place of a provider. Made-up people live in the sandbox
team (bot/sandbox.py) unless the operator chose a real team to play in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, session, url_for
from sqlalchemy import func
from sqlmodel import Session, select

from bot import buttons, clock, sandbox, sms
from bot.channels import simulator as channel
from bot.channels.base import SMS, TELEGRAM, WHATSAPP
from bot.config import get_settings
from bot.db import session_scope
from bot.identity import parse_handle
from bot.languages import first_language
from bot.webhooks import record
from console import console
from console.auth import require_team, signed_in, visible_team_ids, visible_teams
from jobs import handle_inbound, tick
from models.circles import (
    SCHEDULED,
    SIGNUP_OPEN,
    Circle,
    Facilitation,
    Meeting,
    Signup,
    first_local,
    has_meeting_after,
)
from models.message import OUT, QUEUED, SENDING, Message
from models.people import Contact
from models.teams import GroupChat, Team

OFFSET = "sim_offset"  # in the session: how many seconds the simulated clock is ahead
TEAM = "sim_team"  # in the session: the real team new made-up people play in (none: sandbox)
GROUP = "group"  # a member posting in a Telegram group
KINDS = (SMS, WHATSAPP, TELEGRAM, GROUP)
STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
TO_REMINDER = "reminder"
SHOWN = 200  # the latest messages of a conversation on the page
LONGEST = 2000  # what one may type: far more than anyone texts, far less than a webhook takes
ON_ITS_WAY = (QUEUED, SENDING)
TELEGRAM_ID = re.compile(r"\d{1,15}")
GROUP_ID = re.compile(r"-\d{1,20}")
SHOWN_TIME = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Who:
    """Whom the operator talks as: a contact, or a Telegram member posting in a group."""

    kind: str  # sms, whatsapp, telegram, or group
    address: str  # the number or Telegram id; a group's chat id
    member: str | None = None  # in a group: the Telegram id of the one posting

    @property
    def channel(self) -> str:
        return TELEGRAM if self.kind == GROUP else self.kind

    @property
    def speaker(self) -> str:
        """The address of the person who writes."""
        return self.member if self.kind == GROUP else self.address

    @property
    def handle(self) -> str:
        return f"{self.channel}:{self.speaker}"

    @property
    def args(self) -> dict[str, str]:
        """The query (or hidden form fields) that names them."""
        return {"kind": self.kind, "address": self.address} | (
            {"member": self.member} if self.member else {}
        )


def read_who(values) -> tuple[Who | None, str | None]:
    """Who the form or query names, or None and the text saying what is wrong with it."""
    kind = (values.get("kind") or "").strip().lower()
    address = re.sub(r"\s", "", values.get("address") or "")
    member = re.sub(r"\s", "", values.get("member") or "")
    if kind not in KINDS:
        return None, "console.sim_bad_kind"
    if kind == GROUP:
        if not GROUP_ID.fullmatch(address):
            return None, "console.sim_bad_group"
        if not TELEGRAM_ID.fullmatch(member):
            return None, "console.sim_bad_member"
        return Who(kind, address, member), None
    if kind == TELEGRAM:
        if not TELEGRAM_ID.fullmatch(address):
            return None, "console.sim_bad_telegram"
        return Who(kind, address), None
    try:
        _, address = parse_handle(f"{kind}:{address}")
    except ValueError:
        return None, "console.sim_bad_number"
    return Who(kind, address), None


# --- the simulated clock ---------------------------------------------------------------------


def clock_on() -> bool:
    """Whether the clock may move: only where nothing reaches a real phone whatever happens."""
    # A tick as of another instant runs the sweeps of every team, real ones too.
    return get_settings().outbox_mode == "console"


def simulated_now() -> datetime:
    """The operator's simulated instant: real time plus their offset (none while it is off)."""
    offset = session.get(OFFSET, 0) if clock_on() else 0
    return clock.real() + timedelta(seconds=offset)


def next_reminder(db: Session, person_id: int, after: datetime) -> datetime | None:
    """When the next reminder of this person's circles (as learner or facilitator) falls due."""
    theirs = (
        select(Signup.circle_id)
        .where(Signup.person_id == person_id, Signup.left_at.is_(None))
        .union(select(Facilitation.circle_id).where(Facilitation.person_id == person_id))
    )
    return db.exec(
        select(func.min(Meeting.reminder_due_at)).where(
            Meeting.circle_id.in_(theirs),
            Meeting.status == SCHEDULED,
            Meeting.reminder_sent_at.is_(None),
            Meeting.starts_at > after,
        )
    ).one()


# --- who plays where -------------------------------------------------------------------------


@dataclass
class Standing:
    """What the simulator knows of whom the operator talks as."""

    team: Team  # the team they play in, or will once they write
    contact: Contact | None = None  # the made-up person, once they have written
    group: GroupChat | None = None
    refusal: str | None = None  # why the operator cannot talk as them


def _visible(db: Session, team: Team) -> bool:
    ids = visible_team_ids(db)
    return team.sandbox or ids is None or team.id in ids


def chosen_team(db: Session, sandbox_id: int) -> Team:
    """The team new made-up people play in: the real one the operator chose, else the sandbox."""
    chosen = session.get(TEAM)
    team = db.get(Team, chosen) if chosen else None
    if team is None or team.sandbox or not _visible(db, team):
        return db.get(Team, sandbox_id)
    return team


def standing(db: Session, who: Who, chosen: Team) -> Standing:
    """Whether the operator may talk as `who`, and in which team: never as a real person nor
    in a real group, nor as a made-up one of a team they don't see."""
    if sandbox.held_by_real(db, who.channel, who.speaker):
        return Standing(chosen, refusal="console.sim_real_contact")
    group = None
    if who.kind == GROUP:
        if sandbox.group_held_by_real(db, who.address):
            return Standing(chosen, refusal="console.sim_real_group")
        group = db.exec(
            select(GroupChat).where(GroupChat.channel == TELEGRAM, GroupChat.chat_id == who.address)
        ).first()
    contact = db.exec(
        select(Contact).where(Contact.channel == who.channel, Contact.address == who.speaker)
    ).first()
    team = chosen
    for holder in (group, contact):
        if holder is not None:
            team = db.get(Team, holder.simulator_team_id)
    if not _visible(db, team):
        return Standing(chosen, refusal="console.sim_not_yours")
    return Standing(team, contact, group)


# --- what the page shows ---------------------------------------------------------------------


def conversation(db: Session, place: Standing) -> list[Message]:
    """The latest messages to and from them (in the group: the group's), oldest first."""
    if place.group is not None:
        where = Message.group_chat_id == place.group.id
    elif place.contact is not None:
        where = (Message.contact_id == place.contact.id) & Message.group_chat_id.is_(None)
    else:
        return []
    rows = db.exec(select(Message).where(where).order_by(Message.id.desc()).limit(SHOWN)).all()
    return list(reversed(rows))


def bubble(message: Message, zone: ZoneInfo) -> dict:
    """One message as the page draws it: what the person sees, and what it cost."""
    out = message.direction == OUT
    shown = {
        "id": message.id,
        "out": out,
        "body": message.body,
        "status": message.status,
        "at": message.created_at.astimezone(zone).strftime(SHOWN_TIME),
        "error": message.error,
        "purpose": message.purpose if out and message.purpose != "reply" else None,
        "template": message.template if out else None,
        "chart": any("chart" in item for item in message.media),
        "media": not out and bool(message.media),
        "buttons": [],
    }
    if out and message.channel == SMS:
        shown["segments"] = sms.segments(message.body)
        shown["encoding"] = "GSM-7" if sms.is_gsm7(message.body) else "UCS-2"
    # Telegram draws a question's answers as buttons under it, in a direct chat.
    if out and message.channel == TELEGRAM and message.contact_id and not message.group_chat_id:
        shown["buttons"] = buttons.options(message.buttons)
    return shown


def _talk(db: Session, who: Who | None, chosen: Team) -> dict:
    """The conversation part of the page: whom, where, their messages, and whether more come."""
    if who is None:
        return {"who": None, "bubbles": [], "pending": False, "refusal": None}
    place = standing(db, who, chosen)
    zone = ZoneInfo(place.team.timezone)
    rows = conversation(db, place) if place.refusal is None else []
    return {
        "who": who,
        "plays_in": place.team,
        "refusal": place.refusal,
        "bubbles": [bubble(row, zone) for row in rows],
        "pending": any(row.direction == OUT and row.status in ON_ITS_WAY for row in rows),
    }


def _circles(db: Session, team: Team, at: datetime) -> list[dict]:
    circles = db.exec(
        select(Circle)
        .where(Circle.team_id == team.id, Circle.status.in_(SIGNUP_OPEN), has_meeting_after(at))
        .order_by(Circle.first_date, Circle.id)
    ).all()
    return [
        {"name": c.name, "code": c.join_code, "when": first_local(c).strftime(SHOWN_TIME)}
        for c in circles
    ]


def _picks(db: Session, team: Team) -> dict:
    """Addresses to talk as: someone new on each channel, the team's made-up staff, and the
    made-up people so far."""
    telegram = sandbox.free_address(db, TELEGRAM)
    return {
        "new": [
            Who(SMS, sandbox.free_address(db, SMS)),
            Who(WHATSAPP, sandbox.free_address(db, WHATSAPP)),
            Who(TELEGRAM, telegram),
            Who(GROUP, sandbox.free_group(db), telegram),
        ],
        "staff": [(role, Who(c.channel, c.address)) for role, c in sandbox.staff(db, team.id)],
        "made_up": [Who(c.channel, c.address) for c in sandbox.made_up(db, team.id)],
    }


def _page_values(who: Who | None) -> dict:
    at = simulated_now()
    sandbox_id = sandbox.ensure(at)
    with session_scope() as db:
        chosen = chosen_team(db, sandbox_id)
        talk = _talk(db, who, chosen)
        team = talk.get("plays_in") or chosen
        zone = ZoneInfo(team.timezone)
        return talk | {
            "chosen": chosen,
            "team": team,
            "teams": [t for t in visible_teams(db) if not t.sandbox],
            "sandbox_team": db.get(Team, sandbox_id),
            "circles": _circles(db, team, at),
            "picks": _picks(db, team),
            "clock_on": clock_on(),
            "now_utc": at.strftime(SHOWN_TIME),
            "now_local": at.astimezone(zone).strftime(SHOWN_TIME),
            "zone": team.timezone,
        }


@console.get("/simulator")
@signed_in
def simulator():
    """The simulator: the clock, the team, whom to talk as, and the conversation."""
    who, problem = read_who(request.args) if request.args.get("kind") else (None, None)
    if problem:
        flash([problem, {}])
    return render_template("console/simulator.html", active="simulator", **_page_values(who))


@console.get("/simulator/conversation")
@signed_in
def simulator_conversation():
    """The conversation alone, for the page's script to fetch while messages are on their way."""
    who, problem = read_who(request.args)
    if problem:
        abort(400)
    with session_scope() as db:
        made = sandbox.find(db)
    # Asked every second while a message is on its way: it makes the sandbox only if it must.
    sandbox_id = made.id if made else sandbox.ensure(simulated_now())
    with session_scope() as db:
        values = _talk(db, who, chosen_team(db, sandbox_id))
    return render_template("console/simulator_conversation.html", **values)


# --- what the operator does ------------------------------------------------------------------


def _back(who: Who | None):
    if who is None:
        return redirect(url_for("console.simulator"))
    return redirect(url_for("console.simulator", **who.args, _anchor="say"))


def _post(who: Who, text: str, tapped: int | None = None) -> None:
    """Send the text to the bot as `who` would, at the simulated instant, and handle it here."""
    at = simulated_now()
    sandbox_id = sandbox.ensure(at)
    with clock.simulated(at, running=True):
        with session_scope() as db:
            place = standing(db, who, chosen_team(db, sandbox_id))
            if place.refusal:
                flash([place.refusal, {}])
                return
            language = first_language(who.channel, who.speaker, text, None)
            sandbox.simulated_contact(db, place.team.id, who.channel, who.speaker,
                                      language or get_settings().default_language)  # fmt: skip
            if who.kind == GROUP:
                sandbox.simulated_group(db, place.team.id, who.address)
        group = who.address if who.kind == GROUP else None
        inbound = channel.inbound(who.channel, who.speaker, text, clock.now(), group=group,
                                  tapped=tapped)  # fmt: skip
        if inbound is None:
            flash(["console.sim_group_commands", {}])
            return
        # As the webhook would: recorded once, then handled (here, at the simulated instant,
        # where a webhook leaves it to a worker).
        contact_id = record(inbound, simulated=True)
        if contact_id is not None:
            handle_inbound.run(contact_id)


@console.post("/simulator/say")
@signed_in
def simulator_say():
    """Send what the operator typed, as the person they talk as."""
    who, problem = read_who(request.form)
    if problem:
        flash([problem, {}])
        return _back(None)
    text = (request.form.get("text") or "").strip()
    if not text:
        flash(["console.sim_say_something", {}])
    else:
        _post(who, text[:LONGEST])
    return _back(who)


@console.post("/simulator/tap")
@signed_in
def simulator_tap():
    """Press a button under a Telegram question, as the person would."""
    who, problem = read_who(request.form)
    question = request.form.get("question", type=int)
    answer = (request.form.get("answer") or "").strip()
    if problem or who.kind != TELEGRAM or question is None or not answer:
        flash(["console.sim_bad_tap", {}])
        return _back(who)
    _post(who, answer[: buttons.CALLBACK_DATA_BYTES], tapped=question)
    return _back(who)


@console.post("/simulator/clock")
@signed_in
def simulator_clock():
    """Move the simulated clock on and run one tick as of then, as `flask tick --at` does."""
    who, _ = read_who(request.form) if request.form.get("kind") else (None, None)
    if not clock_on():
        flash(["console.sim_clock_off", {}])
        return _back(who)
    step = request.form.get("step")
    at = simulated_now()
    if step in STEPS:
        target = at + STEPS[step]
    elif step == TO_REMINDER:
        due = _reminder_for(who, at)
        if due is None:
            flash(["console.sim_no_reminder", {}])
            return _back(who)
        target = max(due, at)
    else:
        abort(400)
    session[OFFSET] = (target - clock.real()).total_seconds()
    queued = tick.run(at=target.isoformat())["queued"]
    shown = {"at": target.strftime(SHOWN_TIME) + " UTC"}
    if queued:
        listed = ", ".join(f"{purpose} {count}" for purpose, count in sorted(queued.items()))
        flash(["console.sim_ticked", shown | {"queued": listed}])
    else:
        flash(["console.sim_ticked_nothing", shown])
    return _back(who)


def _reminder_for(who: Who | None, at: datetime) -> datetime | None:
    if who is None:
        return None
    with session_scope() as db:
        contact = db.exec(
            select(Contact).where(Contact.channel == who.channel, Contact.address == who.speaker,
                                  Contact.simulator_team_id.is_not(None))
        ).first()  # fmt: skip
        return next_reminder(db, contact.person_id, at) if contact else None


@console.post("/simulator/team")
@signed_in
def simulator_team():
    """Choose the team new made-up people play in: the sandbox, or a real one (confirmed)."""
    who, _ = read_who(request.form) if request.form.get("kind") else (None, None)
    wanted = request.form.get("team", type=int)
    with session_scope() as db:
        team = require_team(db, wanted) if wanted else None
        if team is None or team.sandbox:
            session.pop(TEAM, None)
            flash(["console.sim_team_sandbox_chosen", {}])
        elif not request.form.get("understood"):
            flash(["console.sim_team_confirm", {}])
        else:
            session[TEAM] = team.id
            flash(["console.sim_team_chosen", {"team": team.name}])
    return _back(who)
