"""Signing in to the console: a password or a one-time link, a signed session cookie, tries
rate-limited per address and per email; and who may see which team."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, g, redirect, render_template, request, session, url_for
from sqlalchemy import true, update
from sqlmodel import Session, select

from bot import throttle
from bot.clock import now
from bot.db import session_scope
from console import console
from models.operators import (
    SIGN_IN_LINK_LIFETIME,
    Operator,
    OperatorTeam,
    SignInLink,
    link_token_hash,
    new_link_token,
)
from models.teams import Team

log = logging.getLogger(__name__)
hasher = PasswordHasher()
# Ten tries a quarter of an hour from one address, five for one email from anywhere: enough
# for a typo or two, far too few to guess a password.
TRIES_PER_ADDRESS = (10, 10 / 900)
TRIES_PER_EMAIL = (5, 5 / 900)
# Checked against when the email is unknown, so that a wrong email takes as long as a wrong
# password and does not tell which emails are operators'.
_DECOY = hasher.hash("not anyone's password")


def hash_password(password: str) -> str:
    """An argon2id hash of the password, to store."""
    return hasher.hash(password)


def password_matches(operator: Operator | None, password: str) -> bool:
    """Whether the password is this operator's, in the same time whether or not they exist."""
    stored = operator.password_hash if operator and operator.password_hash else _DECOY
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not _DECOY


def sign_in_link(session_: Session, operator: Operator, base_url: str) -> str:
    """A new one-time sign-in link for the operator (the CLI prints it)."""
    token, digest = new_link_token()
    at = now()
    session_.add(SignInLink(operator_id=operator.id, token_hash=digest, created_at=at,
                            expires_at=at + SIGN_IN_LINK_LIFETIME))  # fmt: skip
    session_.flush()
    return f"{base_url.rstrip('/')}/sign-in/{token}"


def signed_in(view: Callable) -> Callable:
    """The view needs a signed-in operator (in `g.operator`); others go to sign in first."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("operator") is None:
            return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


@console.before_request
def load_operator() -> None:
    """The operator this session is signed in as, if they still exist."""
    g.operator = None
    operator_id = session.get("operator_id")
    if operator_id is None:
        return
    with session_scope() as db:
        operator = db.get(Operator, operator_id)
        if operator is not None:
            db.expunge(operator)
    if operator is None:
        session.clear()
    g.operator = operator


def visible_team_ids(db: Session) -> list[int] | None:
    """The ids of the teams the signed-in operator may see; None for all teams."""
    operator = g.operator
    if operator.all_teams:
        return None
    if "team_ids" not in g:  # once a request: every list and filter on the page asks
        g.team_ids = list(
            db.exec(select(OperatorTeam.team_id).where(OperatorTeam.operator_id == operator.id))
        )
    return g.team_ids


def team_visible(column, db: Session):
    """SQL: the rows whose team (`column`) the operator may see."""
    ids = visible_team_ids(db)
    return true() if ids is None else column.in_(ids)


def visible_teams(db: Session) -> list[Team]:
    """The teams the operator may see, by name."""
    return list(db.exec(select(Team).where(team_visible(Team.id, db)).order_by(Team.name)).all())


def require_team(db: Session, team_id: int) -> Team:
    """The team, if the operator may see it; 404 otherwise (as if it did not exist)."""
    team = db.get(Team, team_id)
    ids = visible_team_ids(db)
    if team is None or (ids is not None and team.id not in ids):
        abort(404)
    return team


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    if not target:
        return url_for("console.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("console.home")
    return target


def _begin(db: Session, operator: Operator) -> None:
    # A new session on every sign-in: nothing from before (a planted session id) carries over.
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    session["operator_id"] = operator.id
    if lang:
        session["lang"] = lang
    operator.last_sign_in_at = now()
    db.add(operator)
    log.info("operator signed in", extra={"operator_id": operator.id})


def _allowed(email: str) -> bool:
    address = request.remote_addr or "unknown"
    burst, rate = TRIES_PER_ADDRESS
    if throttle.try_take(f"console-sign-in:ip:{address}", rate, burst) > 0:
        return False
    burst, rate = TRIES_PER_EMAIL
    return throttle.try_take(f"console-sign-in:email:{email}", rate, burst) == 0


@console.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """The sign-in form: email and password."""
    error = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        password = request.form.get("password", "")
        if not _allowed(email):
            return render_template("console/sign_in.html", email=email,
                                   error="console.sign_in_too_many"), 429  # fmt: skip
        with session_scope() as db:
            operator = db.exec(select(Operator).where(Operator.email == email)).first()
            if password_matches(operator, password):
                _begin(db, operator)
                return redirect(_safe_next(request.args.get("next")))
        error = "console.sign_in_wrong"
    status = 401 if error else 200
    return render_template("console/sign_in.html", email=email, error=error), status


@console.get("/sign-in/<token>")
def sign_in_by_link(token: str):
    """A one-time link: signs in once, within its half hour, and never again."""
    at = now()
    with session_scope() as db:
        # Used up in one statement: of two clicks at once, exactly one signs in.
        used = db.execute(
            update(SignInLink)
            .where(SignInLink.token_hash == link_token_hash(token),
                   SignInLink.used_at.is_(None), SignInLink.expires_at > at)
            .values(used_at=at)
            .returning(SignInLink.operator_id)
        ).first()  # fmt: skip
        operator = db.get(Operator, used[0]) if used else None
        if operator is None:
            return render_template("console/error.html", title_key="console.link_title",
                                   text_key="console.link_text"), 410  # fmt: skip
        _begin(db, operator)
    return redirect(url_for("console.home"))


@console.post("/sign-out")
def sign_out():
    """End the session; the language chosen stays for the sign-in page."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("console.sign_in"))


def not_found_page():
    """Missing, or of a team the operator does not see: the same page, in their language."""
    return render_template("console/error.html", title_key="console.not_found_title",
                           text_key="console.not_found_text"), 404  # fmt: skip


@console.errorhandler(404)
def not_found(error):
    """A 404 of the console's (`require_team`, an unknown id) is its own page, not Flask's."""
    return not_found_page()
