"""The console's simulator: a newcomer joins a circle, gets a reminder and answers it in the
browser, as a made-up person whose messages never reach a provider; real people and the
sandbox never meet."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from bot.config import use_settings
from bot.db import session_scope
from jobs import tick
from models.circles import Circle
from models.message import IN, OUT, Message
from models.people import Contact
from models.teams import GroupChat, Team
from tests.support import world
from tests.support.console import csrf_token, operator, sign_in

NOW = datetime.fromisoformat("2026-11-22T09:00:00+00:00")
NEWCOMER = {"kind": "sms", "address": "+12025550100"}
BUBBLE = re.compile(
    r'<div class="bubble (in|out)" id="m\d+" data-status="(\w+)">(.*?)<span class="meta">(.*?)'
    r"</span></div>",
    re.S,
)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def console_outbox(app, settings):
    """An install that prints instead of sending (`make run`), Twilio's credentials set all
    the same."""
    use_settings(settings.model_copy(update={"outbox": "console"}))


@pytest.fixture
def ana(client):
    """The test client, signed in as an operator who sees every team."""
    sign_in(client, operator("ana@library.org", all_teams=True))
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def plain(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup)).strip()


def bubbles(page) -> list[tuple[str, str, str, str]]:
    """The conversation as the page shows it: (in/out, status, text, the line under it)."""
    return [
        (way, status, plain(body), plain(meta))
        for way, status, body, meta in BUBBLE.findall(text(page))
    ]


def last_reply(page) -> str:
    replies = [body for way, _, body, _ in bubbles(page) if way == "out"]
    assert replies, text(page)
    return replies[-1]


def notices(page) -> list[str]:
    return [plain(n) for n in re.findall(r'<p class="notice" role="status">(.*?)</p>', text(page))]


def now_shown(page) -> str:
    return plain(re.search(r'<strong id="now">(.*?)</strong>', text(page))[1])


def open_page(client, **who):
    page = client.get("/simulator", query_string=who)
    assert page.status_code == 200
    return page


def post(client, path: str, who: dict, **form):
    """Post a form of the simulator page as the browser would, and follow the redirect."""
    token = csrf_token(open_page(client, **who))
    response = client.post(path, data=who | form | {"csrf_token": token})
    assert response.status_code == 302, text(response)
    return client.get(response.headers["Location"])


def say(client, message: str, who: dict = NEWCOMER):
    return post(client, "/simulator/say", who, text=message)


def join_code(page) -> str:
    found = re.search(r"Sandbox Circle: JOIN ([A-Z0-9]+)", text(page))
    assert found, text(page)
    return found.group(1)


def join(client, who: dict, code: str, name: str = "Amina"):
    say(client, f"JOIN {code}", who)
    say(client, name, who)
    say(client, "Learn with others", who)
    return say(client, "YES", who)


def test_a_newcomer_joins_gets_the_reminder_and_answers_it_in_the_browser(
    ana, console_outbox, run_jobs, provider_http, fake_telegram
):
    first = open_page(ana)
    assert "Simulator" in text(first)
    code = join_code(first)
    with session_scope() as session:
        sandbox = session.exec(select(Team).where(Team.sandbox.is_(True))).one()
        assert (sandbox.slug, sandbox.timezone) == ("sandbox", "Africa/Nairobi")

    assert f"JOIN {code}" in last_reply(say(ana, "CIRCLES"))
    assert "What's your name?" in last_reply(say(ana, f"JOIN {code}"))
    assert "What do you hope to get out of Sandbox Circle?" in last_reply(say(ana, "Amina"))
    assert "Do you agree?" in last_reply(say(ana, "Meet people who read"))
    welcome = say(ana, "YES")
    assert "You're in Sandbox Circle! First meeting: " in last_reply(welcome)
    assert "SMS segments: 1 (GSM-7)" in bubbles(welcome)[-1][3]

    moved = post(ana, "/simulator/clock", NEWCOMER, step="reminder")
    assert any(n.startswith("The clock is now 2026-11-23 15:00 UTC.") and "reminder 1" in n
               for n in notices(moved)), notices(moved)  # fmt: skip
    assert "2026-11-23 15:00 UTC" in now_shown(moved)
    run_jobs()
    reminded = open_page(ana, **NEWCOMER)
    way, status, body, meta = bubbles(reminded)[-1]
    assert (way, status) == ("out", "sent")
    assert body.startswith("Reminder: Sandbox Circle, ")
    assert "reminder" in meta and "SMS segments: " in meta

    assert last_reply(say(ana, "YES")).startswith("Thanks! See you at Sandbox Circle")
    with session_scope() as session:
        sent = session.exec(
            select(Message.status, Message.provider_id)
            .join(Contact, Contact.id == Message.contact_id)
            .where(Message.direction == OUT, Contact.address == "+12025550100")
        ).all()
    assert len(sent) >= 6
    assert {status for status, _ in sent} == {"sent"}
    assert all(provider_id.startswith("sim-") for _, provider_id in sent)
    assert len(provider_http.calls) == 0 and fake_telegram.requests == []


def test_with_credentials_replies_and_reminders_go_to_the_simulator_and_no_provider(
    ana, run_jobs, provider_http, fake_telegram
):
    code = join_code(open_page(ana))
    join(ana, NEWCOMER, code)
    # What `flask tick --at` does, as the clock process would at that time.
    with session_scope() as session:
        circle = session.exec(select(Circle).where(Circle.join_code == code)).one()
        first = circle.first_date
    tick.run(at=f"{first - timedelta(days=1)}T20:00:00+00:00")
    run_jobs()
    with session_scope() as session:
        rows = session.exec(
            select(Message.purpose, Message.status, Message.provider_id)
            .where(Message.direction == OUT)
            .order_by(Message.id)
        ).all()
    assert "reminder" in {purpose for purpose, _, _ in rows}
    assert {status for _, status, _ in rows} == {"sent"}
    assert all(provider_id.startswith("sim-") for _, _, provider_id in rows)
    assert len(provider_http.calls) == 0 and fake_telegram.requests == []
    assert last_reply(open_page(ana, **NEWCOMER)).startswith("Reminder: Sandbox Circle")


def test_the_clock_is_off_where_real_providers_send_and_the_page_says_why(ana):
    page = open_page(ana, **NEWCOMER)
    assert "The clock is off here: this install sends through real providers." in text(page)
    assert "runs every team&#39;s reminders early, for real people" in text(page)
    assert 'name="step"' not in text(page)
    refused = post(ana, "/simulator/clock", NEWCOMER, step="day")
    assert "The clock is off here: this install sends through real providers." in notices(refused)
    assert "2026-11-22 " in now_shown(refused)


def test_the_clock_steps_an_hour_and_a_day(ana, console_outbox):
    after_hour = post(ana, "/simulator/clock", {}, step="hour")
    assert "2026-11-22 10:0" in now_shown(after_hour)
    after_day = post(ana, "/simulator/clock", {}, step="day")
    shown = now_shown(after_day)
    assert shown.startswith("Now: 2026-11-23 10:0") and "in Africa/Nairobi" in shown
    nothing = post(ana, "/simulator/clock", NEWCOMER, step="reminder")
    assert any(n.startswith("No reminder to come for this person.") for n in notices(nothing))


def test_a_real_persons_address_is_refused(ana, sms_user, run_jobs):
    sms_user("+15550001").says("HELLO")
    run_jobs()
    for kind in ("sms", "whatsapp"):
        who = {"kind": kind, "address": "+15550001"}
        page = open_page(ana, **who)
        assert "A real person writes from this address" in text(page)
        assert 'id="say"' not in text(page)
        refused = say(ana, "CIRCLES", who)
        assert any(n.startswith("A real person writes from this address") for n in notices(refused))
    with session_scope() as session:
        inbound = session.exec(select(Message.body).where(Message.direction == IN)).all()
    assert inbound == ["HELLO"]


def test_real_people_never_see_the_sandbox_nor_made_up_people_real_circles(ana, sms_user, run_jobs):
    with session_scope() as session:
        nakuru = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550009")
        world.circle(session, nakuru, "sms:+15550008", datetime(2026, 12, 1, 18), name="Python")
    code = join_code(open_page(ana))
    real = sms_user("+15550001")
    real.says("CIRCLES")
    run_jobs()
    assert "Python" in real.last_reply() and "Sandbox" not in real.last_reply()
    real.says(f"JOIN {code}")
    run_jobs()
    assert real.last_reply().startswith(f"I don't know the code {code}.")

    circles = last_reply(say(ana, "CIRCLES"))
    assert "Sandbox Circle" in circles and "Python" not in circles


def test_a_telegram_question_shows_its_buttons_and_a_tap_answers_it(ana, run_jobs, fake_telegram):
    who = {"kind": "telegram", "address": "9000000001"}
    code = join_code(open_page(ana))
    say(ana, f"JOIN {code}", who)
    say(ana, "Baraka", who)
    asked = say(ana, "Read more", who)
    question = re.search(
        r'name="question" value="(\d+)"><input type="hidden" name="answer" value="YES">'
        r'<button type="submit" class="secondary tap">([^<]+)</button>',
        text(asked),
    )
    assert question, text(asked)
    assert question.group(2) == "Yes"
    tapped = post(ana, "/simulator/tap", who, question=question.group(1), answer="YES")
    assert last_reply(tapped).startswith("You're in Sandbox Circle!")
    with session_scope() as session:
        tap = session.exec(
            select(Message).where(Message.direction == IN).order_by(Message.id.desc())
        ).first()
    assert (tap.body, tap.reply_to_id) == ("YES", int(question.group(1)))
    assert tap.provider_id.startswith("sim:")
    assert fake_telegram.requests == []


def test_a_made_up_group_hears_its_commands_only(ana):
    who = {"kind": "group", "address": "-1009000000001", "member": "9000000001"}
    helped = post(ana, "/simulator/say", who, text="/help")
    assert last_reply(helped).startswith("Hi! An organizer can link this group")
    chatter = post(ana, "/simulator/say", who, text="hello everyone")
    assert any(n.startswith("The bot did not see that") for n in notices(chatter))
    with session_scope() as session:
        group = session.exec(select(GroupChat)).one()
        assert group.simulator_team_id is not None and group.team_id is None


def test_a_real_person_at_a_made_up_address_is_nobody_made_up(ana, sms_user, twilio_api, run_jobs):
    code = join_code(open_page(ana))
    join(ana, NEWCOMER, code)
    real = sms_user("+12025550100")
    real.says("CIRCLES")
    run_jobs()
    assert "Sandbox" not in real.last_reply()
    assert twilio_api.to("+12025550100")  # the real one is answered by SMS, for real
    with session_scope() as session:
        contacts = session.exec(
            select(Contact).where(Contact.address.contains("+12025550100"))
        ).all()
    made_up = next(c for c in contacts if c.simulator_team_id is not None)
    real_one = next(c for c in contacts if c.simulator_team_id is None)
    assert made_up.address == f"sim-{made_up.id}:+12025550100"
    assert real_one.address == "+12025550100" and real_one.person_id != made_up.person_id
    assert "A real person writes from this address" in text(open_page(ana, **NEWCOMER))


def test_a_real_team_is_played_in_only_once_the_operator_confirms(ana):
    with session_scope() as session:
        nakuru = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+15550009")
        world.circle(session, nakuru, "sms:+15550008", datetime(2026, 12, 1, 18), name="Python")
        team_id = nakuru.id
    unconfirmed = post(ana, "/simulator/team", {}, team=str(team_id))
    assert any(n.startswith("Nothing changed: tick the box first") for n in notices(unconfirmed))
    chosen = post(ana, "/simulator/team", {}, team=str(team_id), understood="1")
    assert "New made-up people now play in Nakuru Libraries." in notices(chosen)
    assert "a real team: its facilitators and organizers are real people" in text(chosen)
    who = {"kind": "telegram", "address": "9000000005"}
    circles = last_reply(say(ana, "CIRCLES", who))
    assert "Python" in circles and "Sandbox" not in circles


def test_an_operator_cannot_play_in_a_team_they_dont_see(client):
    with session_scope() as session:
        mine = world.team(session, "Mine", "Africa/Nairobi", "sms:+15550009")
        theirs = world.team(session, "Theirs", "Africa/Nairobi", "sms:+15550007")
        mine_id, theirs_id = mine.id, theirs.id
    sign_in(client, operator("bo@library.org", teams=(mine_id,)))
    page = open_page(client)
    assert ">Mine</option>" in text(page) and "Theirs" not in text(page)
    token = csrf_token(page)
    refused = client.post("/simulator/team", data={"team": theirs_id, "understood": "1",
                                                   "csrf_token": token})  # fmt: skip
    assert refused.status_code == 404


def test_a_post_without_its_csrf_token_is_refused(ana):
    open_page(ana)
    response = ana.post("/simulator/say", data=NEWCOMER | {"text": "CIRCLES"})
    assert response.status_code == 400
    with session_scope() as session:
        assert session.exec(select(Message)).all() == []


def test_signed_out_the_simulator_asks_to_sign_in(client):
    response = client.get("/simulator")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=/simulator")


def test_the_conversation_fragment_says_when_a_message_is_on_its_way(ana, console_outbox, run_jobs):
    code = join_code(open_page(ana))
    join(ana, NEWCOMER, code)
    post(ana, "/simulator/clock", NEWCOMER, step="reminder")
    waiting = ana.get("/simulator/conversation", query_string=NEWCOMER)
    assert 'data-pending="true"' in text(waiting)
    assert "A message is on its way..." in text(waiting)
    run_jobs()
    settled = ana.get("/simulator/conversation", query_string=NEWCOMER)
    assert 'data-pending="false"' in text(settled)
    assert last_reply(settled).startswith("Reminder: Sandbox Circle")


def test_a_bad_address_is_explained(ana):
    page = open_page(ana, kind="sms", address="not a number")
    assert "That is not a phone number." in " ".join(notices(page))
    page = open_page(ana, kind="group", address="123", member="9000000001")
    assert "A Telegram group id is negative" in " ".join(notices(page))


def test_a_real_group_at_a_made_up_groups_id_is_its_own(
    ana, telegram_user, fake_telegram, run_jobs
):
    who = {"kind": "group", "address": "-1009000000001", "member": "9000000001"}
    post(ana, "/simulator/say", who, text="/help")
    telegram_user(5001).says_in(-1009000000001, "/help")
    run_jobs()
    assert fake_telegram.sent_texts(-1009000000001)[-1].startswith("Hi! An organizer can link")
    with session_scope() as session:
        groups = session.exec(select(GroupChat).order_by(GroupChat.id)).all()
    made_up, real = groups
    assert made_up.chat_id == f"sim-{made_up.id}:-1009000000001"
    assert (real.chat_id, real.simulator_team_id) == ("-1009000000001", None)
    assert "This is a real Telegram group" in text(open_page(ana, **who))


def test_a_sandbox_teams_codes_are_no_way_in_for_real_people(
    ana, sms_user, telegram_user, run_jobs
):
    from bot import sandbox
    from models.teams import create_link_code

    open_page(ana)
    with session_scope() as session:
        team = sandbox.find(session)
        invite, link = team.invite_code, create_link_code(session, team.id, NOW).code
    real = sms_user("+15550001")
    real.says(f"TEAM {invite}")
    run_jobs()
    assert (
        real.last_reply()
        == f"I don't know the invite code {invite}. Please check it with your organizer."
    )
    organizer = telegram_user(5150)
    organizer.says_in(-100777, f"/link {link}")
    run_jobs()
    assert organizer.telegram.sent_texts(chat_id=-100777)[-1].startswith("That code doesn't work")
    with session_scope() as session:
        assert (
            session.exec(select(GroupChat.team_id).where(GroupChat.chat_id == "-100777")).one()
            is None
        )
