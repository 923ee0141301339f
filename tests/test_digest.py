"""The weekly digest: its sections for a seeded team, its timing across timezones and daylight
saving, once a week, split at channel limits, with a chart, in constant queries."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for
from jobs import digest as digest_job
from models.circles import Rsvp, Signup
from models.feedback import Reflection
from models.message import OUT, Message
from models.people import Person
from models.teams import GroupChat, Team, TeamMember, next_digest_at
from tests.support import world
from tests.support.timeline import at, sweep_queries, tick_at, ticks_at_once

ORGANIZER = 4242  # on Telegram
MONDAY = "2026-12-07T05:00:00+00:00"  # 08:00 in Nairobi

EXPECTED = """Weekly digest for Nakuru Libraries, 7 Dec

This week:
Tue 8 Dec, 18:00: Python (Zawadi), 2 said yes
Thu 10 Dec, 18:00: Speaking (Zawadi), 0 said yes

Last week's reflections:
Python, Tue 1 Dec, 18:00: 4/5, 2 came. Went well: Great questions. To change: Start on time.

New learners:
Python: Brian, goal: build a website

Starting soon:
Speaking: first meeting Thu 10 Dec, 18:00, 0 signed up

Wrapped up:
Poetry: 2 meetings, 5 came on average

Follow up:
No reflection yet: Poetry, Wed 2 Dec, 17:00 (Juma)
No signups yet: Speaking starts Thu 10 Dec, 18:00
Not answering reminders: Chebet (Python)"""


def learner(session, circle, number: str, name: str, joined: str, goal: str) -> Signup:
    contact = contact_for(session, "sms", number)
    session.get(Person, contact.person_id).name = name
    signup = Signup(circle_id=circle.id, person_id=contact.person_id, contact_id=contact.id,
                    goal=goal, joined_at=at(joined))  # fmt: skip
    session.add(signup)
    session.flush()
    return signup


def seed() -> None:
    """Nakuru: Python running (a reflection, a newcomer, a silent learner), Poetry just wrapped
    up without its last reflection, Speaking about to start with nobody; Chicago elsewhere."""
    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"telegram:{ORGANIZER}")
        zawadi = "sms:+15550000011"
        world.named(session, zawadi, "Zawadi")
        world.named(session, "sms:+15550000012", "Juma")
        python = world.circle(session, team, zawadi, datetime(2026, 11, 24, 18, 0),
                              name="Python", weeks=4)  # fmt: skip
        poetry = world.circle(session, team, "sms:+15550000012", datetime(2026, 11, 25, 17, 0),
                              name="Poetry", weeks=2)  # fmt: skip
        world.circle(session, team, zawadi, datetime(2026, 12, 10, 18, 0), name="Speaking")
        nov24, dec1, dec8, _ = world.meetings_of(session, python)
        nov24.reminder_sent_at, dec1.reminder_sent_at = (
            at("2026-11-22T15:00:00+00:00"),
            at("2026-11-29T15:00:00+00:00"),
        )
        amina = learner(session, python, "+15550000101", "Amina", "2026-11-20T10:00:00+00:00",
                        "learn loops")  # fmt: skip
        learner(session, python, "+15550000102", "Chebet", "2026-11-20T11:00:00+00:00", "fun")
        brian = learner(session, python, "+15550000103", "Brian", "2026-12-03T09:00:00+00:00",
                        "build a website")  # fmt: skip
        for meeting in (nov24, dec1, dec8):
            session.add(Rsvp(meeting_id=meeting.id, signup_id=amina.id, attending=True))
        session.add(Rsvp(meeting_id=dec8.id, signup_id=brian.id, attending=True))
        session.add(Reflection(meeting_id=dec1.id, person_id=world.person_id(session, zawadi),
                               rating=4, attendance=2, went_well="Great questions",
                               to_change="Start on time"))  # fmt: skip
        learner(session, poetry, "+15550000104", "Dan", "2026-11-20T12:00:00+00:00", "rhyme")
        nov25, _ = world.meetings_of(session, poetry)
        session.add(Reflection(meeting_id=nov25.id,
                               person_id=world.person_id(session, "sms:+15550000012"),
                               rating=5, attendance=5))  # fmt: skip
        chicago = world.team(session, "Chicago Libraries", "America/Chicago", "sms:+15550000020")
        chess = world.circle(session, chicago, "sms:+15550000021", datetime(2026, 12, 1, 18, 0),
                             name="Chess")  # fmt: skip
        learner(session, chess, "+15550000201", "Carlos", "2026-12-02T10:00:00+00:00", "win")


def test_the_digest_tells_each_section_for_the_team_and_nothing_of_another(
    telegram_user, sms_user, run_jobs
):
    seed()
    tick_at(MONDAY, run_jobs)
    organizer = telegram_user(ORGANIZER)
    assert organizer.replies() == [EXPECTED]
    [chicago] = sms_user("+15550000020").replies()
    assert chicago.startswith("Weekly digest for Chicago Libraries")
    for word in ("Nakuru", "Python", "Poetry", "Speaking", "Zawadi", "Amina", "Brian"):
        assert word not in chicago
    assert "Chess" in chicago and "Carlos" in chicago


def test_the_chart_goes_first_to_a_linked_group_and_carries_the_weeks_figures(
    telegram_user, sms_user, run_jobs, fake_telegram
):
    seed()
    with session_scope() as session:
        team = session.exec(select(Team).where(Team.name == "Nakuru Libraries")).one()
        session.add(GroupChat(channel="telegram", chat_id="-100200", team_id=team.id))
    tick_at(MONDAY, run_jobs)
    # With a group linked, the organizers are not written to directly.
    assert telegram_user(ORGANIZER).replies() == []
    [photo] = fake_telegram.calls("sendPhoto")
    assert photo["params"]["chat_id"] == -100200
    assert photo["files"]["photo"]["head"] == b"\x89PNG\r\n\x1a\n"
    assert fake_telegram.sent_texts(chat_id=-100200) == [EXPECTED]  # as the photo's caption
    with session_scope() as session:
        [row] = session.exec(select(Message).where(Message.group_chat_id.is_not(None))).all()
        chart = row.media[0]["chart"]
    assert chart["title"] == "Attendance, Nakuru Libraries"
    assert chart["weeks"] == ["9 Nov", "16 Nov", "23 Nov", "30 Nov"]
    assert chart["circles"] == [
        {"name": "Python", "yes": [None, None, 1, 1], "came": [None, None, None, 2]},
        {"name": "Poetry", "yes": [None, None, 0, 0], "came": [None, None, 5, None]},
    ]


def test_a_quiet_week_is_one_line(telegram_user, run_jobs):
    with session_scope() as session:
        world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"telegram:{ORGANIZER}")
    tick_at("2026-11-23T05:00:00+00:00", run_jobs)
    assert telegram_user(ORGANIZER).replies() == [
        "A quiet week for Nakuru Libraries: no meetings, reflections or signups to report."
    ]


def test_the_digest_in_the_teams_language_in_its_group(telegram_user, run_jobs, fake_telegram):
    with session_scope() as session:
        team = world.team(session, "Mombasa", "Africa/Nairobi", f"telegram:{ORGANIZER}")
        team.language = "sw"
        session.add(GroupChat(channel="telegram", chat_id="-100300", team_id=team.id))
    tick_at("2026-11-23T05:00:00+00:00", run_jobs)
    assert fake_telegram.sent_texts(chat_id=-100300) == [
        "Wiki tulivu kwa Mombasa: hakuna mikutano, tafakari wala usajili wa kuripoti."
    ]


def organizer_digests(telegram_user) -> int:
    return len(telegram_user(ORGANIZER).replies())


def test_nairobi_gets_it_monday_at_eight_once_however_often_tick_runs(telegram_user, run_jobs):
    with session_scope() as session:
        world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"telegram:{ORGANIZER}")
    tick_at("2026-11-23T04:59:00+00:00", run_jobs)  # 07:59 in Nairobi
    assert organizer_digests(telegram_user) == 0
    for minute in range(5):
        tick_at(f"2026-11-23T05:0{minute}:00+00:00", run_jobs)
    assert organizer_digests(telegram_user) == 1
    # Two ticks at the same moment, the next Monday: still one.
    ticks_at_once("2026-11-30T05:00:00+00:00", 2, run_jobs)
    assert organizer_digests(telegram_user) == 2


def test_chicago_keeps_eight_oclock_across_the_end_of_daylight_saving(telegram_user, run_jobs):
    with session_scope() as session:
        team = world.team(session, "Chicago Libraries", "America/Chicago", f"telegram:{ORGANIZER}")
        team.digest_due_at = next_digest_at(team, at("2026-10-20T00:00:00+00:00"))
    tick_at("2026-10-26T12:59:00+00:00", run_jobs)
    assert organizer_digests(telegram_user) == 0
    tick_at("2026-10-26T13:00:00+00:00", run_jobs)  # 08:00 CDT
    assert organizer_digests(telegram_user) == 1
    tick_at("2026-11-02T13:00:00+00:00", run_jobs)  # 07:00 CST: not yet
    assert organizer_digests(telegram_user) == 1
    tick_at("2026-11-02T14:00:00+00:00", run_jobs)  # 08:00 CST
    assert organizer_digests(telegram_user) == 2


def test_chicago_keeps_eight_oclock_when_daylight_saving_begins(telegram_user, run_jobs):
    with session_scope() as session:
        team = world.team(session, "Chicago Libraries", "America/Chicago", f"telegram:{ORGANIZER}")
        team.digest_due_at = next_digest_at(team, at("2027-03-04T00:00:00+00:00"))
    tick_at("2027-03-08T14:00:00+00:00", run_jobs)  # 08:00 CST
    assert organizer_digests(telegram_user) == 1
    # Clocks go forward on Sunday 14 March.
    tick_at("2027-03-15T13:00:00+00:00", run_jobs)  # 08:00 CDT
    assert organizer_digests(telegram_user) == 2


def test_a_digest_missed_while_the_clock_was_down_goes_once(telegram_user, run_jobs):
    with session_scope() as session:
        world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"telegram:{ORGANIZER}")
    # No tick for two weeks and a day: one digest, not three, and the next on its Monday.
    tick_at("2026-12-08T10:00:00+00:00", run_jobs)
    tick_at("2026-12-08T10:01:00+00:00", run_jobs)
    assert organizer_digests(telegram_user) == 1
    tick_at("2026-12-14T05:00:00+00:00", run_jobs)
    assert organizer_digests(telegram_user) == 2


def sixty_circles() -> list[str]:
    """A team with 60 circles meeting this week; returns their names."""
    names = [f"Circle {n:02d}: Introduction to Computer Programming with Python" for n in range(60)]
    with session_scope() as session:
        team = world.team(session, "Big City Libraries", "Africa/Nairobi", f"telegram:{ORGANIZER}")
        world.named(session, "sms:+15550000011", "Zawadi Wanjiku Mwangi")
        for name in names:
            world.circle(session, team, "sms:+15550000011", datetime(2026, 11, 26, 18, 0),
                         name=name, weeks=1)  # fmt: skip
        session.add(GroupChat(channel="telegram", chat_id="-100400", team_id=team.id))
        team.language = "en"
    return names


def test_sixty_circles_split_into_whole_lines_under_each_limit(
    telegram_user, sms_user, run_jobs, fake_telegram
):
    names = sixty_circles()
    tick_at("2026-11-23T05:00:00+00:00", run_jobs)
    texts = fake_telegram.sent_texts(chat_id=-100400)
    assert len(texts) > 1
    assert all(len(text.encode("utf-16-le")) // 2 <= 4096 for text in texts)
    lines = [line for text in texts for line in text.splitlines()]
    for name in names:  # each meeting line whole, once, in order
        assert sum(line.startswith("Thu 26 Nov, 18:00: " + name) for line in lines) == 1


def test_sixty_circles_by_sms_come_in_pages_of_four_segments(sms_user, run_jobs):
    from bot.sms import segments

    names = sixty_circles()
    with session_scope() as session:
        session.exec(select(GroupChat)).one().team_id = None  # no group: the organizer by SMS
        team = session.exec(select(Team)).one()
        team.digest_due_at = at("2026-11-23T05:00:00+00:00")
        organizer = world.person_id(session, "sms:+15550000030")
        session.add(TeamMember(team_id=team.id, person_id=organizer, role="organizer"))
    tick_at("2026-11-23T05:00:00+00:00", run_jobs)
    pages = sms_user("+15550000030").replies()
    assert len(pages) > 10
    assert all(segments(page) <= 4 for page in pages)
    lines = [line for page in pages for line in page.splitlines()]
    for name in names:
        assert sum(line.startswith("Thu 26 Nov, 18:00: " + name) for line in lines) == 1


def test_a_digest_runs_the_same_queries_for_10_or_1000_circles(settings):
    world.many_circles(10, datetime(2026, 11, 26, 18, 0))
    small = sweep_queries("2026-11-23T05:00:00+00:00", digest_job.sweep)
    with session_scope() as session:
        for team in session.exec(select(Team)).all():
            team.digest_due_at = None  # done with the small team
    world.many_circles(1000, datetime(2026, 11, 26, 18, 0))
    with session_scope() as session:
        big = session.exec(select(Team).where(Team.name == "Team 1000")).one()
        assert big.digest_due_at is not None
    large = sweep_queries("2026-11-23T05:00:00+00:00", digest_job.sweep)
    with session_scope() as session:
        sent = session.exec(select(Message).where(Message.direction == OUT)).all()
    assert {row.purpose for row in sent} == {"digest"}
    assert large == small


def test_learners_who_left_no_longer_count_as_coming(telegram_user, run_jobs):
    seed()
    with session_scope() as session:
        amina = session.exec(select(Person).where(Person.name == "Amina")).one()
        signup = session.exec(select(Signup).where(Signup.person_id == amina.id)).one()
        signup.left_at = at("2026-12-05T10:00:00+00:00")
    tick_at(MONDAY, run_jobs)
    [digest] = telegram_user(ORGANIZER).replies()
    assert "Tue 8 Dec, 18:00: Python (Zawadi), 1 said yes" in digest


def test_two_circles_of_one_name_are_two_lines_in_the_chart(settings):
    from handlers import team_view
    from handlers.team_facts import gather

    with session_scope() as session:
        team = world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"telegram:{ORGANIZER}")
        for venue in ("Nakuru Library", "Naivasha Library"):
            world.circle(session, team, "sms:+15550000011", datetime(2026, 11, 24, 18, 0),
                         venue=venue, weeks=2)  # fmt: skip
        facts = gather(session, [team.id], at(MONDAY))
        chart = team_view.chart(facts[team.id], team, at(MONDAY), "en")
    assert [line["name"] for line in chart["circles"]] == ["Python", "Python"]
    assert [line["yes"] for line in chart["circles"]] == [[None, None, 0, 0]] * 2
