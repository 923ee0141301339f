"""The console in tests: operators, a test client signed in as one, and forms' CSRF tokens."""

from __future__ import annotations

import re

from bot.db import session_scope
from console.auth import hash_password, sign_in_link
from models.operators import Operator, OperatorTeam

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def operator(email: str, *, teams: tuple[int, ...] = (), all_teams: bool = False,
             password: str | None = None, language: str = "en") -> int:  # fmt: skip
    """An operator who sees these teams (or all); their id."""
    with session_scope() as session:
        made = Operator(email=email, all_teams=all_teams, language=language,
                        password_hash=hash_password(password) if password else None)  # fmt: skip
        session.add(made)
        session.flush()
        session.add_all(OperatorTeam(operator_id=made.id, team_id=team) for team in teams)
        return made.id


def sign_in(client, operator_id: int) -> None:
    """Sign the test client in as the operator, by a one-time link, as a browser would."""
    with session_scope() as session:
        link = sign_in_link(session, session.get(Operator, operator_id), "http://localhost")
    response = client.get(link.removeprefix("http://localhost"))
    assert response.status_code == 302, response.get_data(as_text=True)


def csrf_token(page) -> str:
    """The CSRF token in a rendered page's form (a response or its text)."""
    text = page if isinstance(page, str) else page.get_data(as_text=True)
    found = _TOKEN.search(text)
    assert found, "no form with a CSRF token on the page"
    return found.group(1)


def page_queries(client, path: str) -> int:
    """How many SQL statements one page costs (it must answer 200)."""
    from sqlalchemy import event

    from bot.db import get_engine

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(get_engine(), "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(get_engine(), "before_cursor_execute", listener)
    return len(statements)
