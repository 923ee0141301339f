"""Answer parsers read real replies the way people send them, in English and Swahili."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from conversations.parsers import (
    HINT_KEYS,
    ParseContext,
    Parsed,
    YesNo,
    choice,
    confirmation,
    date_time,
    duration_minutes,
    limit,
    number,
    optional,
    parse_yes_no,
    text,
    weeks,
    yes_no,
    yes_no_or_line,
)

NAIROBI = "Africa/Nairobi"
CHICAGO = "America/Chicago"
# Sunday 22 November 2026, 09:00 UTC: 12:00 in Nairobi, 03:00 in Chicago.
SUNDAY = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def in_zone(zone: str, at: datetime = SUNDAY) -> ParseContext:
    return ParseContext(language="en", timezone=zone, now=at)


# --- yes / no -------------------------------------------------------------------------------

YES, NO, NOT_AN_RSVP = True, False, None

RSVP_REPLIES = [
    # English yes, as typed on phones
    ("yes", YES),
    ("y", YES),
    ("Y", YES),
    ("yeah", YES),
    ("yep", YES),
    ("yup", YES),
    ("ya", YES),
    ("yea", YES),
    ("yes!", YES),
    ("Yes.", YES),
    ("YES please", YES),
    ("YES!!!", YES),
    ("sure", YES),
    ("ok", YES),
    ("okay", YES),
    ("Ok thanks", YES),
    ("of course", YES),
    ("definitely", YES),
    ("I'll be there", YES),
    ("I’ll be there", YES),
    ("ill be there", YES),
    ("i will come", YES),
    ("I'm coming", YES),
    ("count me in", YES),
    ("see you there", YES),
    ("Yes, see you on Tuesday", YES),
    ("Good morning! Yes I'll attend", YES),
    ("No problem, I'll be there", YES),
    ("will be there", YES),
    ("Can't wait!", YES),
    ("Yes I will be a bit late", YES),
    # typos and stretched words
    ("yess", YES),
    ("yesss", YES),
    ("yse", YES),
    ("yws", YES),
    # emoji, with and without skin tones
    ("👍", YES),
    ("👍🏾", YES),
    ("✅", YES),
    ("👌", YES),
    ("🙋", YES),
    ("🙋🏽‍♀️", YES),
    ("Yep 👍", YES),
    # Swahili yes
    ("ndiyo", YES),
    ("Ndio", YES),
    ("ndyo", YES),
    ("naam", YES),
    ("sawa", YES),
    ("Poa", YES),
    ("nitakuja", YES),
    ("nitafika", YES),
    ("nipo", YES),
    ("ndiyo nitakuja", YES),
    ("Sawa mwalimu, nitakuja", YES),
    ("Nitakuja na rafiki yangu", YES),
    ("Nitakuwepo", YES),
    ("ndio kabisa", YES),
    ("nitakja", YES),
    # English no
    ("no", NO),
    ("n", NO),
    ("N", NO),
    ("nope", NO),
    ("nah", NO),
    ("no thanks", NO),
    ("not this time", NO),
    ("can't make it", NO),
    ("cant make it", NO),
    ("can not come", NO),
    ("I won't be there", NO),
    ("i wont make it", NO),
    ("sorry can't", NO),
    ("unable", NO),
    ("I am not coming", NO),
    ("definitely not", NO),
    ("No I'm travelling that week", NO),
    ("Sorry I can't make it, I'm travelling to Nairobi for a funeral", NO),
    ("Ok no, I can't", NO),
    ("noo", NO),
    ("nooo", NO),
    ("nop", NO),
    ("👎", NO),
    ("❌", NO),
    ("Nope, sorry 😔", NO),
    # Swahili no
    ("hapana", NO),
    ("Hapana asante", NO),
    ("la", NO),
    ("La, sitapata nafasi", NO),
    ("siwezi", NO),
    ("Siwezi kuja", NO),
    ("sitaweza", NO),
    ("sitaweza kuja", NO),
    ("sitakuja", NO),
    ("sitafika", NO),
    ("hapana sitakuja", NO),
    ("Sawa, sitakuja", NO),
    ("Sitaweza kufika, niko safarini", NO),
    ("hapna", NO),
    # not an answer to "are you coming?"
    ("what time is it?", NOT_AN_RSVP),
    ("yes, what time?", NOT_AN_RSVP),
    ("who is coming", NOT_AN_RSVP),
    ("Is there a meeting tomorrow", NOT_AN_RSVP),
    ("maybe", NOT_AN_RSVP),
    ("labda", NOT_AN_RSVP),
    ("not sure", NOT_AN_RSVP),
    ("sijui", NOT_AN_RSVP),
    ("nitajaribu", NOT_AN_RSVP),
    ("I hope so", NOT_AN_RSVP),
    ("yes if it does not rain", NOT_AN_RSVP),
    ("🤷", NOT_AN_RSVP),
    ("yes no", NOT_AN_RSVP),
    ("Yes but I can't", NOT_AN_RSVP),
    ("", NOT_AN_RSVP),
    ("   ", NOT_AN_RSVP),
    ("STOP", NOT_AN_RSVP),
    ("Stop.", NOT_AN_RSVP),
    ("YES STOP", NOT_AN_RSVP),
    ("JOIN PY7K", NOT_AN_RSVP),
    ("HELP", NOT_AN_RSVP),
    ("hello", NOT_AN_RSVP),
    ("Thank you", NOT_AN_RSVP),
    ("🙏", NOT_AN_RSVP),
    ("2", NOT_AN_RSVP),
    ("I went to the market yesterday and bought some sugar for the children", NOT_AN_RSVP),
    ("There is no water at the library today", NOT_AN_RSVP),
    ("ok so I was wondering about renewing my library card before the holidays", NOT_AN_RSVP),
]


@pytest.mark.parametrize(
    ("reply", "meaning"), RSVP_REPLIES, ids=[r or "<empty>" for r, _ in RSVP_REPLIES]
)
def test_rsvp_replies_are_read_as_people_mean_them(reply, meaning):
    assert parse_yes_no(reply) is meaning


def test_the_rsvp_table_covers_both_languages_and_all_three_outcomes():
    meanings = [meaning for _, meaning in RSVP_REPLIES]
    assert len(RSVP_REPLIES) >= 60
    assert min(meanings.count(YES), meanings.count(NO), meanings.count(NOT_AN_RSVP)) >= 10


def test_yes_no_parser_returns_the_answer_as_its_value():
    assert yes_no()("Ndiyo", ParseContext()) == Parsed(ok=True, value=True)
    assert yes_no()("hapana", ParseContext()) == Parsed(ok=True, value=False)


def test_a_reply_that_is_not_an_rsvp_is_asked_again_with_a_hint():
    assert yes_no()("maybe", ParseContext()) == Parsed(ok=False, hint="parse.yes_no")


@pytest.mark.parametrize("reply", ["no", "No", "NO.", "noooo"])
def test_no_is_never_mistaken_for_yes_by_typo_tolerance(reply):
    assert parse_yes_no(reply) is False


@pytest.mark.parametrize("reply", ["hope", "yo", "so", "go", "nice", "mine"])
def test_short_or_unrelated_words_are_not_stretched_into_answers(reply):
    assert parse_yes_no(reply) is None


# --- confirmations --------------------------------------------------------------------------

AGREED, DECLINED = Parsed(ok=True, value=True), Parsed(ok=True, value=False)
LEAVES, ASKED_AGAIN = Parsed(ok=False, leaves=True), Parsed(ok=False, hint="parse.yes_no")

CONFIRMATION_REPLIES = [
    ("yes", AGREED),
    ("Yes!", AGREED),
    ("YES.", AGREED),
    ("y", AGREED),
    ("yesss", AGREED),
    ("ndiyo", AGREED),
    ("Ndio", AGREED),
    ("naam", AGREED),
    ("Yes please", AGREED),
    ("yes, thank you", AGREED),
    ("Ndiyo asante", AGREED),
    ("I agree", AGREED),
    ("nakubali", AGREED),
    ("ＹＥＳ", AGREED),
    ("yes 👍🏾", AGREED),
    ("no", DECLINED),
    ("NO.", DECLINED),
    ("n", DECLINED),
    ("hapana", DECLINED),
    ("not now", DECLINED),
    ("sitaki", DECLINED),
    ("No thanks", DECLINED),
    ("next time", LEAVES),
    ("NEW", LEAVES),
    ("FIND Nairobi", LEAVES),
    ("find nairobi", LEAVES),
    ("/join PY7K", LEAVES),
    ("CIRCLES", LEAVES),
    ("MSG see you all", LEAVES),
    ("ujumbe", LEAVES),
    ("help me", LEAVES),
    ("stop please", LEAVES),
    ("fine", ASKED_AGAIN),
    ("ok", ASKED_AGAIN),
    ("OK sure", ASKED_AGAIN),
    ("okay", ASKED_AGAIN),
    ("k", ASKED_AGAIN),
    ("sure", ASKED_AGAIN),
    ("sawa", ASKED_AGAIN),
    ("poa", ASKED_AGAIN),
    ("of course", ASKED_AGAIN),
    ("👍", ASKED_AGAIN),
    ("👍🏿", ASKED_AGAIN),
    ("✅", ASKED_AGAIN),
    ("yse", ASKED_AGAIN),
    ("yes?", ASKED_AGAIN),
    ("yes 👎", ASKED_AGAIN),
    ("yes but later", ASKED_AGAIN),
    ("yes no", ASKED_AGAIN),
    ("maybe", ASKED_AGAIN),
    ("Nairobi", ASKED_AGAIN),
    ("", ASKED_AGAIN),
]


@pytest.mark.parametrize(
    ("reply", "parsed"), CONFIRMATION_REPLIES, ids=[r or "<empty>" for r, _ in CONFIRMATION_REPLIES]
)
def test_a_confirmation_takes_only_an_explicit_yes(reply, parsed):
    assert confirmation()(reply, ParseContext()) == parsed


@pytest.mark.parametrize("reply", ["fine", "ok", "sure", "👍", "FIND Nairobi"])
def test_what_a_confirmation_refuses_is_still_a_yes_to_a_reminder(reply):
    assert parse_yes_no(reply) is True


# --- numbers --------------------------------------------------------------------------------

RATING_REPLIES = [
    ("4", 4),
    (" 4 ", 4),
    ("4.", 4),
    ("4/5", 4),
    ("4 out of 5", 4),
    ("4 stars", 4),
    ("four", 4),
    ("Five!", 5),
    ("nne", 4),
    ("tano", 5),
    ("⭐⭐⭐⭐", 4),
    ("★★★☆☆", 3),
    ("4️⃣", 4),
]


@pytest.mark.parametrize(("reply", "rating"), RATING_REPLIES)
def test_ratings_are_read_from_digits_words_and_stars(reply, rating):
    assert number(1, 5)(reply, ParseContext()) == Parsed(ok=True, value=rating)


ATTENDANCE_REPLIES = [
    ("12 people", 12),
    ("about 30", 30),
    ("twenty-one", 21),
    ("kumi na mbili", 12),
    ("watu ishirini na tano", 25),
    ("no one came", 0),
    ("hakuna", 0),
    ("0", 0),
]


@pytest.mark.parametrize(("reply", "count"), ATTENDANCE_REPLIES)
def test_attendance_counts_in_english_and_swahili(reply, count):
    assert number(0, 500)(reply, ParseContext()).value == count


@pytest.mark.parametrize("reply", ["6", "0", "-1", "sita"])
def test_a_rating_out_of_range_says_the_range(reply):
    assert number(1, 5)(reply, ParseContext()) == Parsed(
        ok=False, hint="parse.number_range", hint_vars={"lo": 1, "hi": 5}
    )


@pytest.mark.parametrize("reply", ["", "good", "4.5", "3-4", "12 or 13", "⭐⭐⭐⭐ great"])
def test_a_reply_that_is_not_one_whole_number_asks_for_a_number(reply):
    assert number(1, 5)(reply, ParseContext()) == Parsed(ok=False, hint="parse.number")


# --- choices --------------------------------------------------------------------------------

CIRCLES = ("Python for Everybody – Nakuru Library", "Public Speaking – Kisumu", "Digital Literacy")

CHOICE_REPLIES = [
    ("2", 1),
    ("2.", 1),
    ("#3", 2),
    ("option 1", 0),
    ("two", 1),
    ("mbili", 1),
    ("public speaking – kisumu", 1),
    ("DIGITAL LITERACY", 2),
    ("python", 0),
    ("Pyhton for everybody", 0),
    ("kisumu", 1),
]


@pytest.mark.parametrize(("reply", "index"), CHOICE_REPLIES)
def test_a_learner_in_two_circles_can_name_one_by_number_or_name(reply, index):
    assert choice(CIRCLES)(reply, ParseContext()) == Parsed(ok=True, value=index)


@pytest.mark.parametrize("reply", ["4", "0", "", "lit", "Mombasa", "yes"])
def test_an_unclear_choice_asks_for_a_number_from_the_list(reply):
    assert choice(CIRCLES)(reply, ParseContext()) == Parsed(
        ok=False, hint="parse.choice", hint_vars={"count": 3}
    )


@pytest.mark.parametrize("reply", ["MY", "next", "/who", "JOIN PY7K", "vyangu"])
def test_a_command_word_at_a_choice_leaves_the_dialog(reply):
    assert choice(CIRCLES)(reply, ParseContext()).leaves


def test_an_option_named_like_a_command_is_still_an_answer():
    assert choice(("Next steps", "Public Speaking"))("next steps", ParseContext()).value == 0
    assert choice(("Feedback", "Public Speaking"))("feedback", ParseContext()).value == 0


def test_a_name_shared_by_two_options_is_not_guessed():
    options = ("Python – Nakuru Library", "Excel – Nakuru Library")
    assert not choice(options)("nakuru", ParseContext()).ok


def test_options_can_depend_on_the_person_asking():
    def languages(ctx: ParseContext) -> list[str]:
        return ["Kiingereza", "Kiswahili"] if ctx.language == "sw" else ["English", "Kiswahili"]

    assert choice(languages)("kiingereza", ParseContext(language="sw")).value == 0
    assert not choice(languages)("kiingereza", ParseContext(language="en")).ok


# --- free text and skipping -----------------------------------------------------------------


def test_a_goal_is_stripped_of_spaces_and_control_characters():
    reply = "  Learn Python\x00 for my job\u202e \r\nand more\t "
    assert text()(reply, ParseContext()).value == "Learn Python for my job \nand more"


@pytest.mark.parametrize("reply", ["", "   ", "\x00\x07"])
def test_an_empty_answer_is_asked_again(reply):
    assert text()(reply, ParseContext()).hint == "parse.text_empty"


def test_a_too_long_answer_says_the_limit():
    assert text(max_len=20)("x" * 21, ParseContext()) == Parsed(
        ok=False, hint="parse.text_too_long", hint_vars={"max": 20}
    )
    assert text(max_len=20)("x" * 20, ParseContext()).ok


def test_swahili_text_and_emoji_are_kept_as_written():
    assert text()("Kujifunza kompyuta 💻", ParseContext()).value == "Kujifunza kompyuta 💻"


@pytest.mark.parametrize("reply", ["skip", "SKIP", "Skip.", "ruka", "RUKA!"])
def test_an_optional_question_can_be_skipped_in_either_language(reply):
    assert optional(number(1, 5))(reply, ParseContext()) == Parsed(ok=True, value=None)


def test_an_optional_question_still_checks_a_real_answer():
    assert optional(number(1, 5))("3", ParseContext()).value == 3
    assert optional(number(1, 5))("lots", ParseContext()).hint == "parse.number"
    assert optional(text(), skip_words=("none",))("None", ParseContext()).value is None


# --- dates and times ------------------------------------------------------------------------


def at_local(zone: str, *args: int) -> datetime:
    """The UTC instant of a wall-clock time in ``zone``."""
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@time_machine.travel(SUNDAY, tick=False)
def test_next_tuesday_evening_in_nairobi_is_stored_in_utc():
    parsed = date_time()("next Tuesday 6pm", ParseContext(timezone=NAIROBI))
    assert parsed == Parsed(ok=True, value=datetime(2026, 11, 24, 15, 0, tzinfo=UTC))


@time_machine.travel(SUNDAY, tick=False)
def test_chicago_reads_12_3_as_the_third_of_december():
    parsed = date_time()("12/3 18:00", ParseContext(timezone=CHICAGO))
    assert parsed.value == datetime(2026, 12, 4, 0, 0, tzinfo=UTC)


@time_machine.travel(SUNDAY, tick=False)
def test_kenya_reads_12_3_as_the_twelfth_of_march():
    parsed = date_time()("12/3 18:00", ParseContext(timezone=NAIROBI))
    assert parsed.value == at_local(NAIROBI, 2027, 3, 12, 18, 0)


ENGLISH_DATES = [
    ("tuesday 18:00", (2026, 11, 24, 18, 0)),
    ("Tue 6:30 pm", (2026, 11, 24, 18, 30)),
    ("2026-12-03 18:00", (2026, 12, 3, 18, 0)),
    ("tomorrow 6pm", (2026, 11, 23, 18, 0)),
    ("tmrw 6pm", (2026, 11, 23, 18, 0)),
    ("Dec 3 at 6:30pm", (2026, 12, 3, 18, 30)),
    ("3rd December 18:00", (2026, 12, 3, 18, 0)),
    ("next Tuesday at 6pm please", (2026, 11, 24, 18, 0)),
]


@time_machine.travel(SUNDAY, tick=False)
@pytest.mark.parametrize(("reply", "local"), ENGLISH_DATES)
def test_first_meeting_dates_as_facilitators_type_them(reply, local):
    assert date_time()(reply, ParseContext(timezone=NAIROBI)).value == at_local(NAIROBI, *local)


@time_machine.travel(SUNDAY, tick=False)
def test_swahili_evening_hours_are_counted_from_sunrise():
    parsed = date_time()("Jumanne saa kumi na mbili jioni", ParseContext(timezone=NAIROBI))
    assert parsed.value == at_local(NAIROBI, 2026, 11, 24, 18, 0)


SWAHILI_DATES = [
    ("kesho saa 12 jioni", (2026, 11, 23, 18, 0)),
    ("Jumanne ijayo saa 12 jioni", (2026, 11, 24, 18, 0)),
    ("Jumamosi saa nne asubuhi", (2026, 11, 28, 10, 0)),
    ("jumanne saa 2 usiku", (2026, 11, 24, 20, 0)),
    ("leo saa 4 usiku", (2026, 11, 22, 22, 0)),
    ("kesho saa moja kasoro robo jioni", (2026, 11, 23, 18, 45)),
    ("kesho saa 12 na nusu jioni", (2026, 11, 23, 18, 30)),
    ("kesho saa 3", (2026, 11, 23, 9, 0)),
    ("tarehe 3 Desemba saa 2 asubuhi", (2026, 12, 3, 8, 0)),
    ("Alhamisi 18:00", (2026, 11, 26, 18, 0)),
]


@time_machine.travel(SUNDAY, tick=False)
@pytest.mark.parametrize(("reply", "local"), SWAHILI_DATES)
def test_swahili_dates_and_times(reply, local):
    assert date_time()(reply, ParseContext(timezone=NAIROBI)).value == at_local(NAIROBI, *local)


@time_machine.travel(SUNDAY, tick=False)
def test_an_english_hour_with_a_swahili_part_of_day_keeps_its_meaning():
    # "saa 2 mchana" cannot be 08:00 (mchana is midday), so it is the English 2 pm.
    parsed = date_time()("kesho saa 2 mchana", ParseContext(timezone=NAIROBI))
    assert parsed.value == at_local(NAIROBI, 2026, 11, 23, 14, 0)


@time_machine.travel(SUNDAY, tick=False)
@pytest.mark.parametrize("reply", ["tuesday", "12/3", "Jumanne", "kesho", "tomorrow evening"])
def test_a_date_without_a_time_asks_for_the_time(reply):
    assert date_time()(reply, ParseContext(timezone=NAIROBI)) == Parsed(
        ok=False, hint="parse.need_time"
    )


@time_machine.travel(SUNDAY, tick=False)
@pytest.mark.parametrize("reply", ["2025-01-01 10:00", "yesterday 6pm", "today 9am"])
def test_a_date_in_the_past_is_refused(reply):
    assert date_time()(reply, ParseContext(timezone=NAIROBI)) == Parsed(
        ok=False, hint="parse.date_past"
    )


@time_machine.travel(SUNDAY, tick=False)
def test_a_past_date_is_fine_when_the_question_allows_it():
    parsed = date_time(future_only=False)("2025-01-01 10:00", ParseContext(timezone=NAIROBI))
    assert parsed.value == at_local(NAIROBI, 2025, 1, 1, 10, 0)


@time_machine.travel(SUNDAY, tick=False)
@pytest.mark.parametrize("reply", ["6", "12", "hello", "yes", "6pm", "", "31/2 18:00"])
def test_a_bare_number_or_garbage_is_not_a_date(reply):
    assert date_time()(reply, ParseContext(timezone=NAIROBI)) == Parsed(ok=False, hint="parse.date")


def test_a_summer_meeting_keeps_its_wall_clock_time_across_daylight_saving():
    parsed = date_time()("2027-07-01 18:00", in_zone(CHICAGO))
    assert parsed.value == datetime(2027, 7, 1, 23, 0, tzinfo=UTC)


def test_the_context_time_wins_over_the_clock():
    later = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert date_time()("next Tuesday 6pm", in_zone(NAIROBI, later)).value == at_local(
        NAIROBI, 2026, 12, 1, 18, 0
    )


# --- the catalog keys -----------------------------------------------------------------------


def test_every_refusal_uses_a_listed_catalog_key():
    ctx = in_zone(NAIROBI)
    refusals = [
        yes_no()("maybe", ctx),
        number(1, 5)("x", ctx),
        number(1, 5)("9", ctx),
        choice(["a", "b"])("9", ctx),
        date_time()("hello", ctx),
        date_time()("tuesday", ctx),
        date_time()("2025-01-01 10:00", ctx),
        text()("", ctx),
        text(max_len=1)("ab", ctx),
        duration_minutes(15, 600)("2", ctx),
        duration_minutes(15, 600)("12 hours", ctx),
        yes_no_or_line(["name"])("maybe", ctx),
    ]
    assert {parsed.hint for parsed in refusals} == set(HINT_KEYS)


# --- lengths, weeks and limits --------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "minutes"),
    [
        ("90", 90), ("90 min", 90), ("90mins", 90), ("90 minutes.", 90), ("90 min each", 90),
        ("2 hours", 120), ("2 hrs", 120), ("2h", 120), ("two hours", 120), ("an hour", 60),
        ("1.5 hours", 90), ("1,5 hours", 90), ("1 hour 30", 90), ("1h30", 90),
        ("1 hour and 30 minutes", 90), ("an hour and a half", 90), ("one and a half hours", 90),
        ("half an hour", 30), ("forty-five minutes", 45),
        # Swahili: the unit comes first, and "saa" counts hours here, not the time of day.
        ("saa 2", 120), ("saa mbili", 120), ("masaa mawili", 120), ("lisaa limoja", 60),
        ("dakika 90", 90), ("dakika tisini", 90), ("dakika arobaini na tano", 45),
        ("saa moja na nusu", 90), ("saa 1 na dakika 30", 90), ("saa mbili kasoro robo", 105),
        ("nusu saa", 30),
    ],
)  # fmt: skip
def test_meeting_lengths_in_minutes_or_hours_in_both_languages(reply, minutes):
    assert duration_minutes(15, 600)(reply) == Parsed(ok=True, value=minutes)


@pytest.mark.parametrize(
    "reply", ["2", "1.5", "10", "two", "2-3 hours", "2 or 3 hours", "1:30", "saa 2 usiku",
              "hours", "1 hour 90", "soon"],
)  # fmt: skip
def test_a_length_that_could_mean_two_things_is_not_guessed(reply):
    # A bare "2" is two minutes or two hours: ask, with an example of both.
    assert duration_minutes(15, 600)(reply) == Parsed(ok=False, hint="parse.duration")


@pytest.mark.parametrize("reply", ["700", "12 hours", "saa kumi na mbili", "dakika 5"])
def test_a_length_out_of_range_says_the_range_in_minutes(reply):
    assert duration_minutes(15, 600)(reply) == Parsed(
        ok=False, hint="parse.duration_range", hint_vars={"lo": 15, "hi": 600}
    )


@pytest.mark.parametrize(
    "reply", ["8", "8 weeks", "8weeks", "eight weeks", "for 8 weeks", "wiki 8", "wiki nane",
              "kwa wiki nane"],
)  # fmt: skip
def test_weeks_with_or_without_the_word(reply):
    assert weeks(1, 52)(reply) == Parsed(ok=True, value=8)


def test_weeks_still_check_the_range_and_want_a_number():
    assert weeks(1, 52)("60 weeks").hint == "parse.number_range"
    assert weeks(1, 52)("wiki").hint == "parse.number"
    assert weeks(1, 52)("6 or 8 weeks").hint == "parse.number"


@pytest.mark.parametrize(
    "reply", ["no limit", "No limit!", "no-limit", "unlimited", "none", "no", "skip", "ok",
              "hakuna", "hakuna kikomo", "bila kikomo", "ruka", "sawa", "hapana"],
)  # fmt: skip
def test_no_limit_in_the_ways_people_say_it(reply):
    assert limit(1, 1000)(reply) == Parsed(ok=True, value=None)


def test_a_limit_is_still_a_number_in_range():
    assert limit(1, 1000)("12 learners") == Parsed(ok=True, value=12)
    assert limit(1, 1000)("0").hint == "parse.number_range"
    assert limit(1, 1000)("yes").hint == "parse.number"  # yes, but how many?


# --- a numbered summary ---------------------------------------------------------------------

LINES = ("name", "venue", "city")


@pytest.mark.parametrize(
    ("reply", "value"),
    [
        ("yes", True), ("Ndiyo", True), ("ok", True), ("👍", True), ("no", False),
        ("hapana", False), ("2", "venue"), ("#2", "venue"), ("2.", "venue"), ("line 2", "venue"),
        ("mstari 2", "venue"), ("change 3", "city"), ("badilisha 3", "city"), ("no 3", "city"),
        ("two", "venue"), ("mbili", "venue"), ("1", "name"),
    ],
)  # fmt: skip
def test_a_summary_takes_yes_no_or_a_line_number(reply, value):
    assert yes_no_or_line(LINES)(reply) == Parsed(ok=True, value=value)


@pytest.mark.parametrize("reply", ["4", "0", "yes 2", "2 and 3", "maybe", "sijui"])
def test_an_unclear_summary_reply_asks_for_yes_no_or_a_line(reply):
    assert yes_no_or_line(LINES)(reply) == Parsed(
        ok=False, hint="parse.yes_no_line", hint_vars={"count": 3}
    )


def test_a_numbered_summary_is_still_a_yes_no_question_for_the_buttons():
    assert isinstance(yes_no_or_line(LINES), YesNo)
