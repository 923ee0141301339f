"""Africa's Talking's delivery reports: applied at once, or again a little later when one beats
our own record of the send (its delivery URL is one for the whole account, so unlike Twilio's it
cannot carry our message id)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from bot import queue
from bot.channels import africastalking
from bot.channels.base import SMS
from bot.clock import now
from bot.db import session_scope
from models.message import FINAL, OUT, Message
from models.people import Contact

log = logging.getLogger(__name__)

# A batch records what it sent a chunk (about five seconds) after sending it; a report for a
# row that still has no provider id is tried again after each of these.
EARLY_REPORT_DELAYS = (timedelta(seconds=10), timedelta(seconds=30), timedelta(minutes=2))
APPLY_AFRICASTALKING = "jobs.delivery.apply_africastalking"


def apply_africastalking(form: dict[str, str], attempt: int = 0) -> None:
    """Apply one delivery report: final states never move back, and an opt-out from our
    shortcode stops the contact; a report for a row we cannot find yet is tried again."""
    status = africastalking.parse_delivery(form)
    if status is None:
        return
    ours = (
        (Message.direction == OUT)
        & (Message.channel == SMS)
        & (Message.provider_id == status.provider_id)
    )
    with session_scope() as session:
        if session.execute(select(Message.id).where(ours).limit(1)).scalar() is None:
            _try_later(form, attempt)
            return
        session.execute(
            update(Message)
            .where(ours, Message.status.not_in(FINAL))
            .values(status=status.status, error=status.error)
        )
        if africastalking.stops_contact(form):
            session.execute(
                update(Contact)
                .where(
                    Contact.id == select(Message.contact_id).where(ours).scalar_subquery(),
                    Contact.opted_out_at.is_(None),
                )
                .values(opted_out_at=now())
            )


def _try_later(form: dict[str, str], attempt: int) -> None:
    if attempt >= len(EARLY_REPORT_DELAYS):
        log.info("delivery report for %s matches none of our messages", form.get("id"))
        return
    try:
        queue.queue(queue.DEFAULT).enqueue_in(
            EARLY_REPORT_DELAYS[attempt], APPLY_AFRICASTALKING, form, attempt + 1
        )
    except Exception:  # a report is worth less than the webhook's answer
        log.warning("could not schedule delivery report %s again", form.get("id"))
