"""Every text a learner can get fits one SMS segment, in English and Swahili, with realistic
values, as the SMS goes out (bot/sms.py); the few that are lists or reports by nature are named.

A learner is anyone who joins circles and answers reminders, or a stranger writing in. Each of
their texts has a row below with the values it is sent with; every other catalog text is named
as someone else's (facilitators', organizers', a group's), so a new text must be placed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from babel.lists import format_list

from bot.channels.base import SMS
from bot.i18n import LANGUAGES, catalog, t
from bot.pages import fits
from bot.sms import segments, to_gsm7
from bot.when import day, day_time, weekday_time
from handlers import circle_report
from handlers import help as help_text
from handlers.learner import Upcoming, choices
from jobs.reminders import reminder_text

# Realistic values, at the long end of what learners see.
CIRCLE = "Python for Everybody"
OTHER_CIRCLE = "Digital Skills for Farmers"
VENUE = "Kenya National Library, Nakuru"
CITY = "Nakuru"
CODE = "PY7K"
GOAL = "Learn Python to analyse sales data at work"  # "a short sentence", as join.ask_goal asks
TEAM = "Nakuru Learning Hub"
TIMEZONE = "Africa/Nairobi"
# Thursday 24 December, 18:00 in Nakuru: a two-digit day, and "Alhamisi" in Swahili.
MEETING = datetime(2026, 12, 24, 15, 0, tzinfo=UTC)
REPORT_TOKEN = "Xq3v9Lk2Pz8Rt5Wm1Nb7Yc"  # secrets.token_urlsafe(16), as jobs/reports.py makes it

Values = dict[str, object | Callable[[str], object]]


def when(language: str) -> str:
    return day_time(MEETING, TIMEZONE, language)


def weekly(language: str) -> str:
    return weekday_time(MEETING, TIMEZONE, language)


def two_meetings(language: str) -> str:
    """The numbered choices of a learner whose YES could be for two circles."""
    meetings = [
        Upcoming(n, n, name, VENUE, MEETING, MEETING + timedelta(hours=2), TIMEZONE)
        for n, name in enumerate((CIRCLE, OTHER_CIRCLE), start=1)
    ]
    return choices(SimpleNamespace(language=language), meetings)["choices"]


def in_language(english: str, swahili: str) -> Callable[[str], str]:
    return lambda language: swahili if language == "sw" else english


# Each text a learner can get, with the values it is sent with.
LEARNER_TEXTS: dict[str, Values] = {
    # Anyone: STOP, START, HELP, LANG, EXIT, greetings and hints (handlers/keywords, fallback).
    "stop.confirmed": {},
    "stop.confirmed_elsewhere": {
        "channel": lambda language: t("channel.whatsapp", language),
        "others": lambda language: format_list(
            [t("channel.sms", language), t("channel.telegram", language)], locale=language
        ),
    },
    "stop.help": {},
    "start.resumed": {},
    "start.welcome": {},
    "channel.sms": {},
    "channel.telegram": {},
    "channel.whatsapp": {},
    "help.intro": {},
    "help.circles": {},
    "help.join": {},
    "help.next": {},
    "help.leave": {},
    "help.team": {},
    # HELP <topic> shows any topic's lines to whoever asks.
    "help.new": {},
    "help.my": {},
    "help.who": {},
    "help.msg": {},
    "help.reminder": {},
    "help.move": {},
    "help.reflect": {},
    "help.report": {},
    "help.invite": {},
    "help.digest": {},
    "help.more": {"topics": in_language("CIRCLES / TEAM", "VIKUNDI / TIMU")},
    "help.everyone": {},
    "help.short_everyone": {},
    "help.short_everyone_start": {},
    "lang.ask": {},
    "lang.changed": {"language": "Kiswahili"},
    "lang.unknown": {"choices": "LANG en, LANG sw"},
    "lang.switch_hint": {},
    "exit.done": {},
    "exit.nothing": {},
    "greet.hello": {},
    "greet.hello_try": {"command": in_language("CIRCLES", "VIKUNDI")},
    "greet.thanks": {},
    "hint.try": {"command": in_language("CIRCLES", "VIKUNDI")},
    "hint.unknown": {},
    "hint.media": {},
    "hint.voice": {},
    "auth.not_allowed": {},  # a learner who asks about a circle that is not theirs
    # A learner who sends FACILITATORS (the longest command word): who may, and what instead.
    "auth.refused": {"command": "WAWEZESHAJI", "whom": lambda lang: t("auth.for_organizers", lang)},
    "auth.refused_try": {
        "command": "WAWEZESHAJI",
        "whom": lambda lang: t("auth.for_facilitators", lang),
        "instead": "VIKUNDI",
    },
    "auth.for_facilitators": {},
    "auth.for_organizers": {},
    "error.sorry": {},
    "button.yes": {},
    "button.no": {},
    "button.closed": {},
    "button.not_yours": {},
    # Dialogs: asking again, going back (conversations/engine.py, parsers.py).
    "dialog.exit_hint": {},
    "dialog.no_back": {},
    "parse.generic": {},
    "parse.yes_no": {},
    "parse.yes_no_line": {"count": 5},
    "parse.number": {},
    "parse.number_range": {"lo": 1, "hi": 5},
    "parse.choice": {"count": 2},
    "parse.text_empty": {},
    "parse.text_too_long": {"max": 300},
    "parse.date": {},
    "parse.date_past": {},
    "parse.need_time": {},
    "parse.duration": {},
    "parse.duration_range": {"lo": 15, "hi": 480},
    # CIRCLES, FIND and MORE (handlers/find.py): one line per circle, paged there.
    "find.ask_place": {},
    "find.line": {
        "name": CIRCLE,
        "venue": VENUE,
        "city": CITY,
        "when": weekly,
        "start": lambda language: day(MEETING.date(), language),
        "code": CODE,
    },
    "find.more": {},
    "find.no_more": {},
    "find.none": {},
    "find.none_here": {"place": CITY},
    # JOIN (handlers/join.py, conversations/join.py).
    "join.ask_code": {},
    "join.ask_name": {},
    "join.ask_goal": {"circle": CIRCLE},
    "join.ask_consent": {},
    "join.no_consent": {},
    "join.welcome": {"circle": CIRCLE, "when": when, "venue": VENUE},
    "join.welcome_no_meeting": {"circle": CIRCLE},
    "join.unknown_code": {"code": "PY7X"},
    "join.already": {"circle": CIRCLE},
    "join.closed": {"circle": CIRCLE},
    "join.finished": {"circle": CIRCLE},
    "join.full": {"circle": CIRCLE},
    # TEAM is anyone's to send, on the way to facilitating (conversations/team_join.py).
    "team.ask_code": {},
    "team.unknown_code": {"code": "K7Q2X"},
    "team.already": {"team": TEAM},
    "team.joined": {"team": TEAM},
    # NEW from someone in no team.
    "new.need_team": {},
    # Reminders, RSVPs and NEXT (jobs/reminders.py, handlers/learner.py).
    "reminder.body": {"circle": CIRCLE, "when": when, "venue": VENUE},
    "reminder.rsvp": {},
    "reminder.header": {"circle": CIRCLE, "when": weekly, "venue": VENUE},  # above their own text
    "rsvp.yes": {"circle": CIRCLE, "when": when},
    "rsvp.no": {"circle": CIRCLE},
    "rsvp.no_meeting": {},
    "rsvp.too_late": {"circle": CIRCLE},
    "rsvp.which": {"choices": two_meetings},
    "next.line": {
        "circle": CIRCLE,
        "when": when,
        "venue": VENUE,
        "answer": lambda language: t("next.no_answer", language),
    },
    "next.no_answer": {},
    "next.said_yes": {},
    "next.said_no": {},
    "next.none": {},
    # A meeting moved or called off (conversations/reschedule.py).
    "move.notice": {"circle": CIRCLE, "when": when},
    "cancel.notice": {"circle": CIRCLE, "when": when},
    # What a facilitator sends the circle: their own words, warned about when long.
    "msg.body": {
        "circle": CIRCLE,
        "text": "No meeting next week: it is a holiday. See you on 7 Jan!",
    },
    "reflect.recap_body": {
        "circle": CIRCLE,
        "recap": "We finished chapter 2. Next: loops. Bring a laptop!",
    },
    # LEAVE (conversations/leave.py).
    "leave.which": {"choices": f"1) {CIRCLE}\n2) {OTHER_CIRCLE}"},
    "leave.confirm": {"circle": CIRCLE},
    "leave.kept": {"circle": CIRCLE},
    "leave.done": {"circle": CIRCLE},
    "leave.none": {},
    # After the last meeting: the learner's survey and the short report (jobs/surveys, reports).
    "survey.ask_goal": {"circle": CIRCLE, "goal": GOAL},
    "survey.ask_goal_none": {"circle": CIRCLE},
    "survey.ask_worked_well": {},
    "survey.ask_improve": {},
    "survey.ask_next_steps": {},
    "survey.thanks_learner": {"circle": CIRCLE},
    "report.short": {"circle": CIRCLE, "meetings": 12},
    "report.short_came": {"came": 14},
    "report.short_goals": {"met": 11, "answered": 14},
    "report.thanks": {},
    "report.link": {"url": f"https://circlebot.example.org/reports/{REPORT_TOKEN}"},
    "help.data": {},
    "help.mydata": {},
    "help.forget": {},
    "help.connect": {},
    "help.use_this": {},
    "forget.confirm": {},
    "forget.confirm_busy": {},
    "forget.kept": {},
    "forget.done": {},
    "forget.nothing": {},
    # CONNECT and USE THIS (conversations/connect.py, handlers/connect.py).
    "connect.code": {"code": "K7Q4XM", "minutes": 15},
    "connect.too_many_codes": {"count": 3},
    "connect.bad_code": {},
    "connect.too_many_tries": {},
    "connect.already_yours": {"channel": lambda language: t("channel.whatsapp", language)},
    "connect.confirm": {
        "channel": lambda language: t("channel.telegram", language),
        "who": lambda language: t(
            "connect.masked", language, channel=t("channel.whatsapp", language), digits="0009"
        ),
    },
    "connect.masked": {
        "channel": lambda language: t("channel.whatsapp", language),
        "digits": "0009",
    },
    "connect.yours": {"channel": lambda language: t("channel.telegram", language)},
    "connect.kept": {},
    "connect.done": {"channel": lambda language: t("channel.whatsapp", language)},
    "connect.told": {"channel": lambda language: t("channel.whatsapp", language)},
    "connect.used": {},
    "connect.lapsed": {},
    "use_this.done": {"channel": lambda language: t("channel.whatsapp", language)},
    "use_this.already": {"channel": lambda language: t("channel.whatsapp", language)},
    "use_this.none": {},
}

# Everything else in the catalogs, and whose it is: a namespace ("digest.") or a key. A row
# above wins over a namespace named here.
NOT_FOR_LEARNERS = {
    "digest.": "the organizers' weekly digest, paged by bot/pages.split",
    "view.": "organizers' WEEK, CIRCLES, FACILITATORS and FEEDBACK, paged by bot/pages.split",
    "who.": "the roster (WHO), for facilitators",
    "report.": "the full report, to facilitators, paged by bot/pages.split",
    "page.": "the report's web page, not a message",
    "group.": "a team's group chat",
    "help.group_": "a team's group chat",
    "organizer.": "organizers' invite and link codes",
    "my.": "facilitators' MY",
    "new.": "facilitators' NEW",
    "edit.": "facilitators' EDIT of a reminder",
    "move.": "facilitators' MOVE",
    "cancel.": "facilitators' CANCEL MEETING",
    "msg.": "facilitators' MSG",
    "reflect.": "facilitators' REFLECT",
    "reminder.copy": "the facilitators' copy of a reminder",
    "rsvp.summary": "the facilitators' RSVP summary",
    "join.facilitator_told": "to facilitators",
    "leave.facilitator_told": "to facilitators",
    "team.organizer_told": "to organizers",
    "learner.unnamed": "stands for a learner in facilitators' texts",
    "survey.ask_rating": "the facilitators' survey",
    "survey.ask_surprised": "the facilitators' survey",
    "survey.ask_advice": "the facilitators' survey",
    "survey.ask_run_again": "the facilitators' survey",
    "survey.thanks_facilitator": "the facilitators' survey",
    "forget.cofacilitator_told": "to facilitators",
    "forget.organizer_told": "to organizers",
    "forget.no_facilitator": "to organizers",
    # A learner's, but a list by nature: paged by bot/holdings.pages, three segments a page
    # (tests/test_mydata.py).
    "mydata.": "MYDATA's pages",
    "console.": "the operators' web console, not a message",
}


def staff_only(key: str) -> bool:
    return any(
        key.startswith(name) if name.endswith((".", "_")) else key == name
        for name in NOT_FOR_LEARNERS
    )


def rendered(key: str, language: str) -> str:
    """The text as the SMS goes out: filled in, then in GSM-7 as bot/outbox.py sends it."""
    values = {
        name: value(language) if callable(value) else value
        for name, value in LEARNER_TEXTS[key].items()
    }
    return to_gsm7(t(key, language, **values))


def test_every_catalog_text_is_a_learners_or_named_as_someone_elses():
    unplaced = {key for key in catalog("en") if key not in LEARNER_TEXTS and not staff_only(key)}
    assert unplaced == set(), "add a row to LEARNER_TEXTS, or name it in NOT_FOR_LEARNERS"


def test_every_row_is_a_text_in_the_catalogs():
    assert set(LEARNER_TEXTS) - set(catalog("en")) == set()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", sorted(LEARNER_TEXTS))
def test_a_learners_text_is_one_sms(key, language):
    text = rendered(key, language)
    assert segments(text) == 1, f"{len(text)} characters: {text}"


# A facilitator's own reminder text (EDIT), as long as a short one runs; a longer one is
# theirs to keep, warned by edit.long.
OWN_REMINDER = "Bring your laptop: we start chapter 3."


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("own_text", [None, OWN_REMINDER])
def test_a_reminder_as_sent_is_one_sms(own_text, language):
    meeting = SimpleNamespace(
        reminder_text=own_text, name=CIRCLE, starts_at=MEETING, timezone=TIMEZONE, venue=VENUE
    )
    text = to_gsm7(reminder_text(meeting, language))
    assert segments(text) == 1, f"{len(text)} characters: {text}"


# Texts a learner gets that are a list or a report by nature: longer than one segment, and
# each still one message within bot/pages.py's SMS limit. (The CIRCLES list is paged at two
# segments by handlers/find.py; each of its lines is checked above.)
def help_topic(language: str) -> str:
    """HELP CIRCLES: every line of the learner's topic, asked for by name (HELP alone is one
    SMS: tests/test_help.py)."""
    return help_text.for_topic(SimpleNamespace(language=language), "CIRCLES")


def short_report(language: str) -> str:
    """The learner's report: the main figures, a thank-you and the report's link, whose ~60
    characters take it past one segment."""
    circle = SimpleNamespace(name=CIRCLE, report_token=REPORT_TOKEN)
    report = circle_report.Report(
        circle, meetings=[(MEETING, 15, 14)] * 12, goals=[5, 4, 4, 3, 5, 4, 2, 4, 5, 4, 4, 3, 5, 4]
    )
    return circle_report.short(report, language)


LONG_BY_NATURE = {"help topic": help_topic, "report": short_report}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(LONG_BY_NATURE))
def test_a_long_learner_text_is_still_one_message(settings, name, language):
    text = to_gsm7(LONG_BY_NATURE[name](language))
    assert fits(text, SMS), f"{segments(text)} segments: {text}"
    assert segments(text) > 1, f"{name} fits one SMS now: drop it from LONG_BY_NATURE"
