"""The operator CLI: each command with --json prints exactly one JSON object."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.db import session_scope
from models.circles import Meeting
from models.teams import LinkCode, Team, TeamMember


def as_json(result) -> dict:
    return json.loads(result.stdout)


def test_db_upgrade_is_idempotent(cli):
    assert as_json(cli("db", "upgrade", "--json")) == {"upgraded": True}


def test_team_create_prints_codes_and_names_the_organizer(cli):
    team = as_json(
        cli(
            "team", "create", "Kenya National Library", "--timezone", "Africa/Nairobi",
            "--organizer", "sms:+254712000001", "--digest", "MON 08:00", "--json",
        )
    )  # fmt: skip
    assert set(team) == {"id", "slug", "name", "timezone", "invite_code", "link_code"}
    assert team["slug"] == "kenya-national-library"
    assert team["timezone"] == "Africa/Nairobi"
    with session_scope() as session:
        link = session.exec(select(LinkCode)).one()
        assert link.code == team["link_code"]
        assert 23.9 < (link.expires_at - datetime.now(UTC)).total_seconds() / 3600 <= 24
        assert session.exec(select(TeamMember.role)).all() == ["organizer"]


@pytest.mark.parametrize(
    "args",
    [
        ["--timezone", "Mars/Olympus", "--organizer", "sms:+254712000001"],
        ["--timezone", "Africa/Nairobi", "--organizer", "pager:123"],
        ["--timezone", "Africa/Nairobi", "--organizer", "sms:+1", "--digest", "someday"],
    ],
)
def test_team_create_refuses_bad_input_clearly(cli, args):
    result = cli("team", "create", "X", *args, "--json", ok=False)
    assert result.exit_code == 2
    with session_scope() as session:
        assert session.exec(select(Team)).all() == []


def test_team_slugs_stay_unique(cli):
    args = ["--timezone", "Africa/Nairobi", "--organizer", "sms:+254712000001", "--json"]
    first = as_json(cli("team", "create", "Nakuru", *args))
    second = as_json(cli("team", "create", "Nakuru", *args))
    assert (first["slug"], second["slug"]) == ("nakuru", "nakuru-2")


def make_team(cli, timezone: str) -> str:
    args = ["--timezone", timezone, "--organizer", "sms:+15550099", "--json"]
    return as_json(cli("team", "create", "Chicago Public Library", *args))["slug"]


def test_circle_meetings_keep_local_time_across_the_march_dst_change(cli):
    slug = make_team(cli, "America/Chicago")
    circle = as_json(
        cli(
            "circle", "create", "--team", slug, "--facilitator", "sms:+13125550100",
            "--name", "Intro to Python", "--course", "Python for Everybody",
            "--venue", "Harold Washington Library", "--city", "Chicago",
            "--first", "2027-02-25 18:00", "--weeks", "4", "--json",
        )
    )  # fmt: skip
    assert circle["timezone"] == "America/Chicago"
    assert len(circle["join_code"]) == 4
    # 18:00 CST is 00:00 UTC; after 14 March 2027, 18:00 CDT is 23:00 UTC.
    assert [m["starts_at"] for m in circle["meetings"]] == [
        "2027-02-26T00:00:00+00:00",
        "2027-03-05T00:00:00+00:00",
        "2027-03-12T00:00:00+00:00",
        "2027-03-18T23:00:00+00:00",
    ]


def test_circle_in_nairobi_with_defaults(cli):
    slug = make_team(cli, "Africa/Nairobi")
    circle = as_json(
        cli(
            "circle", "create", "--team", slug, "--facilitator", "whatsapp:+254712000002",
            "--name", "Python", "--course", "Python", "--venue", "Nakuru Library",
            "--city", "Nakuru", "--first", "2026-12-01 18:00", "--json",
        )
    )  # fmt: skip
    assert len(circle["meetings"]) == 6
    assert circle["meetings"][0] == {"number": 1, "starts_at": "2026-12-01T15:00:00+00:00"}
    with session_scope() as session:
        meeting = session.exec(select(Meeting).where(Meeting.number == 1)).one()
        assert meeting.starts_at.tzinfo is not None
        assert (meeting.ends_at - meeting.starts_at).total_seconds() == 90 * 60


def test_circle_create_refuses_an_unknown_team_and_a_bad_date(cli):
    base = ["--facilitator", "sms:+15550100", "--name", "P", "--course", "P", "--venue", "V"]
    result = cli("circle", "create", "--team", "nope", *base, "--city", "C", "--first",
                 "2026-12-01 18:00", ok=False)  # fmt: skip
    assert result.exit_code == 2 and "no team" in result.output + (result.stderr or "")
    slug = make_team(cli, "Africa/Nairobi")
    result = cli("circle", "create", "--team", slug, *base, "--city", "C", "--first",
                 "next week", ok=False)  # fmt: skip
    assert result.exit_code == 2


def test_tick_at_an_instant_reports_what_it_queued(cli):
    result = as_json(cli("tick", "--at", "2026-12-01T15:00", "--json"))
    assert result == {"at": "2026-12-01T15:00:00+00:00", "queued": {}}


def test_telegram_set_webhook_registers_our_url_and_secret(cli, fake_telegram):
    result = as_json(cli("telegram", "set-webhook", "--json"))
    assert result == {"url": "https://circlebot.test/webhooks/telegram", "ok": True}
    call = fake_telegram.calls("setWebhook")[-1]["params"]
    assert call["url"] == "https://circlebot.test/webhooks/telegram"
    assert call["secret_token"] == "test-webhook-secret"


def test_seed_demo_creates_a_team_with_circles_and_is_safe_to_repeat(cli):
    first = as_json(cli("seed-demo", "--json"))
    again = as_json(cli("seed-demo", "--json"))
    assert first["created"] is True and again["created"] is False
    assert len(first["join_codes"]) == 2
    assert sorted(again["join_codes"]) == sorted(first["join_codes"])
    assert again["invite_code"] == first["invite_code"]
    assert again["link_code"] == first["link_code"]  # still unused and valid: the same one
    with session_scope() as session:
        assert len(session.exec(select(Team)).all()) == 1


def test_seed_demo_says_who_is_who_and_how_to_try_each_role(cli):
    demo = as_json(cli("seed-demo", "--json"))
    people = {person["contact"]: person for person in demo["people"]}
    python, skills = demo["circles"]
    assert people["sms:+254700000001"]["roles"] == ["organizer of Demo Library"]
    assert people["sms:+254700000002"]["roles"] == ["facilitator of Python for Beginners"]
    assert people["telegram:100000002"]["roles"] == ["facilitator of Digital Skills"]
    assert people["sms:+254700000010"] == {
        "name": "Amina",
        "contact": "sms:+254700000010",
        "roles": ["learner of Python for Beginners"],
    }
    assert people["whatsapp:+254700000011"]["roles"] == ["learner of Digital Skills"]
    assert len(people) == 6
    # Every run prints the same, for people: the codes, the circles, the people, the chats.
    for text in (cli("seed-demo").stdout, cli("seed-demo").stdout):
        assert f"TEAM {demo['invite_code']}" in text
        assert f"/link {demo['link_code']}" in text
        assert f"{python['name']}: JOIN {python['join_code']}" in text
        assert f"{skills['name']}: JOIN {skills['join_code']}" in text
        assert "Amina    sms:+254700000010" in text
        assert "chat --as sms:+254700000010      # a learner" in text
        assert "chat --as sms:+254700000002      # a facilitator" in text
        assert "chat --as sms:+254700000001      # an organizer" in text
        assert "chat --as telegram-group:-100123 --from telegram:100000002" in text
        assert f"tick --at {python['next_reminder_at'][:16]}" in text


def test_seed_demo_gives_a_fresh_link_code_once_the_last_one_is_used(cli):
    first = as_json(cli("seed-demo", "--json"))
    with session_scope() as session:
        link = session.exec(select(LinkCode).where(LinkCode.code == first["link_code"])).one()
        link.used_at = datetime.now(UTC)
    again = as_json(cli("seed-demo", "--json"))
    assert again["link_code"] != first["link_code"]
    assert again["created"] is False
