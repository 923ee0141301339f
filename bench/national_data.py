"""A national season for bench.national: teams, circles, learners and history, in bulk.

Rows go straight into the real schema with multi-row Core inserts (history with INSERT …
SELECT on the server), never ORM objects one by one, so that 200,000 learners take a minute or
two. `settle` then puts the world where a tick every minute would have left it just before an
instant, so that the tick measured at that instant finds only what falls due in its minute.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from models.circles import Circle, Facilitation, Meeting, Signup, meeting_times
from models.people import Contact, Person
from models.teams import FACILITATOR, ORGANIZER, GroupChat, Team, TeamMember, next_digest_at

TIMEZONES = ("Africa/Nairobi", "Europe/London", "America/New_York", "America/Chicago")
# Twelve weeks between the end of daylight saving time in the US (1 November) and its start
# (14 March), so that every circle's weekly UTC instant stays put all season.
SEASON_START = date(2026, 11, 9)  # a Monday
CREATED = datetime(2026, 10, 26, tzinfo=UTC)  # when teams, circles and people were made
DIGEST_TIME = time(8, 0)  # Team.digest_hour's default, on Mondays
WEEKS = 12
DURATION_MIN = 90
LEAD = timedelta(hours=48)  # Circle.reminder_lead_hours' default
# The busiest slot: a fifth of all circles meet on Tuesdays at 18:00 UTC (21:00 in Nairobi,
# 18:00 in London, lunchtime in the US), so their reminders all fall due on Sunday at 18:00.
BUSY_WEEKDAY, BUSY_TIME = 1, time(18, 0)
# The probe slot of the 1× / 10× comparison: the only circles that start at 7 past the hour, so
# that nothing but their reminders falls due in the probe's minute (every other circle starts
# on the quarter hour), in a world of any size.
PROBE_WEEKDAY, PROBE_TIME = 5, time(15, 7)
# Everyone else meets on an evening at a quarter hour, spread over the week.
EVENING_SLOTS = [time(17 + q // 4, 15 * (q % 4)) for q in range(16)]  # 17:00 … 20:45
INSERT_ROWS = 5000  # rows per multi-row insert: well under PostgreSQL's 65,535 parameters


@dataclass(frozen=True)
class Shape:
    """How big the season is; learners' channels follow their team's country."""

    teams: int
    circles_per_team: int = 20
    learners_per_circle: int = 20
    probe_teams: int = 10  # their circles make the probe slot (in the first tenth of teams)

    @property
    def circles(self) -> int:
        return self.teams * self.circles_per_team

    @property
    def learners(self) -> int:
        return self.circles * self.learners_per_circle

    def busy(self, team: int) -> bool:
        """A fifth of the teams meet in the busiest slot, a quarter of them in each timezone."""
        return team % 5 == 4

    def probing(self, team: int) -> bool:
        return team in self.probe_team_numbers

    @property
    def probe_team_numbers(self) -> frozenset[int]:
        quiet = [team for team in range(self.teams) if not self.busy(team)]
        return frozenset(quiet[: self.probe_teams])


def timezone_of(team: int) -> str:
    return TIMEZONES[team % len(TIMEZONES)]


# Learners' channels by position in their circle (of ten), per country: Kenyans text the
# Africa's Talking shortcode, the rest a Twilio number; then WhatsApp, then Telegram.
CHANNEL_MIX = {
    "Africa/Nairobi": ["sms"] * 6 + ["whatsapp"] * 2 + ["telegram"] * 2,
    "Europe/London": ["sms"] * 4 + ["whatsapp"] * 4 + ["telegram"] * 2,
    "America/New_York": ["sms"] * 5 + ["whatsapp"] * 3 + ["telegram"] * 2,
    "America/Chicago": ["sms"] * 5 + ["whatsapp"] * 3 + ["telegram"] * 2,
}
STAFF_NUMBERS = 5_000_000  # facilitators and organizers are numbered from here, learners below


def address(channel: str, timezone: str, n: int) -> str:
    """A unique address on the channel, in the team's country for phone numbers."""
    if channel == "telegram":
        return str(1_000_000_000 + n)
    if timezone == "Africa/Nairobi":
        return f"+2547{n:08d}"
    if timezone == "Europe/London":
        return f"+447{n:09d}"
    return f"+1555{n:07d}"


def language_of(timezone: str, n: int) -> str:
    return "sw" if timezone == "Africa/Nairobi" and n % 2 else "en"


def first_meeting(team: int, circle: int, shape: Shape) -> datetime:
    """The UTC instant of the circle's first meeting, in the season's first week."""
    if shape.busy(team):
        weekday, at = BUSY_WEEKDAY, BUSY_TIME
    elif shape.probing(team):
        weekday, at = PROBE_WEEKDAY, PROBE_TIME
    else:
        zone = ZoneInfo(timezone_of(team))
        weekday = (team + circle) % 7
        slot = EVENING_SLOTS[(team * 7 + circle) % len(EVENING_SLOTS)]
        local = datetime.combine(SEASON_START + timedelta(days=weekday), slot, tzinfo=zone)
        instant = local.astimezone(UTC)
        if (instant.weekday(), instant.time()) == (BUSY_WEEKDAY, BUSY_TIME):
            instant += timedelta(minutes=15)  # the busiest slot is the busy teams' alone
        return instant
    return datetime.combine(SEASON_START + timedelta(days=weekday), at, tzinfo=UTC)


def busiest_meeting(week: int) -> datetime:
    """When the busiest slot meets in that week of the season (1-based)."""
    day = SEASON_START + timedelta(days=BUSY_WEEKDAY, weeks=week - 1)
    return datetime.combine(day, BUSY_TIME, tzinfo=UTC)


def probe_meeting(week: int) -> datetime:
    day = SEASON_START + timedelta(days=PROBE_WEEKDAY, weeks=week - 1)
    return datetime.combine(day, PROBE_TIME, tzinfo=UTC)


def last_meeting_end(week: int = WEEKS) -> datetime:
    return busiest_meeting(week) + timedelta(minutes=DURATION_MIN)


def local_instant(day: date, at: time, timezone: str) -> datetime:
    """The UTC instant of a local wall-clock time in that timezone."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def _insert(session, table, rows: list[dict], returning=None) -> list[int]:
    """Insert rows many to a statement; return the new ids in order when asked."""
    ids: list[int] = []
    for start in range(0, len(rows), INSERT_ROWS):
        chunk = rows[start : start + INSERT_ROWS]
        if returning is None:
            session.execute(insert(table), chunk)
        else:
            statement = insert(table).returning(returning, sort_by_parameter_order=True)
            ids += session.scalars(statement, chunk).all()
    return ids


def seed(session, shape: Shape, teams: range, created: datetime) -> None:
    """Add these teams with everything in them: organizer, facilitators, circles of learners
    and their twelve weekly meetings; a team in two has a linked Telegram group. Learners go
    in shuffled, as people sign up over weeks across the country, not team by team."""
    team_rows, staff = [], []
    for team in teams:
        zone = timezone_of(team)
        team_rows.append(
            {"name": f"Team {team}", "slug": f"team-{team}", "timezone": zone,
             "language": "en", "digest_weekday": 0, "digest_hour": 8, "digest_minute": 0,
             "invite_code": f"T{team:07d}", "open_signup": True, "sandbox": False,
             "created_at": created}
        )  # fmt: skip
        # The organizer, then one facilitator per circle, all by SMS in the team's country.
        for n in range(shape.circles_per_team + 1):
            number = STAFF_NUMBERS + team * (shape.circles_per_team + 1) + n
            staff.append((team, n, number, zone))
    team_ids = dict(zip(teams, _insert(session, Team, team_rows, Team.id), strict=True))
    people = _insert(
        session, Person,
        [{"name": f"Staff {number}", "language": "en", "created_at": created}
         for _, _, number, _ in staff],
        Person.id,
    )  # fmt: skip
    _insert(
        session, Contact,
        [{"person_id": person, "channel": "sms", "address": address("sms", zone, number)}
         for person, (_, _, number, zone) in zip(people, staff, strict=True)],
    )  # fmt: skip
    _insert(
        session, TeamMember,
        [{"team_id": team_ids[team], "person_id": person,
          "role": ORGANIZER if n == 0 else FACILITATOR}
         for person, (team, n, _, _) in zip(people, staff, strict=True)],
    )  # fmt: skip
    _insert(
        session, GroupChat,
        [{"channel": "telegram", "chat_id": f"-100{team:09d}", "title": f"Team {team}",
          "team_id": team_ids[team], "linked_at": created}
         for team in teams if team // len(TIMEZONES) % 2 == 0],
    )  # fmt: skip
    facilitator = {(team, n): person for person, (team, n, _, _) in zip(people, staff, strict=True)}

    circle_rows, firsts = [], []
    for team in teams:
        zone = ZoneInfo(timezone_of(team))
        for c in range(shape.circles_per_team):
            first = first_meeting(team, c, shape).astimezone(zone)
            number = team * shape.circles_per_team + c
            circle_rows.append(
                {"team_id": team_ids[team], "name": f"Circle {number}", "course": "Python",
                 "venue": f"Library {number % 97}", "city": "City", "timezone": zone.key,
                 "language": "en", "weekday": first.weekday(), "start_time": first.time(),
                 "duration_min": DURATION_MIN, "first_date": first.date(), "weeks": WEEKS,
                 "join_code": f"N{number:07d}", "status": "open", "reminder_lead_hours": 48,
                 "created_at": created}
            )  # fmt: skip
            firsts.append((team, c, first))
    circle_ids = _insert(session, Circle, circle_rows, Circle.id)
    _insert(
        session, Facilitation,
        [{"circle_id": circle, "person_id": facilitator[team, c + 1]}
         for circle, (team, c, _) in zip(circle_ids, firsts, strict=True)],
    )  # fmt: skip
    meetings = []
    for circle, (_, _, first) in zip(circle_ids, firsts, strict=True):
        times = meeting_times(first.date(), first.time(), WEEKS, DURATION_MIN, first.tzinfo.key)
        for number, (starts, ends) in enumerate(times, start=1):
            meetings.append(
                {"circle_id": circle, "number": number, "starts_at": starts, "ends_at": ends,
                 "status": "scheduled", "reminder_due_at": starts - LEAD}
            )  # fmt: skip
    _insert(session, Meeting, meetings)

    learners = []
    for circle, (team, c, _) in zip(circle_ids, firsts, strict=True):
        zone = timezone_of(team)
        mix = CHANNEL_MIX[zone]
        for k in range(shape.learners_per_circle):
            n = (team * shape.circles_per_team + c) * shape.learners_per_circle + k
            learners.append((circle, n, mix[k % len(mix)], zone))
    random.Random(teams.start).shuffle(learners)
    people = _insert(
        session, Person,
        [{"name": f"Learner {n}", "language": language_of(zone, n), "created_at": created}
         for _, n, _, zone in learners],
        Person.id,
    )  # fmt: skip
    contacts = _insert(
        session, Contact,
        [{"person_id": person, "channel": channel, "address": address(channel, zone, n)}
         for person, (_, n, channel, zone) in zip(people, learners, strict=True)],
        Contact.id,
    )  # fmt: skip
    _insert(
        session, Signup,
        [{"circle_id": circle, "person_id": person, "contact_id": contact,
          "goal": "Write my first program", "joined_at": created}
         for person, contact, (circle, _, _, _) in zip(people, contacts, learners, strict=True)],
    )  # fmt: skip


# What the weeks before left behind, for the meetings whose reminder went out in [after,
# before): each learner's delivered reminder, a YES from every other learner with its RSVP,
# and each facilitator's finished reflection dialog. Server-side, however many rows; what a
# measured tick already wrote stays as it wrote it.
HISTORY = [
    """
    INSERT INTO message (direction, channel, contact_id, meeting_id, body, media, purpose,
                         dedupe_key, provider_id, status, attempts, created_at, sent_at)
    SELECT 'out', c.channel, c.id, m.id, 'Reminder: your circle meets soon. Reply YES or NO.',
           '[]', 'reminder', 'reminder:' || m.id || ':' || c.id, 'H' || m.id || 'x' || c.id,
           'delivered', 1, m.reminder_due_at, m.reminder_due_at
    FROM meeting m JOIN signup s ON s.circle_id = m.circle_id
    JOIN contact c ON c.id = s.contact_id
    WHERE m.reminder_due_at >= :after AND m.reminder_due_at < :before
      AND m.circle_id BETWEEN :first AND :last
    ON CONFLICT DO NOTHING
    """,
    """
    INSERT INTO message (direction, channel, contact_id, meeting_id, body, media, purpose,
                         provider_id, status, attempts, created_at, handled_at)
    SELECT 'in', c.channel, c.id, m.id, 'YES', '[]', 'reply', 'R' || m.id || 'x' || c.id,
           'handled', 0, m.reminder_due_at + interval '1 hour',
           m.reminder_due_at + interval '1 hour'
    FROM meeting m JOIN signup s ON s.circle_id = m.circle_id
    JOIN contact c ON c.id = s.contact_id
    WHERE m.reminder_due_at >= :after AND m.reminder_due_at < :before
      AND m.circle_id BETWEEN :first AND :last AND s.id % 2 = 0
    ON CONFLICT DO NOTHING
    """,
    """
    INSERT INTO rsvp (meeting_id, signup_id, attending, answered_at)
    SELECT m.id, s.id, true, m.reminder_due_at + interval '1 hour'
    FROM meeting m JOIN signup s ON s.circle_id = m.circle_id
    WHERE m.reminder_due_at >= :after AND m.reminder_due_at < :before
      AND m.circle_id BETWEEN :first AND :last AND s.id % 2 = 0
    ON CONFLICT DO NOTHING
    """,
    """
    INSERT INTO conversation (contact_id, flow, step, data, status, reasks, expires_at,
                              created_at, updated_at)
    SELECT c.id, 'reflection', 'to_change', '{"rating": 4}', 'done', 0,
           m.ends_at + interval '1 day', m.ends_at + interval '15 minutes',
           m.ends_at + interval '1 hour'
    FROM meeting m JOIN facilitation f ON f.circle_id = m.circle_id
    JOIN contact c ON c.person_id = f.person_id
    WHERE m.reminder_due_at >= :after AND m.reminder_due_at < :before
      AND m.circle_id BETWEEN :first AND :last AND m.ends_at < :before
    """,
]


def history(session, circles: tuple[int, int], after: datetime, before: datetime) -> None:
    """Write what the season left behind for these circles' meetings (ids first to last)
    whose reminder went out in [after, before)."""
    values = {"after": after, "before": before, "first": circles[0], "last": circles[1]}
    for statement in HISTORY:
        session.execute(text(statement), values)


# Where ticks every minute until just before `at` would have left things: each claim made,
# circles started and finished, surveys asked (with their empty responses), digests moved on.
SETTLE = [
    "UPDATE meeting SET reminder_sent_at = reminder_due_at"
    " WHERE reminder_sent_at IS NULL AND reminder_due_at <= :before",
    "UPDATE meeting SET preview_sent_at = reminder_due_at - interval '24 hours'"
    " WHERE preview_sent_at IS NULL AND reminder_due_at <= :before + interval '24 hours'",
    "UPDATE meeting SET rsvp_summary_sent_at = starts_at - interval '3 hours'"
    " WHERE rsvp_summary_sent_at IS NULL AND starts_at <= :before + interval '3 hours'",
    "UPDATE meeting SET prompted_at = ends_at + interval '15 minutes'"
    " WHERE prompted_at IS NULL AND ends_at <= :before - interval '15 minutes'",
    "UPDATE circle SET status = 'running' WHERE status = 'open' AND EXISTS"
    " (SELECT 1 FROM meeting m WHERE m.circle_id = circle.id AND m.starts_at <= :before)",
    "UPDATE circle SET status = 'finished', ended_at = (SELECT max(ends_at) FROM meeting m"
    "  WHERE m.circle_id = circle.id) WHERE status IN ('open', 'running') AND NOT EXISTS"
    " (SELECT 1 FROM meeting m WHERE m.circle_id = circle.id AND m.ends_at > :before)",
    "INSERT INTO surveyresponse (circle_id, person_id, role, created_at)"
    " SELECT s.circle_id, s.person_id, 'learner', c.ended_at + interval '1 hour'"
    " FROM circle c JOIN signup s ON s.circle_id = c.id"
    " WHERE c.learner_survey_at IS NULL AND c.ended_at <= :before - interval '1 hour'"
    " ON CONFLICT DO NOTHING",
    "UPDATE circle SET learner_survey_at = ended_at + interval '1 hour'"
    " WHERE learner_survey_at IS NULL AND ended_at <= :before - interval '1 hour'",
    "INSERT INTO surveyresponse (circle_id, person_id, role, created_at)"
    " SELECT f.circle_id, f.person_id, 'facilitator', c.ended_at + interval '1 day'"
    " FROM circle c JOIN facilitation f ON f.circle_id = c.id"
    " WHERE c.facilitator_survey_at IS NULL AND c.ended_at <= :before - interval '1 day'"
    " ON CONFLICT DO NOTHING",
    "UPDATE circle SET facilitator_survey_at = ended_at + interval '1 day'"
    " WHERE facilitator_survey_at IS NULL AND ended_at <= :before - interval '1 day'",
]


def settle(session, at: datetime) -> None:
    """Make the world as a tick every minute until the one before `at` would have left it."""
    before = at - timedelta(minutes=1)
    for statement in SETTLE:
        session.execute(text(statement), {"before": before})
    for zone in TIMEZONES:
        team = Team(timezone=zone, digest_weekday=0, digest_hour=8, digest_minute=0)
        session.execute(
            text("UPDATE team SET digest_due_at = :due WHERE timezone = :zone"),
            {"due": next_digest_at(team, before), "zone": zone},
        )


# What one tick as of `at` wrote and claimed, taken back (not a digest's move to next week),
# so that the same minute can be measured again.
UNDO = [
    "DELETE FROM message WHERE direction = 'out' AND created_at = :at",
    "DELETE FROM conversation WHERE created_at = :at",
    "DELETE FROM pendingdialog WHERE created_at = :at",
    "DELETE FROM surveyresponse WHERE created_at = :at",
    *(
        f"UPDATE meeting SET {stamp} = NULL WHERE {stamp} = :at"
        for stamp in ("reminder_sent_at", "preview_sent_at", "rsvp_summary_sent_at", "prompted_at")
    ),
    *(
        f"UPDATE circle SET {stamp} = NULL WHERE {stamp} = :at"
        for stamp in ("learner_survey_at", "facilitator_survey_at", "report_sent_at")
    ),
]


def undo(session, at: datetime) -> None:
    """Take back what a tick as of `at` wrote and claimed."""
    for statement in UNDO:
        session.execute(text(statement), {"at": at})
