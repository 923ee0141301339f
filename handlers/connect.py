"""CONNECT and USE THIS: one person on several channels (PRODUCT "Everyone")."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot import queue
from bot.context import Context
from bot.i18n import t
from conversations import engine
from handlers.words import fold
from models.circles import Signup
from models.people import CONNECT_CODE_LIFETIME, ConnectCode, Contact, Person

# A person may ask for this many codes an hour: enough for a typo or two, too few to farm.
CODES_PER_HOUR = 3
# Wrong codes a contact may try before it must wait: with 27**6 codes, guessing is hopeless.
WRONG_TRIES = 5
WRONG_TRIES_FOR = CONNECT_CODE_LIFETIME
# Counted in Redis, expiring with the window: a flush forgets the count, and only that.
WRONG_TRIES_KEY = "circlebot:connect-tries:{}"
MASKED_DIGITS = 4


def connect(ctx: Context, code: str) -> None:
    """Give a code (bare CONNECT) or attach this contact with one (CONNECT <code>)."""
    if code:
        use_code(ctx, fold(code))
    else:
        give_code(ctx)


def give_code(ctx: Context) -> None:
    """A one-time code, told only here, that another contact of theirs can send back."""
    hour_ago = ctx.now - timedelta(hours=1)
    asked = ctx.session.exec(
        select(func.count())
        .select_from(ConnectCode)
        .where(ConnectCode.person_id == ctx.person.id, ConnectCode.created_at > hour_ago)
    ).one()
    if asked >= CODES_PER_HOUR:
        ctx.say("connect.too_many_codes", count=CODES_PER_HOUR)
        return
    # A new code replaces the one before: only the latest works.
    ctx.session.execute(
        update(ConnectCode)
        .where(
            ConnectCode.person_id == ctx.person.id,
            ConnectCode.used_at.is_(None),
            ConnectCode.expires_at > ctx.now,
        )
        .values(expires_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    while True:
        row, code = ConnectCode.issue(ctx.person.id, ctx.contact.id, ctx.now)
        try:
            with ctx.session.begin_nested():
                ctx.session.add(row)
            break
        except IntegrityError:
            continue  # a code some row had already (one in hundreds of millions): draw again
    ctx.say("connect.code", code=code, minutes=int(CONNECT_CODE_LIFETIME.total_seconds() // 60))


def use_code(ctx: Context, code: str) -> None:
    """Ask to confirm whose this contact becomes; any code that cannot be used gets one reply
    that tells nothing of it (whose it was, whether it ever was)."""
    tries = WRONG_TRIES_KEY.format(ctx.contact.id)
    redis = queue.connection()
    if int(redis.get(tries) or 0) >= WRONG_TRIES:
        ctx.say("connect.too_many_tries")
        return
    found = usable(ctx, ConnectCode.digest(code))
    if found is None:
        pipe = redis.pipeline()
        pipe.set(tries, 0, ex=int(WRONG_TRIES_FOR.total_seconds()), nx=True)
        pipe.incr(tries)
        pipe.execute()
        ctx.say("connect.bad_code")
        return
    row, asker = found
    if row.person_id == ctx.person.id:
        ctx.say("connect.already_yours", channel=channel_name(ctx.contact.channel, ctx.language))
        return
    owner = ctx.session.get(Person, row.person_id)
    engine.start(ctx, "connect", {
        "code_id": row.id,
        "channel": channel_name(ctx.contact.channel, ctx.language),
        "who": who(owner, asker, ctx.language),
    })  # fmt: skip


def usable(ctx: Context, digest: str) -> tuple[ConnectCode, Contact] | None:
    """The code with this digest and the contact it was told on, while it can still be used:
    unused, unexpired, its contact not stopped, its person not erased (one query)."""
    return ctx.session.exec(
        select(ConnectCode, Contact)
        .join(Contact, Contact.id == ConnectCode.contact_id)
        .join(Person, Person.id == ConnectCode.person_id)
        .where(
            ConnectCode.code_hash == digest,
            ConnectCode.used_at.is_(None),
            ConnectCode.expires_at > ctx.now,
            Contact.opted_out_at.is_(None),
            Person.anonymized_at.is_(None),
        )
    ).first()


def who(person: Person, asker: Contact, language: str) -> str:
    """The person a code attaches to, as the confirmation names them: their name, or the
    contact that asked for it, its address masked."""
    if person.name:
        return person.name
    channel = channel_name(asker.channel, language)
    digits = "".join(ch for ch in asker.address if ch.isdigit())
    if asker.channel == "telegram" or len(digits) < MASKED_DIGITS:
        # A Telegram id is no number its owner knows.
        return t("connect.yours", language, channel=channel)
    return t("connect.masked", language, channel=channel, digits=digits[-MASKED_DIGITS:])


def channel_name(channel: str, language: str) -> str:
    return t(f"channel.{channel}", language)


def use_this(ctx: Context) -> None:
    """Send this person's reminders to the contact they write from now."""
    active = (Signup.person_id == ctx.person.id) & Signup.left_at.is_(None)
    elsewhere = func.coalesce(Signup.contact_id, 0) != ctx.contact.id
    signups, moving = ctx.session.exec(
        select(func.count(), func.count().filter(elsewhere)).where(active)
    ).one()
    channel = channel_name(ctx.contact.channel, ctx.language)
    if not signups:
        ctx.say("use_this.none")
        return
    if not moving:
        ctx.say("use_this.already", channel=channel)
        return
    ctx.session.execute(
        update(Signup)
        .where(active)
        .values(contact_id=ctx.contact.id)
        .execution_options(synchronize_session=False)
    )
    ctx.say("use_this.done", channel=channel)
