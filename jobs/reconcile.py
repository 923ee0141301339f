"""Insert the SMS and WhatsApp messages the providers got while our webhooks could not store
them, read from each provider's own list, deduplicated on the provider id like a webhook."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import clock, queue, webhooks
from bot.channels import africastalking, twilio
from bot.channels.base import AFRICASTALKING, TWILIO, Inbound
from bot.config import get_settings

log = logging.getLogger(__name__)

# Twilio calls our webhook once (and the fallback URL once); what both missed stays in its list.
# The tick looks this far back every RECONCILE_EVERY, so each message gets three chances.
WINDOW = timedelta(minutes=30)
RECONCILE_EVERY = timedelta(minutes=10)
# Set while the last tick's run is recent; it expires on Redis's own clock, which no simulated
# instant moves and every clock process shares, so one tick in ten minutes wins.
RECENT_RUN = "circlebot:reconcile:recent"
# Set by the first tick after Redis was emptied (a fresh deployment, a flush): that tick only
# starts the ten minutes, so a process that merely starts asks no provider anything.
STARTED = "circlebot:reconcile:started"
# Where the next run continues Africa's Talking's fetch from: the id of the last message read.
LAST_RECEIVED_ID = "circlebot:reconcile:africastalking:last_received_id"


def run(since: datetime | None = None) -> dict:
    """Store, in arrival order, what people sent since then (default: the last half hour) that
    we do not have, and queue its handling; return what each provider listed and what was new."""
    settings = get_settings()
    # The providers' lists hold what really arrived: a tick at a simulated instant still asks
    # about the machine's last half hour.
    window_start = clock.aware(since) if since else clock.real() - WINDOW
    counts = {TWILIO: 0, AFRICASTALKING: 0, "inserted": 0, "errors": 0}
    received: list[Inbound] = []
    if settings.twilio_account_sid and settings.twilio_auth_token:
        try:
            listed = twilio.received_since(settings, window_start)
        except Exception:  # its outage must not stop the other provider or the tick
            log.exception("could not list the messages Twilio received")
            counts["errors"] += 1
        else:
            counts[TWILIO] = len(listed)
            received += listed
    fetched: list[Inbound] = []
    if settings.africastalking_username and settings.africastalking_api_key:
        # Its list goes by id, not by time: what precedes the last id a run stored was stored
        # then, whatever --since says.
        cursor = _last_received_id()
        try:
            fetched = africastalking.received_after(settings, cursor)
        except Exception:
            log.exception("could not fetch the messages Africa's Talking received")
            counts["errors"] += 1
        counts[AFRICASTALKING] = len(fetched)
        # Read from the start, its list reaches back to the account's first message: only the
        # window is ours to answer.
        received += fetched if cursor else [m for m in fetched if m.received_at >= window_start]
    contacts = []
    for inbound in sorted(received, key=lambda m: m.received_at):
        contact_id = webhooks.record(inbound)
        if contact_id is not None:
            counts["inserted"] += 1
            if contact_id not in contacts:
                contacts.append(contact_id)
    for contact_id in contacts:
        webhooks._enqueue(contact_id)
    if fetched:
        # Only once stored: a run that failed to store them reads them again.
        _remember(fetched[-1].provider_id)
    if counts["inserted"]:
        log.warning("reconciliation stored %s messages our webhooks missed", counts["inserted"])
    return counts


def sweep(session: Session, at: datetime, queued: Counter) -> None:
    """Every ten minutes, store what the SMS and WhatsApp providers got and we missed."""
    settings = get_settings()
    if not (
        settings.twilio_account_sid
        and settings.twilio_auth_token
        or settings.africastalking_username
        and settings.africastalking_api_key
    ):
        return  # nothing to ask: not even Redis
    redis = queue.connection()
    if not redis.set(RECENT_RUN, "1", nx=True, ex=int(RECONCILE_EVERY.total_seconds())):
        return
    if redis.set(STARTED, "1", nx=True):
        return
    counts = run()
    if counts["inserted"]:
        queued["reconciled:inbound"] += counts["inserted"]
    if counts["errors"]:
        queued["failed:reconcile"] += counts["errors"]


def _last_received_id() -> str | None:
    found = queue.connection().get(LAST_RECEIVED_ID)
    return found.decode() if found else None


def _remember(last_received_id: str) -> None:
    queue.connection().set(LAST_RECEIVED_ID, last_received_id)
