"""The console in real Chromium: an operator signs in, reads it in Kiswahili, talks to the bot in
the simulator, finds the messages in the outbox and sends a failed one again. Screenshots of
each step land in test-output/browser/<test>/ for review."""

from __future__ import annotations

import re
from datetime import datetime

from bot.db import session_scope
from bot.identity import contact_for
from models.circles import Signup
from models.message import Message
from models.people import Person
from tests.support import world
from tests.support.console import operator

pytest_plugins = ["tests.support.browser"]

PASSWORD = "correct horse battery"
FIRST_MEETING = datetime(2026, 12, 1, 18, 0)  # local wall-clock time, as circles are made
AMINA = "sms:+254711000001"
NOT_OURS = "sms:+254722000002"


def nakuru_learner(handle: str = AMINA) -> int:
    """A team, Nakuru Libraries (Wanjiru organizes), with a circle (Otieno facilitates) and
    one learner; the team's id."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+254700000001")
        circle = world.circle(session, team, "sms:+254700000002", FIRST_MEETING)
        for staff, name in (("+254700000001", "Wanjiru"), ("+254700000002", "Otieno")):
            session.get(Person, contact_for(session, "sms", staff).person_id).name = name
        contact = contact_for(session, *handle.split(":"))
        session.add(Signup(circle_id=circle.id, person_id=contact.person_id,
                           contact_id=contact.id))  # fmt: skip
        return team.id


def chicago() -> int:
    """Another team, one Nakuru's operator does not see; its id."""
    with session_scope() as session:
        team = world.team(session, "Chicago Libraries", "America/Chicago", "sms:+15550000020")
        world.circle(session, team, "sms:+15550000021", FIRST_MEETING, name="Chess")
        return team.id


def outbound(handle: str, body: str, status: str, error: str | None = None) -> int:
    """A message to `handle` as a worker left it, in `status`; its id."""
    with session_scope() as session:
        contact = contact_for(session, *handle.split(":"))
        message = Message(direction="out", channel=contact.channel, contact_id=contact.id,
                          body=body, purpose="reminder", status=status, error=error,
                          attempts=1)  # fmt: skip
        session.add(message)
        session.flush()
        return message.id


def test_an_operator_signs_in_reads_kiswahili_and_signs_out(browser):
    operator("ana@library.org", all_teams=True, password=PASSWORD)
    browser.open("/")
    assert browser.path == "/sign-in?next=/"
    browser.see("Sign in to circlebot")
    browser.shot("sign in")

    browser.fill("email", "ana@library.org")
    browser.fill("password", "not it")
    browser.press("Sign in")
    browser.see("That email and password don't match. Please try again.")
    browser.shot("wrong password")

    browser.fill("password", PASSWORD)
    browser.press("Sign in")
    assert browser.path == "/"
    browser.see("Messages we send")
    assert "Health" in browser.text and "Sign out" in browser.text
    browser.shot("overview")

    browser.press("Kiswahili")
    browser.see("Ujumbe tunaotuma")
    assert browser.find("html")[0].get_attribute("lang") == "sw"
    assert "Muhtasari" in browser.text and "Messages we send" not in browser.text
    browser.shot("overview in kiswahili")

    browser.press("Toka")
    assert browser.path == "/sign-in"
    assert browser.find('input[name="password"]'), browser.text
    browser.shot("signed out")
    browser.open("/")
    assert browser.path == "/sign-in?next=/"


def test_a_one_time_link_signs_in_once(browser, live_console):
    operator("ben@library.org", teams=(nakuru_learner(),))
    link = live_console.sign_in_link("ben@library.org")
    assert link.startswith(f"{live_console.url}/sign-in/")

    browser.open(link)
    assert browser.path == "/"
    browser.see("Messages we send")
    browser.shot("signed in by the link")
    browser.press("Sign out")

    browser.open(link)
    browser.see("This sign-in link no longer works")
    assert "Sign out" not in browser.text
    browser.shot("the link a second time")
    browser.open("/")
    assert browser.path == "/sign-in?next=/"


def test_the_overview_fits_a_phone(browser):
    team = nakuru_learner()
    for body in ("Thanks! See you", "Welcome to Python"):
        outbound(AMINA, body, "sent")
    outbound(AMINA, "Reminder: Python", "failed", "carrier said no")
    operator("ana@library.org", teams=(team,))
    browser.phone()
    browser.sign_in("ana@library.org")
    browser.see("Messages we send")
    counts = {e.get_attribute("data-status"): e.text for e in browser.find("[data-status]")}
    assert (counts["sent"], counts["failed"], counts["queued"]) == ("2", "1", "0")
    # Nothing wider than the phone: no page to scroll sideways.
    assert browser.driver.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )
    browser.shot("overview on a phone")


def test_a_failed_message_is_found_from_the_overview_and_sent_again(browser, twilio_api, run_jobs):
    team = nakuru_learner()
    failed = outbound(AMINA, "Reminder: Python, Tuesday 18:00 at Library. Reply YES or NO.",
                      "failed", "Twilio 30003: the phone is switched off")  # fmt: skip
    outbound(NOT_OURS, "Reminder: another team's circle", "failed", "carrier said no")
    operator("ana@library.org", teams=(team,))
    browser.sign_in("ana@library.org")

    # Ana sees her team's one failure, not the other team's.
    browser.press("1 failed")
    assert browser.path == "/outbox?status=failed"
    rows = browser.find("tr[data-message]")
    assert [row.get_attribute("data-message") for row in rows] == [str(failed)]
    assert "+254711000001" in rows[0].text and "Reminder: Python" in rows[0].text
    browser.shot("the failed ones")

    browser.press("Details")
    assert browser.path == f"/outbox/{failed}"
    browser.see("What was said: Twilio 30003: the phone is switched off")
    browser.shot("the failed message")

    browser.press("Send again")
    browser.see(f"Send message #{failed} again?")
    browser.see("It goes out once more, as it is.")
    browser.shot("the warning")
    browser.press("Yes, send it again")
    assert browser.path == f"/outbox/{failed}"
    browser.see("Queued again: a worker sends it in a moment.")
    assert re.search(r"^queued$", browser.read("main h2"), re.M), browser.text
    browser.shot("queued again")

    run_jobs()
    browser.reload()
    assert re.search(r"^sent$", browser.read("main h2"), re.M), browser.text
    assert twilio_api.to("+254711000001") == [
        "Reminder: Python, Tuesday 18:00 at Library. Reply YES or NO."
    ]
    browser.shot("sent")


def test_a_team_page_shows_its_people_and_circles_and_no_other_teams(browser):
    nakuru, other = nakuru_learner(), chicago()
    operator("ana@library.org", teams=(nakuru,))
    browser.sign_in("ana@library.org")
    browser.press("Teams")
    browser.see("Nakuru Libraries")
    assert "Chicago Libraries" not in browser.text
    browser.shot("her teams")

    browser.press("Nakuru Libraries")
    assert browser.path == f"/teams/{nakuru}"
    browser.see("Times in Africa/Nairobi.")
    people = browser.read("main section:first-of-type")
    assert "Wanjiru: organizer" in people and "Otieno: facilitator" in people, people
    row = browser.read("main table tbody tr")
    assert row.startswith("Python") and "Library, Nakuru · Otieno" in row, row
    assert "\t1\t" in row  # one learner
    assert "No digest sent yet" in browser.text
    browser.phone()
    browser.shot("the team on a phone")
    browser.desktop()

    browser.press("Python")
    browser.see("1 learners")
    assert "Meetings" in browser.text
    browser.shot("its circle")

    browser.open(f"/teams/{other}")
    assert "not found" in browser.text.lower()
    assert "Chicago" not in browser.text and "Chess" not in browser.text
    browser.shot("another team's page")


NEWCOMER = "sms:+12025550100"  # the simulator's first made-up number


def say(browser, text: str) -> None:
    """Type into the simulator's message box and send, as the made-up person."""
    browser.fill("text", text)
    browser.press("Send")


def all_sent(browser) -> None:
    """Wait for the page's script to show that every reply went out."""
    browser.until(lambda: "A message is on its way" not in browser.read("#conversation"),
                  "the replies to be sent")  # fmt: skip
    statuses = [e.get_attribute("data-status") for e in browser.find("#conversation .bubble.out")]
    assert statuses and set(statuses) == {"sent"}, statuses


def test_a_newcomer_joins_in_the_simulator_answers_the_reminder_and_shows_in_the_outbox(
    browser, live_console, run_jobs
):
    live_console.change(outbox="console")  # an install that sends nowhere: the clock may move
    operator("ana@library.org", all_teams=True)
    browser.sign_in("ana@library.org")
    browser.press("Simulator")
    browser.see("Circles open to join here:")
    code = re.search(r"Sandbox Circle: JOIN (\w+)", browser.text)[1]
    browser.shot("the simulator")

    browser.press(NEWCOMER)
    browser.see(f"You are {NEWCOMER}")
    say(browser, "CIRCLES")
    browser.see(f"JOIN {code}", within="#conversation")
    say(browser, f"JOIN {code}")
    browser.see("What's your name?", within="#conversation")
    say(browser, "Amina")
    browser.see("What do you hope to get out of Sandbox Circle?", within="#conversation")
    say(browser, "Meet people who read")
    browser.see("Do you agree?", within="#conversation")
    say(browser, "YES")
    browser.see("You're in Sandbox Circle! First meeting: ", within="#conversation")
    run_jobs()  # the worker sends what is no direct reply: Baraka, the facilitator, is told
    all_sent(browser)
    browser.phone()
    browser.shot("joined, on a phone")
    browser.desktop()

    browser.press("To the next reminder")
    browser.see("The tick queued: reminder 1")
    run_jobs()
    browser.reload()
    browser.see("Reminder: Sandbox Circle, ", within="#conversation .bubble.out:last-of-type")
    browser.shot("the reminder")
    say(browser, "YES")
    browser.see("Thanks! See you at Sandbox Circle", within="#conversation")
    run_jobs()
    all_sent(browser)
    browser.phone()
    browser.shot("yes, on a phone")
    browser.desktop()

    browser.press("Outbox")
    to = {row.text for row in browser.find("tr[data-message] td:nth-child(2)")}
    assert {NEWCOMER + "\nAmina", "telegram:9000000092\nBaraka"} <= to, to  # her facilitator
    browser.choose("channel", "sms")
    browser.choose("purpose", "reminder")
    browser.press("Show")
    assert "channel=sms" in browser.path and "purpose=reminder" in browser.path
    rows = browser.find("tr[data-message]")
    assert len(rows) == 1 and NEWCOMER in rows[0].text, browser.text
    assert "Reminder: Sandbox Circle" in rows[0].text and "sent" in rows[0].text
    browser.shot("the reminder in the outbox")
    browser.press("Details")
    browser.see("Reminder: Sandbox Circle, ")
    assert re.search(r"^sent$", browser.read("main h2"), re.M), browser.text
    assert "Sandbox Circle, Sandbox" in browser.text and "Meeting 1, " in browser.text
    browser.shot("the reminder in full")
