"""`flask chat`: a terminal that shows what the bot sends you from anywhere, as a contact or in
a Telegram group, at a simulated instant when asked; the console outbox it reads from."""

from __future__ import annotations

import io
import queue as lines_queue
import threading
from datetime import datetime

import pytest
import time_machine

from bot import chat, queue
from bot.channels import console
from bot.channels.base import Outbound
from bot.config import use_settings
from bot.db import session_scope
from bot.identity import contact_for
from models.circles import Signup
from models.teams import create_link_code
from tests.support import world
from tests.support.processes import wait_for
from tests.support.timeline import at, tick_at

NOW = "2026-11-23T09:00:00+00:00"  # a Monday; the circle below first meets on Tuesday 1 Dec
LEARNER, FACILITATOR, ORGANIZER = "sms:+254700000010", "sms:+254700000011", "telegram:5001"
GROUP = "telegram-group:-100123"


@pytest.fixture
def console_outbox(app, settings):
    """Every process prints and publishes instead of sending, as on a first run."""
    use_settings(settings.model_copy(update={"outbox": "console"}))


def nakuru(first: datetime = datetime(2026, 12, 1, 18, 0), **fields) -> dict:
    """Team Nakuru (organizer on Telegram) with a circle and one learner signed up."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", ORGANIZER)
        circle = world.circle(session, team, FACILITATOR, first, venue="Nakuru Library", **fields)
        learner = contact_for(session, *LEARNER.split(":"))
        session.add(Signup(circle_id=circle.id, person_id=learner.person_id,
                           contact_id=learner.id, goal="learn"))  # fmt: skip
        link = create_link_code(session, team.id, at(NOW))
        return {"link": link.code, "join": circle.join_code}


def messages(window: str) -> list[str]:
    """The messages a chat window shows, without its headers."""
    shown: list[str] = []
    for line in window.splitlines():
        if line.startswith("• "):
            shown.append(line[2:])
        elif line.startswith("  ") or (line == "" and shown):
            shown[-1] += "\n" + line[2:]
    return shown


class OpenChat:
    """A `flask chat` window open in another terminal: lines typed in, what it shows read out."""

    def __init__(self, handle: str, member: str | None = None) -> None:
        self._lines: lines_queue.Queue[str | None] = lines_queue.Queue()
        self._out = io.StringIO()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(chat.speaker(handle, member),))
        self._thread.start()

    def _run(self, who: chat.Speaker) -> None:
        try:
            chat.run(who, iter(self._lines.get, None), out=self._out)
        except BaseException as error:  # shown by close(), in the test's own thread
            self._error = error

    def says(self, text: str) -> None:
        self._lines.put(text + "\n")

    def shows(self, text: str) -> list[str]:
        """Wait until the window shows a message containing `text`; all it shows by then."""
        return wait_for(
            lambda: any(text in m for m in self.messages()) and self.messages(),
            timeout=15,
            what=f"{text!r} in the chat window; it shows {self._out.getvalue()!r}",
        )

    def messages(self) -> list[str]:
        return messages(self._out.getvalue())

    def close(self) -> None:
        self._lines.put(None)
        self._thread.join(timeout=15)
        assert not self._thread.is_alive(), "the chat did not end with its input"
        if self._error is not None:
            raise self._error


def test_chat_answers_help_in_the_terminal_and_never_texts_a_real_phone(cli, twilio_api):
    result = cli("chat", "--as", "sms:+15550001", input="HELP\nLANG sw\nHELP\n")
    assert twilio_api.attempts == []
    replies = messages(result.stdout)
    assert replies[0].startswith("You can reply:")
    assert replies[1] == "Sawa, nitaandika kwa Kiswahili."
    assert replies[2].startswith("Unaweza kujibu:")
    assert len(replies) == 3  # each once: the window prints them, the console send does not


def test_a_learners_window_shows_the_reminder_a_worker_sends(console_outbox, run_jobs):
    nakuru()
    amina = OpenChat(LEARNER)
    try:
        amina.says("HELP")
        amina.shows("You can reply:")
        # The facilitator's preview and the organizer's digest go elsewhere, a day ahead.
        tick_at("2026-11-29T14:59:00+00:00", run_jobs)
        tick_at("2026-11-29T15:00:00+00:00", run_jobs)
        shown = amina.shows("Reminder:")
    finally:
        amina.close()
    assert shown[1:] == [
        "Reminder: Python, Tue 1 Dec, 18:00 at Nakuru Library. "
        "Reply YES if you're coming, NO if not."
    ]


def test_a_facilitators_msg_typed_in_one_chat_reaches_a_learners_open_chat(
    cli, console_outbox, run_jobs, capsys
):
    nakuru()
    amina = OpenChat(LEARNER)
    try:
        amina.says("HELP")
        amina.shows("You can reply:")
        with time_machine.travel(at(NOW), tick=True):
            typed = cli("chat", "--as", FACILITATOR, input="MSG Bring laptops!\nYES\n")
        assert messages(typed.stdout) == [
            'To Python, learners reached: 1. "Bring laptops!" Send it? Reply YES or NO.',
            "Sent to Python. Learners reached: 1.",
        ]
        run_jobs()  # a worker sends the announcement, a bulk send
        shown = amina.shows("Bring laptops!")
    finally:
        amina.close()
    assert shown[1:] == ["Python: Bring laptops!"]
    # The worker's log names whom it went to.
    assert f"── to {LEARNER} ──\n• Python: Bring laptops!\n" in capsys.readouterr().out


def test_a_group_chat_links_its_team_and_answers_week(cli):
    codes = nakuru(datetime(2026, 11, 26, 18, 0))
    lines = f"/link@circlebot_test_bot {codes['link']}\nhello everyone\n/week\n"
    result = cli("chat", "--as", GROUP, "--from", ORGANIZER, "--at", NOW, input=lines)
    assert messages(result.stdout) == [
        "Linked to Nakuru Libraries. The weekly digest will come here. Try /week.",
        "This week:\nThu 26 Nov, 18:00: Python (no name yet), 0 said yes",
    ]
    # Chatter in a group never reaches the bot, as on Telegram.
    assert "in a group it sees only its commands" in result.stderr


@pytest.mark.parametrize(
    "args, problem",
    [
        (["--as", GROUP], "--from telegram:5001"),
        (["--as", "telegram-group:100123", "--from", ORGANIZER], "its id is negative"),
        (["--as", GROUP, "--from", "sms:+254700000010"], "member is written telegram:"),
        (["--as", LEARNER, "--from", ORGANIZER], "--from is for a Telegram group only"),
        (["--as", "pager:123"], "or a group: telegram-group:-100123"),
        (["--as", LEARNER, "--at", "tomorrow"], "write --at like 2026-12-01T15:00"),
    ],
)
def test_chat_refuses_a_handle_it_cannot_be(cli, args, problem):
    result = cli("chat", *args, input="HELP\n", ok=False)
    assert result.exit_code == 2
    assert problem in result.stderr
    assert result.stdout == ""


def test_a_chat_at_a_simulated_instant_sees_the_meeting_still_ahead(cli):
    # The circle met once, in March 2020: today it is long over, that morning it was ahead.
    codes = nakuru(datetime(2020, 3, 3, 18, 0), weeks=1)
    joining = f"JOIN {codes['join']}\nAmina\nLearn Python\nYES\n"
    today = cli("chat", "--as", "sms:+254700000020", input=joining)
    assert messages(today.stdout)[0] == (
        "Python has finished. Reply CIRCLES to find another circle."
    )
    that_morning = cli(
        "chat", "--as", "sms:+254700000021", "--at", "2020-03-03T10:00+03:00", input=joining
    )
    assert messages(that_morning.stdout)[-1] == (
        "You're in Python! First meeting: Tue 3 Mar, 18:00 at Nakuru Library. "
        "We'll remind you before each meeting."
    )


def test_the_console_outbox_groups_its_log_by_recipient_and_shows_each_in_its_window(
    settings, capsys
):
    amina, other = "sms:+254700009901", "whatsapp:+254700009902"
    group = io.StringIO()
    with chat.window((GROUP,), group) as window:
        sent = [
            console.send(Outbound(1, "sms", amina[4:], "Reminder: Python, Tue 1 Dec.")),
            console.send(Outbound(2, "sms", amina[4:], "You can reply:\nJOIN\n\nSTOP")),
            console.send(Outbound(3, "telegram", "-100123", "Attendance", photo=b"png")),
            console.send(Outbound(4, "whatsapp", other[9:], "Thanks!")),
            console.send(Outbound(5, "sms", amina[4:], "See you there.")),
        ]
        window.sync()
    assert {result.outcome for result in sent} == {"sent"}
    assert capsys.readouterr().out == (
        f"── to {amina} ──\n"
        "• Reminder: Python, Tue 1 Dec.\n"
        "• You can reply:\n"
        "  JOIN\n"
        "\n"
        "  STOP\n"
        f"── to {GROUP} ──\n"
        "• [image]\n"
        "  Attendance\n"
        f"── to {other} ──\n"
        "• Thanks!\n"
        f"── to {amina} ──\n"
        "• See you there.\n"
    )
    # The group's window shows only the group's message, without a header: it is its own.
    assert group.getvalue() == "• [image]\n  Attendance\n"


def test_a_send_goes_out_on_the_console_even_when_no_window_can_be_told(settings, capsys):
    use_settings(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1"}))
    queue.reset()
    try:
        result = console.send(Outbound(7, "sms", "+254700009903", "Hello"))
    finally:
        use_settings(settings)
        queue.reset()
    assert result.outcome == "sent"
    assert capsys.readouterr().out.endswith("• Hello\n")


def test_a_telegram_chat_shows_a_questions_buttons_and_typing_a_label_answers(cli):
    with time_machine.travel(at(NOW), tick=True):
        codes = nakuru()
        result = cli(
            "chat", "--as", "telegram:6001",
            input=f"JOIN {codes['join']}\nAnn\nTo learn Python\nYes\n",
        )  # fmt: skip
    replies = messages(result.stdout)
    consent = next(reply for reply in replies if "Do you agree?" in reply)
    assert consent.endswith("\n[Yes] [No]")
    assert replies[-1].startswith("You're in ")
