"""Send one outbound message: claim it, re-check opt-out, pick its form, send, record."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from types import ModuleType

from sqlalchemy import or_, select, update

from bot import buttons, clock, outbox, queue, throttle
from bot.channels import sender_for, simulator, sms_provider
from bot.channels.base import (
    AFRICASTALKING,
    SMS,
    TELEGRAM,
    TWILIO,
    WHATSAPP,
    Outbound,
    SendResult,
)
from bot.clock import now
from bot.config import Settings, get_settings
from bot.db import session_scope
from models.message import (
    FAILED,
    OUT,
    RETRY,
    SENDABLE,
    SENDING,
    SENT,
    SUPPRESSED,
    UNKNOWN,
    Message,
)
from models.people import Contact
from models.teams import GroupChat

log = logging.getLogger(__name__)

# WhatsApp lets a business write freely only within 24 hours of the person's last message.
WHATSAPP_WINDOW = timedelta(hours=24)
# WhatsApp refuses template variables with newlines, tabs or more than four spaces in a row.
_TEMPLATE_WHITESPACE = re.compile(r"\s*\n\s*|\t| {4,}")
# A quick-reply template's text holds 1,024 characters; a longer question goes as plain text.
QUICK_REPLY_BODY = 1024
FIRST_BACKOFF_SECONDS = 15
MAX_BACKOFF_SECONDS = 30 * 60
# A reply echoes the linkId of the person's last message only when it was queued after that
# message and within this time of it: a reply is queued within seconds of what it answers (its
# retries keep the time it was queued), so a reply queued later answers something else.
LINK_ID_WINDOW = timedelta(hours=1)


def run(message_id: int) -> None:
    """Send the message once; a second run finds it claimed or final and does nothing."""
    settings = get_settings()
    with session_scope() as session:
        # The contact and group come with the row: an SMS's sender, and so its rate, depend on
        # them, and a simulated one's messages go to the simulator.
        found = session.execute(
            select(Message, Contact, GroupChat)
            .outerjoin(Contact, Contact.id == Message.contact_id)
            .outerjoin(GroupChat, GroupChat.id == Message.group_chat_id)
            .where(Message.id == message_id)
        ).first()
        if found is None:
            return
        message, contact, group = found
        if message.direction != OUT or message.status not in SENDABLE:
            return
        if message.next_attempt_at and message.next_attempt_at > clock.real():
            return  # its retry time has not come; the scheduler or tick brings it back
        limits = buckets(message, contact, settings, group)
    for bucket, per_second in limits:
        if not throttle.take(bucket, per_second):
            return  # a long backlog on this sender: the row stays due and tick re-enqueues it

    with session_scope() as session:
        if not _claim(session, message_id):
            return
        message = session.get(Message, message_id)
        contact = session.get(Contact, message.contact_id) if message.contact_id else None
        if contact and contact.opted_out_at and message.purpose != outbox.STOP_CONFIRMATION:
            message.status, message.error = SUPPRESSED, "the contact stopped messages"
            return
        group = session.get(GroupChat, message.group_chat_id) if message.group_chat_id else None
        prepared, problem = outbound(message, contact, group, settings)
        sender, unconfigured = sender_of(message, contact, settings, group)
        problem = problem or unconfigured
        if problem:
            message.status, message.error = FAILED, problem
            log.warning("message %s not sent: %s", message_id, problem)
            return
        message.template = prepared.template_sid

    result = sender.send(prepared, settings)
    record(message_id, result, settings)


def provider(message: Message, contact: Contact | None, settings: Settings) -> str | None:
    """The provider that carries this message: for SMS the contact's route, else the channel's
    one; None for an SMS that no route takes."""
    if message.channel != SMS:
        return TWILIO if message.channel == WHATSAPP else message.channel
    return sms_provider(contact.address, contact.last_provider, settings) if contact else None


def sender_of(
    message: Message, contact: Contact | None, settings: Settings, group: GroupChat | None = None
) -> tuple[ModuleType | None, str | None]:
    """The module that sends this message, or None and why it cannot be sent."""
    if simulator.is_simulated(contact, group):
        # Whatever the outbox or the credentials: a made-up person never reaches a phone.
        return simulator, None
    carrier = provider(message, contact, settings)
    sender = sender_for(message.channel, settings, carrier)
    if sender is not None:
        return sender, None
    if message.channel != SMS:
        return None, f"{message.channel} is not configured"
    if carrier is None:
        return None, "no SMS_ROUTES entry takes this number"
    return None, f"sms through {carrier} is not configured"


def buckets(
    message: Message, contact: Contact | None, settings: Settings, group: GroupChat | None = None
) -> list[tuple[str, float]]:
    """The rate limits this send counts against."""
    if simulator.is_simulated(contact, group):
        return [(simulator.BUCKET, simulator.RATE_PER_SECOND)]
    if message.channel == TELEGRAM:
        buckets = [("telegram", settings.telegram_rate_per_second)]
        if message.group_chat_id:
            per_second = settings.telegram_group_rate_per_minute / 60
            buckets.append((f"telegram-group:{message.group_chat_id}", per_second))
        return buckets
    if message.channel == SMS and provider(message, contact, settings) == AFRICASTALKING:
        shortcode = settings.africastalking_shortcode or message.channel
        return [(f"africastalking:{shortcode}", settings.africastalking_rate_per_second)]
    if message.channel == WHATSAPP:
        sender = settings.twilio_whatsapp_from or message.channel
        return [(f"twilio:{sender}", settings.whatsapp_rate_per_second)]
    return [(f"twilio:{settings.twilio_sms_from or message.channel}", settings.sms_rate_per_second)]


def _claim(session, message_id: int) -> bool:
    """Move the row from queued/retry to sending; only one claimer can win."""
    # Claims and retries are the machinery's, on the machine's clock: a chat at a simulated
    # instant must not make a send look stale, nor a retry wait for a day that is not here.
    at = clock.real()
    result = session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.status.in_(SENDABLE),
            or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= at),
        )
        .values(status=SENDING, claimed_at=at, attempts=Message.attempts + 1)
    )
    session.flush()
    return result.rowcount == 1


def fail(message_id: int, problem: str) -> None:
    """Record that a claimed message cannot be sent, and why."""
    with session_scope() as session:
        session.execute(
            update(Message)
            .where(Message.id == message_id, Message.status == SENDING)
            .values(status=FAILED, error=problem[:500])
        )
    log.warning("message %s not sent: %s", message_id, problem)


def _chart(message: Message) -> bytes | None:
    """The chart a message carries, drawn now, where the channel shows images (Telegram)."""
    spec = next((item["chart"] for item in message.media if "chart" in item), None)
    if spec is None or message.channel != TELEGRAM:
        return None
    from bot.chart import attendance_png  # matplotlib loads only in workers that draw

    return attendance_png(spec)


def outbound(
    message: Message, contact: Contact | None, group: GroupChat | None, settings: Settings
) -> tuple[Outbound | None, str | None]:
    """Build what the channel sends, or say why it cannot be sent."""
    to = group.chat_id if group else contact.address if contact else None
    if to is None:
        return None, "no recipient"
    template_sid, template_vars, taps = None, {}, ()
    options = buttons.options(message.buttons) if contact is not None else []
    if message.channel == TELEGRAM and options:
        taps = tuple((o["label"], buttons.tap_data(message.id, o["answer"])) for o in options)
    if message.channel == WHATSAPP and _outside_window(contact):
        template_sid = settings.twilio_whatsapp_templates.get(message.purpose)
        if template_sid is None:
            return None, (
                f"outside WhatsApp's 24-hour window and no template for {message.purpose!r}"
            )
        # Our templates carry the whole text as their one variable.
        template_vars = {"1": _TEMPLATE_WHITESPACE.sub(" / ", message.body).strip(" /")}
    elif message.channel == WHATSAPP and options and len(message.body) <= QUICK_REPLY_BODY:
        template_sid = settings.twilio_whatsapp_quick_replies.get(str(len(options)))
        if template_sid:
            template_vars = quick_reply_variables(message, options)
    callback, link_id = None, None
    carrier = provider(message, contact, settings)
    if carrier == TWILIO:
        # Our id in the URL lets a callback that beats our own record still find the row.
        base = settings.public_base_url.rstrip("/")
        callback = f"{base}/webhooks/twilio/status?m={message.id}"
    elif carrier == AFRICASTALKING:
        # Its delivery reports go to the one URL set in its dashboard, whatever we send.
        link_id = _answered_link_id(message, contact)
    return (
        Outbound(
            message_id=message.id,
            channel=message.channel,
            to=to,
            body=message.body,
            photo=_chart(message),
            template_sid=template_sid,
            template_vars=template_vars,
            status_callback=callback,
            buttons=taps,
            thread_id=message.thread_id,
            link_id=link_id,
        ),
        None,
    )


def _answered_link_id(message: Message, contact: Contact) -> str | None:
    """The linkId of the person's last message, when this is our reply to that message."""
    if not (contact.last_link_id and contact.last_inbound_at):
        return None
    if message.purpose not in outbox.REPLY_PURPOSES:
        return None  # a reminder or notice answers nothing the person sent
    since = message.created_at - contact.last_inbound_at
    return contact.last_link_id if timedelta(0) <= since <= LINK_ID_WINDOW else None


def quick_reply_variables(message: Message, options: list[dict[str, str]]) -> dict[str, str]:
    """Fill a quick-reply template: {{1}} the text, then each button's title and id in turn
    ({{2}} and {{3}} for the first, {{4}} and {{5}} for the second, …)."""
    variables = {"1": message.body}
    for n, option in enumerate(options):
        variables[str(2 + 2 * n)] = buttons.whatsapp_label(option["label"])
        variables[str(3 + 2 * n)] = buttons.tap_data(message.id, option["answer"])
    return variables


def _outside_window(contact: Contact | None) -> bool:
    last = contact.last_inbound_at if contact else None
    return last is None or now() - last > WHATSAPP_WINDOW


def record(message_id: int, result: SendResult, settings: Settings) -> None:
    """Write what the provider said; schedule the next attempt of a retryable failure."""
    retry_at = None
    with session_scope() as session:
        message = session.get(Message, message_id)
        if result.outcome == "sent":
            message.provider_id, message.sent_at, message.error = result.provider_id, now(), None
            if message.status == SENDING:  # a delivery callback may already have moved it on
                message.status = SENT
            return
        if message.status != SENDING:
            return  # a callback already settled it
        message.error = result.error
        if result.outcome == "unknown":
            message.status = UNKNOWN
            log.warning("message %s may or may not have gone out: %s", message_id, result.error)
        elif result.outcome == "retry" and message.attempts < settings.max_send_attempts:
            delay = result.retry_after or min(
                FIRST_BACKOFF_SECONDS * 2 ** (message.attempts - 1), MAX_BACKOFF_SECONDS
            )
            retry_at = clock.real() + timedelta(seconds=delay)
            message.status, message.next_attempt_at = RETRY, retry_at
            attempts = message.attempts
        else:
            message.status = FAILED
            log.warning("message %s failed: %s", message_id, result.error)
            if result.stop_contact and message.contact_id:
                contact = session.get(Contact, message.contact_id)
                contact.opted_out_at = contact.opted_out_at or now()
    if retry_at is not None:
        try:
            queue.queue(queue.DEFAULT).enqueue_at(
                retry_at,
                queue.SEND_MESSAGE,
                message_id,
                job_id=outbox.send_job_id(message_id, attempts),
            )
        except Exception:  # tick finds due retries too
            log.warning("could not schedule retry of message %s", message_id)
