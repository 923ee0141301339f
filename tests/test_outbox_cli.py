"""`flask outbox`: operators see who missed out and why, and send again only after saying so."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.clock import now
from bot.db import session_scope
from bot.identity import contact_for
from models.message import Message
from models.people import Person

TO_AMINA, TO_BRIAN = "sms:+254711000001", "whatsapp:+254722000002"


def outbound(handle: str, body: str, status: str, error: str | None, **fields) -> int:
    """A message to `handle` that ended in `status`, as a worker would have left it."""
    with session_scope() as session:
        contact = contact_for(session, *handle.split(":"))
        session.get(Person, contact.person_id).name = handle.split(":")[1][-4:]
        contact.last_inbound_at = now()
        message = Message(direction="out", channel=contact.channel, contact_id=contact.id,
                          body=body, purpose="reminder", status=status, error=error,
                          attempts=1, **fields)  # fmt: skip
        session.add(message)
        session.flush()
        return message.id


def status_of(message_id: int) -> str:
    with session_scope() as session:
        return session.get(Message, message_id).status


def test_outbox_list_names_who_missed_out_and_why(cli):
    failed = outbound(TO_BRIAN, "Reminder: Python", "failed",
                      "outside WhatsApp's 24-hour window and no template for 'reminder'")  # fmt: skip
    unknown = outbound(TO_AMINA, "Reminder: Python", "unknown",
                       "the worker stopped during the send; not resent", provider_id=None)  # fmt: skip
    outbound(TO_AMINA, "Thanks!", "sent", None)
    listed = json.loads(cli("outbox", "list", "--json").stdout)["messages"]
    assert [(m["id"], m["status"], m["to"], m["name"]) for m in listed] == [
        (unknown, "unknown", TO_AMINA, "0001"),
        (failed, "failed", TO_BRIAN, "0002"),
    ]
    assert listed[1]["error"].startswith("outside WhatsApp's 24-hour window")
    assert listed[1]["purpose"] == "reminder"
    text = cli("outbox", "list").stdout
    assert f"#{failed} failed" in text and f"{TO_BRIAN} (0002) reminder: outside WhatsApp" in text


def test_outbox_list_filters_by_status_and_time(cli):
    old = outbound(TO_AMINA, "Old news", "failed", "carrier said no",
                   created_at=now() - timedelta(days=3))  # fmt: skip
    recent = outbound(TO_AMINA, "New news", "failed", "carrier said no")
    outbound(TO_AMINA, "Delivered", "delivered", None)
    since = (now() - timedelta(days=1)).isoformat()
    listed = json.loads(cli("outbox", "list", "--since", since, "--json").stdout)["messages"]
    assert [m["id"] for m in listed] == [recent]
    delivered = json.loads(cli("outbox", "list", "--status", "delivered", "--json").stdout)
    assert [m["body"] for m in delivered["messages"]] == ["Delivered"]
    assert old not in [m["id"] for m in delivered["messages"]]
    assert cli("outbox", "list", "--status", "retry").stdout.strip() == "no retry messages"


def test_resend_asks_first_and_a_no_changes_nothing(cli, twilio_api, run_jobs):
    message_id = outbound(TO_AMINA, "Reminder: Python", "unknown", "the worker stopped")
    answer = cli("outbox", "resend", str(message_id), input="n\n", ok=False)
    assert answer.exit_code == 1
    assert "they would get it twice" in answer.stderr
    run_jobs()
    assert status_of(message_id) == "unknown"
    assert twilio_api.sent == []


def test_resend_sends_once_and_leaves_what_is_not_missed(cli, twilio_api, run_jobs):
    missed = outbound(TO_AMINA, "Reminder: Python", "failed", "provider down")
    delivered = outbound(TO_AMINA, "Thanks!", "delivered", None)
    result = cli("outbox", "resend", str(missed), str(delivered), "--json", input="y\n")
    assert json.loads(result.stdout) == {"resent": [missed], "left": [delivered]}
    run_jobs()
    assert twilio_api.to("+254711000001") == ["Reminder: Python"]
    assert status_of(missed) == "sent"
    # Asking again for a message that has now gone does nothing.
    again = json.loads(cli("outbox", "resend", str(missed), "--yes", "--json").stdout)
    assert again == {"resent": [], "left": [missed]}
    run_jobs()
    assert len(twilio_api.sent) == 1


def test_a_resent_message_still_never_reaches_someone_who_stopped(cli, twilio_api, run_jobs):
    missed = outbound(TO_AMINA, "Reminder: Python", "failed", "provider down")
    with session_scope() as session:
        contact_for(session, "sms", "+254711000001").opted_out_at = now()
    cli("outbox", "resend", str(missed), "--yes")
    run_jobs()
    assert twilio_api.sent == []
    assert status_of(missed) == "suppressed"
