"""The console's outbox: what became of every message we send, why, and sending it again."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot import outbox
from bot.db import session_scope
from bot.i18n import catalog
from bot.identity import contact_for
from models.circles import Meeting, Signup
from models.message import Message
from models.people import Person
from models.teams import GroupChat
from tests.support import world
from tests.support.console import csrf_token, operator, page_queries, sign_in

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
AMINA, BARAKA, CHEGE = "sms:+254711000001", "whatsapp:+254722000002", "sms:+254733000003"
ZAWADI = "sms:+254744000004"  # Mombasa's learner: Nakuru's operators never see her messages
TEMPLATES = Path(__file__).resolve().parent.parent / "console" / "templates" / "console"


def two_teams() -> dict[str, int]:
    """Nakuru with a circle (Amina and Baraka learn, Chege facilitates), and Mombasa with its
    own circle and learner Zawadi."""
    with session_scope() as session:
        nakuru = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+254700000001")
        mombasa = world.team(session, "Mombasa Libraries", "Africa/Nairobi", "sms:+254700000009")
        python = world.circle(session, nakuru, CHEGE, datetime(2026, 12, 1, 18, 0))
        swahili = world.circle(session, mombasa, "sms:+254700000008", datetime(2026, 12, 2, 18, 0),
                               name="Kiswahili", city="Mombasa")  # fmt: skip
        session.flush()
        for handle, circle, name in ((AMINA, python, "Amina"), (BARAKA, python, "Baraka"),
                                     (ZAWADI, swahili, "Zawadi")):  # fmt: skip
            contact = contact_for(session, *handle.split(":"))
            session.get(Person, contact.person_id).name = name
            session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                               contact_id=contact.id))  # fmt: skip
        meeting = session.execute(
            select(Meeting.id).where(Meeting.circle_id == python.id, Meeting.number == 1)
        ).scalar_one()
        return {"nakuru": nakuru.id, "mombasa": mombasa.id, "python": python.id,
                "swahili": swahili.id, "meeting": meeting}  # fmt: skip


def sent(handle: str, body: str, status: str = "sent", *, at: datetime = NOW, **fields) -> int:
    """A message to `handle` as the worker left it; its id."""
    with session_scope() as session:
        contact = contact_for(session, *handle.split(":"))
        message = Message(channel=contact.channel, contact_id=contact.id, body=body,
                          status=status, created_at=at,
                          **({"direction": "out", "purpose": "reply"} | fields))  # fmt: skip
        session.add(message)
        session.flush()
        return message.id


def many(handle: str, n: int, status: str = "sent") -> list[int]:
    """n messages to `handle`, a minute apart before NOW, inserted at once."""
    with session_scope() as session:
        contact = contact_for(session, *handle.split(":"))
        rows = [Message(direction="out", channel=contact.channel, contact_id=contact.id,
                        body=f"Message {i}", status=status, purpose="reply",
                        created_at=NOW - timedelta(minutes=n - i)) for i in range(n)]  # fmt: skip
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def status_of(message_id: int) -> str:
    with session_scope() as session:
        return session.get(Message, message_id).status


def signed_in(client, *, teams: tuple[int, ...] = (), all_teams: bool = False, language="en"):
    sign_in(client, operator("ana@library.org", teams=teams, all_teams=all_teams,
                             language=language))  # fmt: skip
    return client


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def listed(response) -> list[int]:
    """The message ids the list shows, top to bottom."""
    return [
        int(i) for i in re.findall(r'<tr data-message="(\d+)"', response.get_data(as_text=True))
    ]


def count_of(response, status: str) -> int:
    found = re.search(rf'<strong data-status="{status}">(\d+)</strong>', response.get_data(True))
    assert found, status
    return int(found.group(1))


def test_the_outbox_shows_each_message_to_whom_what_for_and_how_it_went(client):
    ids = two_teams()
    long = ("Reminder: Python meets Tuesday 18:00 at Nakuru Library, upstairs by the children's "
            "corner. Reply YES or NO")  # fmt: skip
    reminder = sent(AMINA, long, purpose="reminder", meeting_id=ids["meeting"])
    failed = sent(BARAKA, "Hello", "failed", at=NOW + timedelta(minutes=5), error="no template")
    with session_scope() as session:
        group = GroupChat(channel="telegram", chat_id="-1001", title="Nakuru organizers",
                          team_id=ids["nakuru"])  # fmt: skip
        session.add(group)
        session.flush()
        digest = Message(direction="out", channel="telegram", group_chat_id=group.id,
                         body="This week: 3 meetings", status="delivered", purpose="digest",
                         created_at=NOW + timedelta(minutes=10))  # fmt: skip
        session.add(digest)
        session.flush()
        digest_id = digest.id
    page = signed_in(client, all_teams=True).get("/outbox")
    assert page.status_code == 200
    assert listed(page) == [digest_id, failed, reminder]
    shown = text(page)
    assert "Times are in UTC" in shown
    assert "Nakuru organizers" in shown and "This week: 3 meetings" in shown
    assert f"{AMINA}" in shown and "Amina" in shown and "2026-11-22 09:00" in shown
    assert long[:80].rstrip() + "…" in shown and long not in shown  # the first 80 characters
    assert f'href="/outbox/{reminder}"' in page.get_data(as_text=True)
    assert '<div class="scroll">' in page.get_data(as_text=True)
    assert (count_of(page, "sent"), count_of(page, "failed"), count_of(page, "delivered")) == (
        1, 1, 1)  # fmt: skip


def test_the_outbox_filters_by_status_channel_purpose_and_time(client):
    two_teams()
    unknown = sent(BARAKA, "Digest", "unknown", purpose="digest", at=NOW - timedelta(days=1))
    morning = sent(AMINA, "Reminder", "failed", purpose="reminder", at=NOW)
    evening = sent(BARAKA, "Reminder", "failed", purpose="reminder", at=NOW + timedelta(hours=9))
    reply = sent(AMINA, "Thanks!", at=NOW + timedelta(days=1))
    signed_in(client, all_teams=True)
    failed = client.get("/outbox?status=failed")
    assert listed(failed) == [evening, morning]
    # The counts are the filter's, whatever the status, so the others are a click away.
    assert (count_of(failed, "failed"), count_of(failed, "sent"), count_of(failed, "unknown")) == (
        2, 1, 1)  # fmt: skip
    assert listed(client.get("/outbox?channel=whatsapp")) == [evening, unknown]
    assert listed(client.get("/outbox?purpose=reminder")) == [evening, morning]
    assert listed(client.get("/outbox?from=2026-11-22&to=2026-11-22")) == [evening, morning]
    assert listed(client.get("/outbox?from=2026-11-22T10:00")) == [reply, evening]
    assert listed(client.get("/outbox?to=2026-11-22T09:00")) == [unknown]
    combined = client.get("/outbox?status=failed&channel=sms&from=2026-11-22T00:00&to=2026-11-23")
    assert listed(combined) == [morning]
    assert 'value="2026-11-22T00:00"' in combined.get_data(as_text=True)  # the form keeps it
    # The purposes offered are those sent.
    options = re.findall(r'<option value="([a-z_]+)"', text(client.get("/outbox")))
    assert {"digest", "reminder", "reply"} <= set(options) and "report" not in options


def test_the_outbox_filters_by_team_and_circle(client):
    ids = two_teams()
    to_amina = sent(AMINA, "Welcome to Python")
    to_zawadi = sent(ZAWADI, "Karibu Kiswahili")
    about_meeting = sent("sms:+15550009999", "Meeting moved", purpose="notice",
                         meeting_id=ids["meeting"])  # fmt: skip
    signed_in(client, all_teams=True)
    assert listed(client.get("/outbox")) == [about_meeting, to_zawadi, to_amina]
    assert listed(client.get(f"/outbox?team={ids['nakuru']}")) == [about_meeting, to_amina]
    assert listed(client.get(f"/outbox?team={ids['mombasa']}")) == [to_zawadi]
    assert listed(client.get(f"/outbox?circle={ids['python']}")) == [about_meeting, to_amina]
    assert listed(client.get(f"/outbox?circle={ids['swahili']}")) == [to_zawadi]


def test_filters_the_operator_cannot_choose_are_refused_in_words(client):
    ids = two_teams()
    kept = sent(AMINA, "Hello")
    signed_in(client, teams=(ids["nakuru"],))
    for query, said in [
        ("status=lost", 'Status: "lost" is not one you can choose'),
        (f"team={ids['mombasa']}", f'Team: "{ids["mombasa"]}" is not one you can choose'),
        (f"circle={ids['swahili']}", "Circle: "),
        ("channel=fax", 'Channel: "fax" is not one you can choose'),
        ("purpose=%3Cscript%3E", 'Purpose: "<script>" is not one you can choose'),
        ("from=yesterday", 'From (UTC): "yesterday" is not a date (2026-11-22)'),
        ("to=2026-13-45", 'To (UTC): "2026-13-45" is not a date'),
        ("from=2026-11-23&to=2026-11-22", "must come after From, so both were left out"),
        ("before=abc", 'Page: "abc" is not one you can choose'),
        ("before=99999999999999999999999", 'Page: "99999999999999999999999" is not one'),
        ("to=9999-12-31", 'To (UTC): "9999-12-31" is not a date'),
    ]:
        page = client.get(f"/outbox?{query}")
        assert page.status_code == 400, query
        assert said in text(page), query
        assert listed(page) == [kept], query  # the rest of the page still works
    assert "&lt;script&gt;" in client.get("/outbox?purpose=%3Cscript%3E").get_data(as_text=True)
    # Mombasa is not even offered.
    assert "Mombasa Libraries" not in text(client.get("/outbox"))


def test_the_outbox_goes_a_hundred_at_a_time_to_older_messages(client):
    two_teams()
    ids = many(AMINA, 205)
    signed_in(client, all_teams=True)
    first = client.get("/outbox")
    assert listed(first) == ids[::-1][:100]
    older = re.search(r'href="([^"]+)" rel="next"', first.get_data(as_text=True)).group(1)
    assert older == f"/outbox?before={ids[105]}"
    second = client.get(html.unescape(older))
    assert listed(second) == ids[::-1][100:200]
    third = client.get(f"/outbox?before={ids[5]}")
    assert listed(third) == ids[4::-1]
    assert 'rel="next"' not in third.get_data(as_text=True)
    # The filter goes along with the page.
    filtered = client.get("/outbox?status=sent&channel=sms")
    assert "/outbox?status=sent&amp;channel=sms&amp;before=" in filtered.get_data(as_text=True)
    assert count_of(first, "sent") == 205  # all of them, not the page's


def test_the_list_costs_the_same_queries_for_ten_messages_or_two_hundred(client):
    ids = two_teams()
    signed_in(client, teams=(ids["nakuru"],))
    many(AMINA, 5)
    many(BARAKA, 5)
    ten = page_queries(client, "/outbox")
    filtered_ten = page_queries(client, f"/outbox?circle={ids['python']}&status=sent")
    many(AMINA, 95)
    many(BARAKA, 95)
    assert len(listed(client.get("/outbox"))) == 100
    assert page_queries(client, "/outbox") == ten
    assert page_queries(client, f"/outbox?circle={ids['python']}&status=sent") == filtered_ten


def test_a_message_in_full_with_its_sms_cost_buttons_and_meeting(client):
    ids = two_teams()
    body = "Python on Tuesday? <b>Reply</b> YES or NO 🙂"
    reminder = sent(AMINA, body, purpose="reminder", meeting_id=ids["meeting"], attempts=2,
                    provider_id="SM123", sent_at=NOW + timedelta(seconds=3),
                    buttons={"options": [{"label": "Yes", "answer": "YES"},
                                         {"label": "No", "answer": "NO"}]})  # fmt: skip
    page = signed_in(client, all_teams=True).get(f"/outbox/{reminder}")
    assert page.status_code == 200
    raw = page.get_data(as_text=True)
    assert "&lt;b&gt;Reply&lt;/b&gt;" in raw and "<b>Reply</b>" not in raw  # escaped
    shown = text(page)
    assert "1 SMS segment(s), UCS-2." in shown  # the emoji: 70 characters a segment
    assert "Buttons:" in shown and ">Yes<" in raw and ">No<" in raw
    assert "SM123" in shown and "2026-11-22 09:00 UTC" in shown and "2026-11-22 09:00 UTC" in shown
    assert "Meeting 1, 2026-12-01 15:00 UTC" in shown  # 18:00 in Nairobi
    assert "Python, Nakuru" in shown and "Nakuru Libraries" in shown
    assert f"{AMINA} (Amina)" in shown
    long = sent(AMINA, "x" * 161)
    assert "2 SMS segment(s), GSM-7." in text(client.get(f"/outbox/{long}"))
    # A sent message is not sent again: no button.
    assert "Send again" not in shown


def test_a_whatsapp_message_outside_the_window_says_which_template_is_missing(
    client, twilio_api, run_jobs
):
    two_teams()
    with session_scope() as session:
        contact = contact_for(session, *BARAKA.split(":"))
        queued = outbox.to_contact(session, contact, "Python meets Tuesday", purpose="reminder")
    run_jobs()
    assert status_of(queued.id) == "failed"
    page = text(signed_in(client, all_teams=True).get(f"/outbox/{queued.id}"))
    assert (
        "Outside WhatsApp's 24-hour window a template is needed: set TWILIO_WHATSAPP_TEMPLATES "
        "for this purpose (reminder), then send it again." in page
    )
    confirm = text(client.get(f"/outbox/{queued.id}/resend"))
    assert "There is still no template for reminder" in confirm
    # Twilio's own refusal (63016) reads the same.
    twilio_api.fail_next(status=400, code=63016)
    with session_scope() as session:
        contact = contact_for(session, *BARAKA.split(":"))
        contact.last_inbound_at = datetime.now(UTC)
        again = outbox.to_contact(session, contact, "Thanks!")
    run_jobs()
    refused = text(client.get(f"/outbox/{again.id}"))
    assert "twilio 63016 (HTTP 400)" in refused
    assert "for this purpose (reply)" in refused


def test_a_message_to_someone_who_stopped_says_when_and_how_they_resume(client, run_jobs):
    two_teams()
    with session_scope() as session:
        contact = contact_for(session, *AMINA.split(":"))
        contact.opted_out_at = NOW - timedelta(days=2)
        queued = outbox.to_contact(session, contact, "Python meets Tuesday", purpose="reminder")
    run_jobs()
    assert status_of(queued.id) == "suppressed"
    page = text(signed_in(client, all_teams=True).get(f"/outbox/{queued.id}"))
    assert "Not sent: the person had stopped messages before it went out." in page
    assert ("This person sent STOP on 2026-11-20 09:00 UTC: nothing goes to them until they "
            "send START.") in page  # fmt: skip
    assert "Send again" not in page


def test_an_unknown_message_is_explained_and_its_resend_warns_of_doubles(client):
    two_teams()
    unknown = sent(AMINA, "Reminder", "unknown", attempts=1,
                   error="the worker stopped during the send; not resent")  # fmt: skip
    undelivered = sent(AMINA, "Reminder", "undelivered", error="30003")
    page = text(signed_in(client, all_teams=True).get(f"/outbox/{unknown}"))
    assert ("The worker stopped during the send: it may or may not have arrived. It is never "
            "resent automatically.") in page  # fmt: skip
    assert "Send again" in page
    confirm = client.get(f"/outbox/{unknown}/resend")
    assert "It may have arrived already: the person could get it twice." in text(confirm)
    assert 'name="csrf_token"' in confirm.get_data(as_text=True)
    failed = text(client.get(f"/outbox/{undelivered}"))
    assert "It did not reach the person. What was said: 30003" in failed
    assert "could get it twice" not in text(client.get(f"/outbox/{undelivered}/resend"))
    retry = sent(AMINA, "Reminder", "retry", error="twilio 20429 (HTTP 429): slow down",
                 next_attempt_at=NOW + timedelta(minutes=2))  # fmt: skip
    waiting = text(client.get(f"/outbox/{retry}"))
    assert "The provider could not take it yet: the next try is at 2026-11-22 09:02 UTC." in waiting
    assert "Send again" not in waiting


def test_resend_queues_it_again_and_the_worker_sends_it_once(client, twilio_api, run_jobs):
    two_teams()
    missed = sent(AMINA, "Reminder: Python", "failed", error="twilio 20500 (HTTP 500): down")
    detail = signed_in(client, all_teams=True).get(f"/outbox/{missed}")
    assert f'action="/outbox/{missed}/resend"' in detail.get_data(as_text=True)
    confirm = client.get(f"/outbox/{missed}/resend")
    done = client.post(f"/outbox/{missed}/resend", data={"csrf_token": csrf_token(confirm)})
    assert (done.status_code, done.headers["Location"]) == (302, f"/outbox/{missed}")
    assert status_of(missed) == "queued"
    told = text(client.get(f"/outbox/{missed}"))
    assert "Queued again: a worker sends it in a moment." in told
    run_jobs()
    assert twilio_api.to("+254711000001") == ["Reminder: Python"]
    page = text(client.get(f"/outbox/{missed}"))
    assert "Queued again" not in page  # said once
    assert status_of(missed) == "sent"
    assert "<h2>sent</h2>" in page and "Send again" not in page
    # Pressing again, from the old confirmation page, sends nothing more.
    twice = client.post(f"/outbox/{missed}/resend", data={"csrf_token": csrf_token(confirm)})
    assert twice.status_code == 409
    assert "This message cannot be sent again" in text(twice)
    run_jobs()
    assert len(twilio_api.sent) == 1


def test_resend_to_someone_who_stopped_says_it_will_not_reach_them(client, twilio_api, run_jobs):
    two_teams()
    missed = sent(AMINA, "Reminder: Python", "failed", error="provider down")
    with session_scope() as session:
        contact_for(session, *AMINA.split(":")).opted_out_at = NOW
    confirm = signed_in(client, all_teams=True).get(f"/outbox/{missed}/resend")
    assert "This person sent STOP on 2026-11-22 09:00 UTC: they will not get it" in text(confirm)
    client.post(f"/outbox/{missed}/resend", data={"csrf_token": csrf_token(confirm)})
    assert "this person has stopped messages: it will not reach them" in text(
        client.get(f"/outbox/{missed}")
    )
    run_jobs()
    assert twilio_api.sent == []
    assert status_of(missed) == "suppressed"


def test_what_is_not_missed_cannot_be_sent_again(client, run_jobs):
    two_teams()
    delivered = sent(AMINA, "Thanks!", "delivered")
    queued = sent(AMINA, "Soon", "queued")
    signed_in(client, all_teams=True)
    for message_id, status in ((delivered, "delivered"), (queued, "queued")):
        assert "Send again" not in text(client.get(f"/outbox/{message_id}"))
        confirm = client.get(f"/outbox/{message_id}/resend")
        assert confirm.status_code == 409
        refused = client.post(f"/outbox/{message_id}/resend",
                              data={"csrf_token": csrf_token(client.get("/outbox"))})  # fmt: skip
        assert refused.status_code == 409
        assert (
            f"Only failed, unknown or undelivered messages can be sent again. This one is {status}."
            in text(refused)
        )
        assert status_of(message_id) == status


def test_an_operator_of_one_team_never_sees_anothers_messages(client):
    ids = two_teams()
    ours = sent(AMINA, "Welcome to Python")
    theirs = sent(ZAWADI, "Karibu Kiswahili", "failed", error="provider down")
    signed_in(client, teams=(ids["nakuru"],))
    page = client.get("/outbox")
    assert listed(page) == [ours]
    assert "Karibu" not in text(page) and count_of(page, "failed") == 0
    assert listed(client.get("/outbox?status=failed")) == []
    hidden = client.get(f"/outbox/{theirs}")
    assert hidden.status_code == 404
    # The same page as a missing one (but for the page's own address in the language link).
    missing = text(client.get("/outbox/999999")).replace("/outbox/999999", f"/outbox/{theirs}")
    assert missing == text(hidden)
    assert client.get(f"/outbox/{2**64}").status_code == 404
    assert client.get(f"/outbox/{theirs}/resend").status_code == 404
    refused = client.post(f"/outbox/{theirs}/resend", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 404
    assert status_of(theirs) == "failed"
    # Inbound messages are not the outbox's.
    inbound = sent(AMINA, "YES", "handled", direction="in")
    assert client.get(f"/outbox/{inbound}").status_code == 404


def test_signed_out_the_outbox_asks_to_sign_in_and_a_post_needs_its_token(client):
    two_teams()
    missed = sent(AMINA, "Reminder", "failed")
    for path in ("/outbox", f"/outbox/{missed}", f"/outbox/{missed}/resend"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in?next=/outbox")
    signed_in(client, all_teams=True)
    refused = client.post(f"/outbox/{missed}/resend")
    assert refused.status_code == 400
    assert "This form has expired" in text(refused)
    assert status_of(missed) == "failed"


def test_the_outbox_in_swahili(client):
    two_teams()
    unknown = sent(AMINA, "Kikumbusho", "unknown")
    signed_in(client, all_teams=True)
    page = text(client.get("/outbox?lang=sw"))
    assert "Saa ziko kwa UTC" in page and "Madhumuni" in page and "haijulikani" in page
    detail = text(client.get(f"/outbox/{unknown}"))  # the choice stays for the session
    assert "huenda ulifika au haukufika" in detail and "Tuma tena" in detail
    assert "It is never resent" not in detail


def test_every_text_the_outbox_pages_name_is_in_both_catalogs(app):
    used = set()
    for template in TEMPLATES.glob("outbox*.html"):
        used |= set(re.findall(r'_\("(console\.[a-z_]*[a-z])"', template.read_text()))
    source = (TEMPLATES.parent.parent / "outbox.py").read_text()
    used |= set(re.findall(r'"(console\.[a-z_]*[a-z])"', source)) - set(app.view_functions)
    assert len(used) > 40
    for language in ("en", "sw"):
        assert used - set(catalog(language)) == set(), language
