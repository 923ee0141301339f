"""Telegram: verify and parse webhook updates, send messages through the Bot API."""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import re
import threading
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import lru_cache
from ssl import SSLContext
from typing import TypeVar

import httpx
from telegram import (
    Bot,
    CallbackQuery,
    ChatMember,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ChatType, MessageLimit
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot import buttons, clock
from bot.channels.base import TELEGRAM, ChatEvent, Inbound, Media, Outbound, SendResult
from bot.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Only the updates we act on; Telegram then does not even deliver the rest.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
GROUP_CHATS = (ChatType.GROUP, ChatType.SUPERGROUP)
TALKING_CHATS = (ChatType.PRIVATE, *GROUP_CHATS)
# A command is "/name" or "/name@botusername" at the start of the text; in a group with several
# bots the @botusername says which one is meant.
COMMAND = re.compile(r"/(?P<name>[A-Za-z0-9_]+)(?:@(?P<bot>[A-Za-z0-9_]+))?(?=\s|$)")
# Statuses in which the bot is in the group and may post.
PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)
GONE = (ChatMember.LEFT, ChatMember.BANNED)
# Telegram sends photos as JPEG whatever the person uploaded.
TELEGRAM_PHOTO_TYPE = "image/jpeg"
# Files a message may carry, with the type to assume when Telegram sends none: voice notes are
# Opus in OGG, video notes MP4, stickers WebP (animated and video ones say so in is_animated and
# is_video, which we need not tell apart).
TELEGRAM_FILES = (
    ("document", None),
    ("voice", "audio/ogg"),
    ("audio", "audio/mpeg"),
    ("video", "video/mp4"),
    ("video_note", "video/mp4"),
    ("animation", "video/mp4"),
    ("sticker", "image/webp"),
)
# Things shared that are not files: kept as their kind alone.
TELEGRAM_SHARES = ("location", "venue", "contact", "poll", "dice")
# Attachments are kept as a reference, fetched later with getFile if ever needed.
FILE_URL_PREFIX = "telegram:"
# A tap on a button is stored under its callback query's id, so a replayed update is one tap.
CALLBACK_PREFIX = "callback:"
# Short labels sit side by side (Yes | No); longer ones one to a row, so none is cut.
ROW_LABEL_CHARACTERS = 12
ROW_BUTTONS = 3


def verify(secret_header: str | None, settings: Settings) -> bool:
    """Tell whether the update came with the secret token we gave Telegram in setWebhook."""
    secret = settings.telegram_webhook_secret
    if not secret or secret_header is None:
        return False
    return hmac.compare_digest(
        secret_header.encode("utf-8", "replace"), secret.encode("utf-8", "replace")
    )


def parse(
    payload: object, bot_username: str, bot_id: int | None = None
) -> Inbound | ChatEvent | None:
    """Turn a webhook update into an Inbound or ChatEvent, None if it is nothing for us.

    Raises ValueError for a payload that is not a Telegram update at all.
    """
    if not isinstance(payload, dict):
        raise ValueError("a Telegram update is a JSON object")
    update_id = payload.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise ValueError("a Telegram update has an integer update_id")
    try:
        update = Update.de_json(payload, bot=None)
        provider_id = f"update:{update.update_id}"
        if update.my_chat_member is not None:
            return _membership_event(update.my_chat_member, provider_id, bot_id)
        if update.message is not None:
            return _from_message(update.message, provider_id, bot_username.lstrip("@"))
        if update.callback_query is not None:
            return _from_tap(update.callback_query)
        # Edits, channel posts and the rest carry nothing we answer.
        return None
    except Exception as exc:  # PTB trusts its input; malformed fields surface as any error
        raise ValueError(f"malformed Telegram update {update_id}: {exc!r}") from exc


def send(out: Outbound, settings: Settings) -> SendResult:
    """Send one message to a Telegram chat and say whether it went, should be retried, or failed."""
    if not settings.telegram_bot_token:
        return SendResult.failed("telegram is not configured")
    try:
        chat_id = int(out.to)
    except ValueError:
        return SendResult.failed(f"not a Telegram chat id: {out.to!r}")
    try:
        with warnings.catch_warnings():
            # PTB 22 warns about its own int-or-timedelta change whenever it raises RetryAfter.
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            return _send(out, chat_id, settings)
    except Exception as exc:  # a send must never crash the job that called it
        log.exception("unexpected error sending message %s via telegram", out.message_id)
        return SendResult.failed(f"telegram send error: {exc!r}")


def set_webhook(url: str, settings: Settings) -> bool:
    """Tell Telegram where to post updates, with our secret token and the updates we use."""

    async def register(bot: Bot) -> bool:
        return await bot.set_webhook(
            url,
            secret_token=settings.telegram_webhook_secret or None,
            allowed_updates=ALLOWED_UPDATES,
        )

    try:
        return _run(settings, register)
    except TelegramError as exc:
        log.error("Telegram refused the webhook %s: %s", url, exc)
        return False


def _from_message(
    message: Message, provider_id: str, bot_username: str
) -> Inbound | ChatEvent | None:
    """Read a chat message: private ones pass, in groups only commands meant for us."""
    chat = message.chat
    if message.migrate_to_chat_id:
        # A group became a supergroup: its old id stops working, the new one takes over.
        return ChatEvent(
            kind="migrated",
            channel=TELEGRAM,
            chat_id=str(chat.id),
            new_chat_id=str(message.migrate_to_chat_id),
            provider_id=provider_id,
            received_at=clock.now(),
            title=chat.title,
            by_address=str(message.from_user.id) if message.from_user else None,
        )
    person = message.from_user
    if message.migrate_from_chat_id or person is None or chat.type not in TALKING_CHATS:
        # The new supergroup's echo of a migration already reported, a post made in the name
        # of a channel, or a kind of chat we do not serve.
        return None
    text = message.text or message.caption or ""
    command = COMMAND.match(text)
    in_group = chat.type in GROUP_CHATS
    if command:
        addressee = command["bot"]
        if addressee is None or not bot_username or addressee.lower() == bot_username.lower():
            rest = text[command.end() :].strip()
            text = f"/{command['name']} {rest}" if rest else f"/{command['name']}"
        elif in_group:
            return None  # another bot's command
    elif in_group:
        return None  # group chatter: the bot answers only commands there
    return Inbound(
        channel=TELEGRAM,
        address=str(person.id),
        text=text,
        provider_id=provider_id,
        received_at=clock.now(),
        chat_id=str(chat.id) if in_group else None,
        chat_title=chat.title if in_group else None,
        media=_media(message),
        profile_name=_full_name(person),
        language_hint=person.language_code,
        # Only a forum topic's messages name their topic for us; other threads are replies.
        thread_id=message.message_thread_id if in_group and message.is_topic_message else None,
    )


def _from_tap(tap: CallbackQuery) -> Inbound | None:
    """Read a tap on one of our buttons as the answer it stands for, typed by its presser."""
    read = buttons.read_tap(tap.data)
    chat = tap.message.chat if tap.message is not None else None
    if read is None or (chat is not None and chat.type != ChatType.PRIVATE):
        return None  # not our data (an old keyboard, a game), or a group: we ask only in private
    question_id, answer = read
    person = tap.from_user
    return Inbound(
        channel=TELEGRAM,
        address=str(person.id),
        text=answer,
        provider_id=CALLBACK_PREFIX + tap.id,
        received_at=clock.now(),
        profile_name=_full_name(person),
        language_hint=person.language_code,
        reply_to=question_id,
    )


def acknowledge(callback_id: str, question: str | None, settings: Settings) -> None:
    """Stop the tapped button's spinner and take the keyboard off the question it was on.

    Best effort: Telegram forgets a tap after some seconds, so a failure is logged, not retried.
    `question` is the provider id we stored for the question ("chat/message").
    """

    async def settle(bot: Bot) -> None:
        await bot.answer_callback_query(callback_id)
        chat_id, _, message_id = (question or "").partition("/")
        if chat_id and message_id.isdigit():
            await bot.edit_message_reply_markup(
                chat_id=int(chat_id), message_id=int(message_id), reply_markup=None
            )

    if not settings.telegram_bot_token:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            _run(settings, settle)
    except TelegramError as exc:  # a keyboard already gone, a tap too old to answer
        log.info("could not settle tap %s: %s", callback_id, exc)
    except Exception:
        log.exception("could not settle tap %s", callback_id)


def _membership_event(
    change: ChatMemberUpdated, provider_id: str, bot_id: int | None
) -> ChatEvent | None:
    """Read a change to the bot's own membership of a group."""
    if change.chat.type not in GROUP_CHATS:
        # In a private chat this is the person blocking or unblocking the bot; a send to them
        # will say so (Forbidden), which is where we stop the contact.
        return None
    if bot_id is not None and change.new_chat_member.user.id != bot_id:
        return None
    before, after = change.old_chat_member.status, change.new_chat_member.status
    if after in GONE:
        kind = "bot_removed"
    elif after in PRESENT and before not in PRESENT:
        kind = "bot_added"
    else:
        return None  # a promotion or restriction: still in the group
    return ChatEvent(
        kind=kind,
        channel=TELEGRAM,
        chat_id=str(change.chat.id),
        provider_id=provider_id,
        received_at=clock.now(),
        title=change.chat.title,
        by_address=str(change.from_user.id),
    )


def _media(message: Message) -> tuple[Media, ...]:
    """Refer to a message's attachment by file id (we do not download them), or name a shared
    location or contact by its kind only (we keep no coordinates nor anyone else's number)."""
    media = []
    if message.photo:
        # Telegram lists the same photo in several sizes, smallest first.
        largest = message.photo[-1]
        media.append(Media(url=FILE_URL_PREFIX + largest.file_id, content_type=TELEGRAM_PHOTO_TYPE))
    for kind, default_type in TELEGRAM_FILES:
        attachment = getattr(message, kind)
        if attachment is not None:
            content_type = getattr(attachment, "mime_type", None) or default_type
            media.append(Media(url=FILE_URL_PREFIX + attachment.file_id, content_type=content_type))
    for kind in TELEGRAM_SHARES:
        if getattr(message, kind) is not None:
            media.append(Media(url=FILE_URL_PREFIX + kind, content_type=kind))
    return tuple(media)


def _full_name(person: User) -> str | None:
    """The name the person shows on Telegram."""
    name = " ".join(part for part in (person.first_name, person.last_name) if part)
    return name or None


def _send(out: Outbound, chat_id: int, settings: Settings) -> SendResult:
    """Send the photo (with the text as its caption if it fits), then the text if it did not."""

    where = {"chat_id": chat_id, "message_thread_id": out.thread_id}
    markup = _keyboard(out.buttons)

    async def deliver(bot: Bot) -> Message:
        if out.photo is None:
            return await bot.send_message(text=out.body, reply_markup=markup, **where)
        if _fits_caption(out.body):
            return await bot.send_photo(
                photo=out.photo, caption=out.body or None, reply_markup=markup, **where
            )
        # Should the text then fail, a retry sends the photo again: a repeated chart is a
        # smaller harm than a lost message.
        await bot.send_photo(photo=out.photo, **where)
        return await bot.send_message(text=out.body, reply_markup=markup, **where)

    try:
        message = _run(settings, deliver)
    except RetryAfter as exc:
        return SendResult.retry(str(exc), retry_after=_seconds(exc))
    except ChatMigrated as exc:
        return SendResult.failed(f"telegram chat migrated to {exc.new_chat_id}")
    except Forbidden as exc:
        # Blocked by the person, their account deleted, or the bot removed from the group.
        return SendResult.failed(f"telegram forbidden: {exc.message}", stop_contact=True)
    except BadRequest as exc:  # a NetworkError subclass, but retrying cannot fix it
        return SendResult.failed(f"telegram bad request: {exc.message}")
    except TimedOut as exc:
        if isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout):
            return SendResult.retry(f"telegram unreachable: {exc.message}")
        # The request went out and no answer came: it may have been sent; never resend.
        return SendResult.unknown(f"telegram did not answer: {exc.message}")
    except NetworkError as exc:  # refused connections, and Telegram's own 5xx answers
        return SendResult.retry(f"telegram unreachable: {exc.message}")
    except InvalidToken as exc:
        return SendResult.failed(f"telegram rejected the bot token: {exc.message}")
    except TelegramError as exc:
        return SendResult.failed(f"telegram error: {exc.message}")
    return SendResult.sent(f"{message.chat_id}/{message.message_id}")


def _keyboard(choices: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup | None:
    """An inline keyboard of (label, callback data) pairs: short ones in a row, else stacked."""
    if not choices:
        return None
    keys = [InlineKeyboardButton(label, callback_data=data) for label, data in choices]
    short = len(keys) <= ROW_BUTTONS and all(len(k.text) <= ROW_LABEL_CHARACTERS for k in keys)
    return InlineKeyboardMarkup([keys] if short else [[key] for key in keys])


class _Session(threading.local):
    """This thread's event loop and Bot, kept between sends so that connections stay open."""

    pid: int | None = None
    loop: asyncio.AbstractEventLoop | None = None
    key: tuple[str, str, float] | None = None
    bot: Bot | None = None
    request: HTTPXRequest | None = None


_session = _Session()


def _run(settings: Settings, action: Callable[[Bot], Awaitable[T]]) -> T:
    """Run one Bot API action to completion for a synchronous caller (an RQ job, the CLI).

    Unlike asyncio.run, the loop and the Bot's HTTP connections outlive the call: a fresh loop
    per send cannot reuse a connection, and asyncio.run's SIGINT handler swap costs another
    millisecond or two; together they made sending 2-3 times slower. The Bot is never
    initialized, as that costs a getMe call and sending works without it.
    """
    session = _session
    if session.pid != os.getpid():
        # A new thread, or a forked RQ work horse whose inherited loop belongs to the parent.
        session.pid, session.loop = os.getpid(), asyncio.new_event_loop()
        session.key = session.bot = session.request = None
    key = (
        settings.telegram_bot_token,
        settings.telegram_api_base_url,
        settings.send_timeout_seconds,
    )
    if session.key != key:
        if session.request is not None:
            session.loop.run_until_complete(session.request.shutdown())
        session.request = HTTPXRequest(
            connect_timeout=settings.send_timeout_seconds,
            read_timeout=settings.send_timeout_seconds,
            write_timeout=settings.send_timeout_seconds,
            media_write_timeout=settings.send_timeout_seconds,
            httpx_kwargs={"verify": _ssl_context()},
        )
        session.bot = Bot(
            settings.telegram_bot_token,
            base_url=settings.telegram_api_base_url,
            request=session.request,
            # We never poll; sharing the request object avoids building a second HTTP client.
            get_updates_request=session.request,
        )
        session.key = key
    return session.loop.run_until_complete(action(session.bot))


@lru_cache(maxsize=1)
def _ssl_context() -> SSLContext:
    """Load the CA bundle once per process: httpx would reload it (~60 ms) for every client."""
    return httpx.create_ssl_context()


def _fits_caption(text: str) -> bool:
    """Tell whether text fits in a photo caption; Telegram counts UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2 <= MessageLimit.CAPTION_LENGTH


def _seconds(exc: RetryAfter) -> float:
    """How long Telegram asked us to wait; PTB 22 gives an int or a timedelta."""
    value = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
