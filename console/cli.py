"""`flask operator create|link`: the people who may sign in to the console."""

from __future__ import annotations

import re

import click
from flask.cli import AppGroup
from sqlmodel import select

from bot.cli import report
from bot.config import get_settings
from bot.db import session_scope
from console.auth import hash_password, sign_in_link
from models.operators import Operator, OperatorTeam
from models.teams import Team

operator = AppGroup("operator", help="People who sign in to the web console.")
# An address with one @ and a dot after it: enough to catch a slip, not a validator of RFCs.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+|[^@\s]+@localhost")
SHORTEST_PASSWORD = 12


def _email(value: str) -> str:
    email = value.strip().lower()
    if not EMAIL.fullmatch(email):
        raise click.BadParameter(f"{value!r} is not an email address")
    return email


@operator.command("create")
@click.argument("email", callback=lambda c, p, v: _email(v))
@click.option("--team", "teams", multiple=True, metavar="SLUG", help="a team they see (repeat)")
@click.option("--all-teams", is_flag=True, help="they see every team")
@click.option("--password", "with_password", is_flag=True, help="ask for a password to set")
@click.option("--language", default="en", type=click.Choice(["en", "sw"]))
@click.option("--json", "as_json", is_flag=True)
def create(email, teams, all_teams, with_password, language, as_json) -> None:
    """Make an operator who sees the named teams (or all), and print a one-time sign-in link
    (valid 30 minutes); with --password, also set a password, typed twice."""
    if not teams and not all_teams:
        raise click.UsageError("name the teams they see with --team SLUG, or give --all-teams")
    password = None
    if with_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
        if len(password) < SHORTEST_PASSWORD:
            raise click.BadParameter(f"use at least {SHORTEST_PASSWORD} characters")
    with session_scope() as session:
        if session.exec(select(Operator).where(Operator.email == email)).first():
            raise click.ClickException(f"{email} is an operator already: use operator link")
        found = session.exec(select(Team).where(Team.slug.in_(teams))).all() if teams else []
        missing = sorted(set(teams) - {team.slug for team in found})
        if missing:
            raise click.ClickException(f"no team with the slug {', '.join(missing)}")
        made = Operator(email=email, all_teams=all_teams, language=language,
                        password_hash=hash_password(password) if password else None)  # fmt: skip
        session.add(made)
        session.flush()
        session.add_all(OperatorTeam(operator_id=made.id, team_id=team.id) for team in found)
        link = sign_in_link(session, made, get_settings().public_base_url)
        data = {"id": made.id, "email": email, "all_teams": all_teams,
                "teams": sorted(team.slug for team in found), "sign_in_link": link}  # fmt: skip
    report(data, as_json, f"operator {email}: sign in once at {link} (valid 30 minutes)")


@operator.command("link")
@click.argument("email", callback=lambda c, p, v: _email(v))
@click.option("--json", "as_json", is_flag=True)
def link(email, as_json) -> None:
    """Print a new one-time sign-in link for the operator (valid 30 minutes)."""
    with session_scope() as session:
        found = session.exec(select(Operator).where(Operator.email == email)).first()
        if found is None:
            raise click.ClickException(f"{email} is no operator: use operator create")
        url = sign_in_link(session, found, get_settings().public_base_url)
    report({"email": email, "sign_in_link": url}, as_json, f"sign in once at {url}")


LOCAL_OPERATOR = "you@localhost"


@operator.command("local-link")
@click.option("--host", envvar="HOST", default="127.0.0.1")
@click.option("--port", envvar="PORT", default="5000")
def local_link(host: str, port: str) -> None:
    """On an install with no credentials (a first run, `make run`), print a one-time sign-in
    link for this machine's own operator, made on first use and seeing every team."""
    if get_settings().outbox_mode != "console":
        return  # a real deployment: operators are made with operator create
    with session_scope() as session:
        found = session.exec(select(Operator).where(Operator.email == LOCAL_OPERATOR)).first()
        if found is None:
            found = Operator(email=LOCAL_OPERATOR, all_teams=True)
            session.add(found)
            session.flush()
        host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        url = sign_in_link(session, found, f"http://{host}:{port}")
    click.echo(f"\nThe console: open {url}\n(one click signs you in, once, within 30 minutes)\n")
