"""The console's teams and circles pages: each team's circles, learners, RSVPs, reflections,
report links and latest digest as it went, for the operators who see that team only."""

from __future__ import annotations

import html
import re
from datetime import datetime

import pytest
import time_machine
from markupsafe import escape
from sqlalchemy import func
from sqlmodel import select

from bot.db import session_scope
from bot.identity import contact_for
from models.circles import Meeting, Rsvp, Signup
from models.feedback import LEARNER, Reflection, SurveyResponse
from models.people import Contact, Person
from models.teams import GroupChat
from tests.support import world
from tests.support.console import operator, page_queries, sign_in
from tests.support.timeline import at, tick_at

NOW = at("2026-12-02T09:00:00+00:00")  # a Wednesday, noon in Nakuru
ORGANIZER = 70001  # Wanjiru, on Telegram
GROUP = -100200
REPORT = "Xq3v9Lk2Pz8Rt5Wm1Nb7Yc"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def learner(session, circle, number: str, **fields) -> Signup:
    contact = contact_for(session, "sms", number)
    session.get(Person, contact.person_id).name = f"Amina Kamau {number[-2:]}"
    fields = {"joined_at": at("2026-11-01T10:00:00+00:00")} | fields
    signup = Signup(circle_id=circle.id, person_id=contact.person_id, contact_id=contact.id,
                    goal=f"my own goal {number[-2:]}", **fields)  # fmt: skip
    session.add(signup)
    session.flush()
    return signup


def make_teams() -> dict[str, int]:
    """Nakuru: Python running (three learners: yes, no and silent for 8 Dec, one who left; a
    reflection on 1 Dec; the 15 Dec meeting moved, 22 Dec's called off) and Poetry finished
    with its report; Chicago with Chess; and a circle of no team."""
    with session_scope() as session:
        nakuru = world.team(session, "Nakuru Libraries", "Africa/Nairobi", f"telegram:{ORGANIZER}")
        world.named(session, f"telegram:{ORGANIZER}", "Wanjiru")
        otieno = world.named(session, "sms:+254700000002", "Otieno")
        session.add(Contact(person_id=otieno, channel="whatsapp", address="+254700000002"))
        python = world.circle(session, nakuru, "sms:+254700000002", datetime(2026, 11, 24, 18),
                              limit=12)  # fmt: skip
        _, dec1, dec8, dec15, dec22, _ = world.meetings_of(session, python)
        dec15.starts_at, dec15.ends_at = at("2026-12-16T15:00:00+00:00"), at("2026-12-16T16:30Z")
        dec22.status = "cancelled"
        yes = learner(session, python, "+254711000001")
        no = learner(session, python, "+254711000002")
        learner(session, python, "+254711000003")
        gone = learner(session, python, "+254711000004", left_at=at("2026-12-01T08:00:00+00:00"))
        session.add_all([Rsvp(meeting_id=dec8.id, signup_id=yes.id, attending=True),
                         Rsvp(meeting_id=dec8.id, signup_id=no.id, attending=False),
                         Rsvp(meeting_id=dec8.id, signup_id=gone.id, attending=True),
                         Rsvp(meeting_id=dec1.id, signup_id=yes.id, attending=True)])  # fmt: skip
        session.add(Reflection(meeting_id=dec1.id, person_id=otieno, rating=4, attendance=2,
                               went_well="Great <b>questions</b>", to_change="Start on time"))  # fmt: skip
        world.named(session, "sms:+254700000005", "Juma")
        poetry = world.circle(session, nakuru, "sms:+254700000005", datetime(2026, 11, 10, 17),
                              name="Poetry", course="Poems", weeks=2, status="finished")  # fmt: skip
        poetry.report_token = REPORT
        reader = learner(session, poetry, "+254711000009")
        session.add(SurveyResponse(circle_id=poetry.id, person_id=reader.person_id, role=LEARNER,
                                   goal_met=4, completed_at=at("2026-11-18T10:00:00+00:00")))  # fmt: skip
        chicago = world.team(session, "Chicago Libraries", "America/Chicago", "sms:+15550000020")
        chess = world.circle(session, chicago, "sms:+15550000021", datetime(2026, 12, 1, 18),
                             name="Chess", course="Chess")  # fmt: skip
        loner = world.circle(session, None, "sms:+15550000031", datetime(2026, 12, 3, 18),
                             name="Solo Study")  # fmt: skip
        return {"nakuru": nakuru.id, "chicago": chicago.id, "python": python.id,
                "poetry": poetry.id, "chess": chess.id, "loner": loner.id}  # fmt: skip


def words(response) -> str:
    """The page's text as a reader sees it: no tags, entities read, spaces folded."""
    source = response if isinstance(response, str) else response.get_data(as_text=True)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", source)).split())


def signed_in_for(client, *teams: int, **options) -> None:
    sign_in(client, operator("ana@nakuru.org", teams=teams, **options))


def test_an_operator_of_one_team_never_sees_another(client):
    ids = make_teams()
    signed_in_for(client, ids["nakuru"])
    listed = words(client.get("/teams"))
    assert "Nakuru Libraries" in listed and "Chicago" not in listed
    assert "Solo Study" not in listed
    for elsewhere in (f"/teams/{ids['chicago']}", f"/circles/{ids['chess']}",
                      f"/circles/{ids['loner']}", "/teams/999", "/circles/999"):  # fmt: skip
        refused = client.get(elsewhere)
        assert refused.status_code == 404, elsewhere
        assert "Not found" in words(refused) and "Chess" not in words(refused)


def test_the_list_tells_each_teams_circles_learners_organizers_and_next_meeting(client):
    ids = make_teams()
    signed_in_for(client, ids["nakuru"])
    listed = words(client.get("/teams"))
    # Three learners still in Python; Poetry's reader is in a finished circle.
    assert (
        "Nakuru Libraries Africa/Nairobi Wanjiru 1 open, 1 finished 3 Tue 8 Dec, 18:00 "
        "No digest sent yet"
    ) in listed


def test_an_operator_of_all_teams_sees_every_team_and_the_circles_of_none(client):
    ids = make_teams()
    signed_in_for(client, all_teams=True)
    listed = words(client.get("/teams"))
    assert "Chicago Libraries America/Chicago" in listed and "Nakuru Libraries" in listed
    assert "Circles without a team Solo Study" in listed
    assert client.get(f"/teams/{ids['chicago']}").status_code == 200
    assert "Chess" in words(client.get(f"/circles/{ids['chess']}"))
    alone = words(client.get(f"/circles/{ids['loner']}"))
    assert "Solo Study" in alone and "no team" in alone


def test_a_team_page_shows_circles_rsvps_reflections_and_the_report(client):
    ids = make_teams()
    signed_in_for(client, ids["nakuru"])
    page = client.get(f"/teams/{ids['nakuru']}")
    source, shown = page.get_data(as_text=True), words(page)
    assert page.status_code == 200
    assert "Times in Africa/Nairobi." in shown
    assert "Wanjiru: organizer (telegram)" in shown
    assert "Otieno: facilitator (sms, whatsapp)" in shown
    # The one who left is not counted: three learners, one yes, one no, one silent.
    assert "Python Python · Library, Nakuru · Otieno open " in shown
    assert (
        "Tue 24 Nov, 18:00 Tue 8 Dec, 18:00 3 of 12 1 yes, 1 no, 1 no answer "
        "next meeting, Tue 8 Dec, 18:00 1 latest: 4/5, 2 came. "
        "Went well: Great <b>questions</b>. To change: Start on time."
    ) in shown
    assert "<b>questions" not in source  # the facilitator's words are shown, never run
    # A finished circle shows its last meeting's answers and its public report.
    assert (
        "Poetry Poems · Library, Nakuru · Juma finished Tue 10 Nov, 17:00 – 1 "
        "0 yes, 0 no, 1 no answer last meeting, Tue 17 Nov, 17:00 0 report page"
    ) in shown
    assert f'href="/reports/{REPORT}"' in source
    assert client.get(f"/reports/{REPORT}").status_code == 200
    # Learners are counted, never named, reached or read.
    for private in ("Amina", "+2547110000", "my own goal"):
        assert private not in shown
    assert "No group chat linked" in shown


def test_the_latest_digest_shows_as_it_was_sent_to_the_group(client, run_jobs, fake_telegram,
                                                              twilio_api):  # fmt: skip
    ids = make_teams()
    with session_scope() as session:
        session.add(
            GroupChat(
                channel="telegram",
                chat_id=str(GROUP),
                title="Nakuru organizers",
                team_id=ids["nakuru"],
                linked_at=at("2026-11-21T09:00:00+00:00"),
            )
        )
    tick_at("2026-11-30T05:00:00+00:00", run_jobs)  # Monday 08:00 in Nairobi
    tick_at("2026-12-07T05:00:00+00:00", run_jobs)
    earlier, latest = fake_telegram.sent_texts(chat_id=GROUP)
    assert latest.startswith("Weekly digest for Nakuru Libraries, 7 Dec")
    signed_in_for(client, ids["nakuru"])
    page = client.get(f"/teams/{ids['nakuru']}")
    shown = words(page)
    assert "Nakuru organizers (telegram) · linked: gets the digest" in shown
    assert "To the group Nakuru organizers (telegram)" in shown
    assert str(escape(latest)) in page.get_data(as_text=True)  # every line, as it went
    assert "page 1 of 1 · queued Mon 7 Dec, 08:00 · sent Mon 7 Dec, 08:00 · sent" in shown
    assert earlier.splitlines()[0] not in shown  # only the latest week's
    assert "Mon 7 Dec, 08:00" in words(client.get("/teams"))


def test_a_digest_in_pages_shows_every_page_in_order(client, run_jobs, twilio_api):
    with session_scope() as session:
        team = world.team(session, "Big City Libraries", "Africa/Nairobi", "sms:+15550000030")
        world.named(session, "sms:+15550000011", "Zawadi Wanjiku Mwangi")
        for n in range(60):
            world.circle(session, team, "sms:+15550000011", datetime(2026, 12, 10, 18, 0),
                         name=f"Circle {n:02d}: Introduction to Programming", weeks=1)  # fmt: skip
        team_id = team.id
    tick_at("2026-12-07T05:00:00+00:00", run_jobs)
    pages = twilio_api.to("+15550000030")
    assert len(pages) > 3
    signed_in_for(client, team_id)
    source = client.get(f"/teams/{team_id}").get_data(as_text=True)
    shown = [source.index(str(escape(page))) for page in pages]
    assert shown == sorted(shown)
    assert "To (no name) directly (sms)" in words(source)  # no group: to the organizer
    assert f"page {len(pages)} of {len(pages)}" in words(source)


def test_a_circle_page_lists_meetings_with_rsvps_moves_and_attendance(client):
    ids = make_teams()
    signed_in_for(client, ids["nakuru"])
    shown = words(client.get(f"/circles/{ids['python']}"))
    assert "3 learners. 0 of 0 asked answered the end-of-circle survey." in shown
    assert "1 Tue 24 Nov, 18:00 – 0 yes, 0 no, 3 no answer –" in shown
    assert "2 Tue 1 Dec, 18:00 – 1 yes, 0 no, 2 no answer 2" in shown
    assert "3 Tue 8 Dec, 18:00 – 1 yes, 1 no, 1 no answer –" in shown
    assert "4 Wed 16 Dec, 18:00 moved" in shown
    assert "5 Tue 22 Dec, 18:00 cancelled" in shown
    assert "6 Tue 29 Dec, 18:00 –" in shown
    for private in ("Amina", "+2547110000", "my own goal", "Great"):
        assert private not in shown
    finished = words(client.get(f"/circles/{ids['poetry']}"))
    assert "1 learners. 1 of 1 asked answered the end-of-circle survey." in finished
    assert "report page" in finished


def test_meetings_across_the_end_of_daylight_saving_are_not_moved(client):
    with session_scope() as session:
        chicago = world.team(session, "Chicago Libraries", "America/Chicago", "sms:+15550000020")
        chess = world.circle(session, chicago, "sms:+15550000021", datetime(2026, 10, 20, 18),
                             name="Chess")  # fmt: skip
        ids = (chicago.id, chess.id)
    signed_in_for(client, ids[0])
    shown = words(client.get(f"/circles/{ids[1]}"))
    assert "1 Tue 20 Oct, 18:00 –" in shown and "3 Tue 3 Nov, 18:00 –" in shown
    assert "moved" not in shown


def test_signed_out_the_pages_ask_to_sign_in(client):
    ids = make_teams()
    for path in ("/teams", f"/teams/{ids['nakuru']}", f"/circles/{ids['python']}"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/sign-in?next={path}"


def test_in_swahili(client):
    ids = make_teams()
    signed_in_for(client, ids["nakuru"])
    shown = words(client.get(f"/teams/{ids['nakuru']}?lang=sw"))
    assert "Waandaaji na wawezeshaji" in shown and "Wanjiru: mwandaaji" in shown
    assert "1 ndiyo, 1 hapana, 1 hawajajibu mkutano ujao, Jumanne 8 Des, 18:00" in shown
    assert "Hakuna muhtasari uliotumwa bado" in shown
    listed = words(client.get("/teams"))  # the language stays chosen
    assert "Timu" in listed and "Waandaaji" in listed
    assert "Mikutano" in words(client.get(f"/circles/{ids['python']}"))


def busy_team(session, index: int, circles: int, weeks: int) -> int:
    """A team whose circles each have a learner who said yes and a reflection; its id."""
    made = world.team(session, f"Team {index:02d}", "Africa/Nairobi", f"telegram:{80000 + index}")
    for n in range(circles):
        facilitator = f"sms:+1555{index:03d}{n:04d}"
        circle = world.circle(session, made, facilitator, datetime(2026, 11, 24, 18),
                              weeks=weeks)  # fmt: skip
        first, second = world.meetings_of(session, circle)[:2]
        signup = learner(session, circle, f"+1556{index:03d}{n:04d}")
        session.add(Rsvp(meeting_id=second.id, signup_id=signup.id, attending=True))
        session.add(Reflection(meeting_id=first.id, person_id=world.person_id(session, facilitator),
                               rating=5, attendance=1))  # fmt: skip
    return made.id


def test_the_pages_cost_the_same_queries_for_2_or_20_teams_and_circles(client, run_jobs,
                                                                       twilio_api):  # fmt: skip
    signed_in_for(client, all_teams=True)
    with session_scope() as session:
        first = busy_team(session, 0, circles=2, weeks=2)
        busy_team(session, 1, circles=2, weeks=2)
        small = session.exec(select(Meeting.circle_id).limit(1)).one()
    tick_at("2026-11-30T05:00:00+00:00", run_jobs)  # a digest for each
    few = [page_queries(client, path) for path in
           ("/teams", f"/teams/{first}", f"/circles/{small}")]  # fmt: skip
    with session_scope() as session:
        big = busy_team(session, 2, circles=20, weeks=20)
        for index in range(3, 20):
            busy_team(session, index, circles=2, weeks=2)
        large = session.exec(
            select(Meeting.circle_id).group_by(Meeting.circle_id).having(func.count() == 20)
        ).first()
    tick_at("2026-12-07T05:00:00+00:00", run_jobs)
    many = [page_queries(client, path) for path in
            ("/teams", f"/teams/{big}", f"/circles/{large}")]  # fmt: skip
    assert many == few
    assert "Team 19" in words(client.get("/teams"))
