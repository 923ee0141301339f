"""Signing in to the console: passwords and one-time links, sessions, CSRF, tries limited."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta

import time_machine
from sqlalchemy import delete

from bot.config import use_settings
from bot.db import session_scope
from models.operators import Operator, SignInLink
from tests.support import world
from tests.support.console import csrf_token, operator, sign_in

PASSWORD = "correct horse battery"
NOW = datetime.fromisoformat("2026-11-22T09:00:00+00:00")


def sign_in_with(client, email: str, password: str, next_path: str | None = None):
    page = client.get("/sign-in")
    url = "/sign-in" + (f"?next={next_path}" if next_path else "")
    form = {"email": email, "password": password, "csrf_token": csrf_token(page)}
    return client.post(url, data=form)


def link_of(output: str) -> str:
    found = re.search(r"https?://\S+/sign-in/(\S+)", output)
    assert found, output
    return f"/sign-in/{found.group(1)}"


def test_signed_out_pages_go_to_sign_in_and_back(client):
    operator("ana@library.org", all_teams=True, password=PASSWORD)
    response = client.get("/outbox?status=failed")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/outbox?status%3Dfailed"
    signed = sign_in_with(client, "ana@library.org", PASSWORD, "/teams")
    assert (signed.status_code, signed.headers["Location"]) == (302, "/teams")


def test_a_password_signs_in_and_sign_out_ends_it(client):
    operator("ana@library.org", all_teams=True, password=PASSWORD)
    assert sign_in_with(client, " Ana@Library.org ", PASSWORD).headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Messages we send" in home.get_data(as_text=True)
    out = client.post("/sign-out", data={"csrf_token": csrf_token(home)})
    assert out.headers["Location"] == "/sign-in"
    assert client.get("/").status_code == 302


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client):
    operator("ana@library.org", all_teams=True, password=PASSWORD)
    wrong = sign_in_with(client, "ana@library.org", "not it")
    unknown = sign_in_with(client, "bob@library.org", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "That email and password don't match." in text(response)
    assert client.get("/").status_code == 302


def test_an_operator_without_a_password_cannot_sign_in_with_one(client):
    operator("ana@library.org", all_teams=True)
    assert sign_in_with(client, "ana@library.org", "").status_code == 401


def test_five_wrong_tries_for_one_email_and_even_the_right_password_waits(client):
    operator("ana@library.org", all_teams=True, password=PASSWORD)
    for _ in range(5):
        assert sign_in_with(client, "ana@library.org", "guess").status_code == 401
    refused = sign_in_with(client, "ana@library.org", PASSWORD)
    assert refused.status_code == 429
    assert "Too many tries." in text(refused)


def test_after_sign_in_only_a_path_here_is_followed(client):
    operator("ana@library.org", all_teams=True, password=PASSWORD)
    for elsewhere in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        response = sign_in_with(client, "ana@library.org", PASSWORD, elsewhere)
        assert response.headers["Location"] == "/", elsewhere


def test_a_form_without_its_csrf_token_is_refused(client):
    operator("ana@library.org", all_teams=True, password=PASSWORD)
    refused = client.post("/sign-in", data={"email": "ana@library.org", "password": PASSWORD})
    assert refused.status_code == 400
    assert "This form has expired" in refused.get_data(as_text=True)
    sign_in(client, operator("bea@library.org", all_teams=True))
    assert client.post("/sign-out").status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_a_sign_in_link_works_once_within_half_an_hour(client, cli):
    world_team()
    with time_machine.travel(NOW, tick=False):
        made = json.loads(
            cli("operator", "create", "ana@library.org", "--team", "nakuru-libraries",
                "--json").stdout
        )  # fmt: skip
    link = link_of(made["sign_in_link"])
    with time_machine.travel(NOW + timedelta(minutes=29), tick=False):
        assert client.get(link).headers["Location"] == "/"
        assert client.get("/").status_code == 200
    other = client.application.test_client()
    with time_machine.travel(NOW + timedelta(minutes=29), tick=False):
        used = other.get(link)
    assert used.status_code == 410
    assert "This sign-in link no longer works" in used.get_data(as_text=True)
    with time_machine.travel(NOW, tick=False):
        late = link_of(cli("operator", "link", "ana@library.org").stdout)
    with time_machine.travel(NOW + timedelta(minutes=31), tick=False):
        assert other.get(late).status_code == 410
    assert other.get("/sign-in/not-a-token").status_code == 410


def test_operator_create_says_what_is_wrong(cli):
    world_team()
    no_teams = cli("operator", "create", "ana@library.org", ok=False)
    assert no_teams.exit_code == 2
    assert "--team SLUG, or give --all-teams" in no_teams.stderr
    unknown = cli("operator", "create", "ana@library.org", "--team", "nowhere", ok=False)
    assert "no team with the slug nowhere" in unknown.stderr
    assert "is not an email address" in cli("operator", "create", "ana", ok=False).stderr
    cli("operator", "create", "ana@library.org", "--all-teams")
    again = cli("operator", "create", "ana@library.org", "--all-teams", ok=False)
    assert "is an operator already" in again.stderr
    assert "is no operator" in cli("operator", "link", "bob@library.org", ok=False).stderr


def test_operator_create_with_a_password_typed_twice(cli, client):
    world_team()
    cli("operator", "create", "ana@library.org", "--all-teams", "--password",
        input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert sign_in_with(client, "ana@library.org", PASSWORD).status_code == 302
    with session_scope() as session:
        stored = session.query(Operator).one().password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_first_run_without_credentials_prints_a_local_link(cli, client, settings):
    assert cli("operator", "local-link").stdout == ""  # credentials: operators are made
    use_settings(settings.model_copy(update={"outbox": "console"}))
    printed = cli("operator", "local-link", "--host", "0.0.0.0").stdout
    assert "http://127.0.0.1:5000/sign-in/" in printed
    assert client.get(link_of(printed)).headers["Location"] == "/"
    assert "Overview" in client.get("/").get_data(as_text=True)
    cli("operator", "local-link")  # the same operator, a new link
    with session_scope() as session:
        assert [o.email for o in session.query(Operator).all()] == ["you@localhost"]


def test_an_operator_removed_is_signed_out(client):
    ana = operator("ana@library.org", all_teams=True)
    sign_in(client, ana)
    with session_scope() as session:
        session.execute(delete(SignInLink).where(SignInLink.operator_id == ana))
        session.execute(delete(Operator).where(Operator.id == ana))
    assert client.get("/").status_code == 302


def test_the_pages_speak_swahili_when_asked(client):
    page = client.get("/sign-in?lang=sw").get_data(as_text=True)
    assert "Ingia kwenye circlebot" in page and 'lang="sw"' in page
    assert "Ingia kwenye circlebot" in client.get("/sign-in").get_data(as_text=True)  # kept


def test_the_browser_language_is_the_first_guess(client):
    page = client.get("/sign-in", headers={"Accept-Language": "sw-KE,sw;q=0.9,en;q=0.5"})
    assert "Nenosiri" in page.get_data(as_text=True)


def test_the_session_secret_is_made_once_per_install(settings):
    first = settings.session_secret()
    assert len(first) > 40
    assert settings.model_copy().session_secret() == first
    assert (settings.instance_path / "secret_key").stat().st_mode & 0o077 == 0


def text(response) -> str:
    """The page as a person reads it: entities such as &#39; shown as the characters."""
    return html.unescape(response.get_data(as_text=True))


def world_team() -> None:
    with session_scope() as session:
        world.team(session, "Nakuru Libraries", "Africa/Nairobi", "sms:+254700000001")


def test_the_language_link_keeps_the_page_and_its_filters(client):
    sign_in(client, operator("ana@library.org", all_teams=True))
    page = client.get("/outbox?status=failed").get_data(as_text=True)
    assert 'href="/outbox?status=failed&amp;lang=sw"' in page
    assert "umeshindwa" in text(client.get("/outbox?status=failed&lang=sw"))


def test_signing_out_keeps_the_language_chosen(client):
    sign_in(client, operator("ana@library.org", all_teams=True))
    home = client.get("/?lang=sw")
    out = client.post("/sign-out", data={"csrf_token": csrf_token(home)})
    assert "Ingia kwenye circlebot" in text(client.get(out.headers["Location"]))


def test_a_page_that_is_not_there_is_the_consoles_own(client):
    sign_in(client, operator("ana@library.org", teams=()))
    for path in ("/teams/999", "/circles/999", "/outbox/999"):
        missing = client.get(path)
        assert missing.status_code == 404
        assert "There is nothing here, or it belongs to a team you don't see." in text(missing)
        assert "Sign out" in text(missing)
