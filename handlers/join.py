"""JOIN <code>: check the circle can take this learner, then start the join dialog."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, select

from bot import sandbox
from bot.context import Context
from conversations import engine
from models.circles import SIGNUP_OPEN, Circle, Signup, has_meeting_after, learner_counts
from models.people import Contact

# JOIN's words, also dropped from an answer to the code question ("JOIN H7XR" gives H7XR).
WORDS = ("JOIN", "JIUNGE")


def join(ctx: Context, rest: str) -> None:
    """Start joining the circle with this code, or ask for the code."""
    data = {"known_name": bool(ctx.person.name)}
    code = normalize_code(rest)
    if code:
        circle = find_circle(ctx.session, code, ctx.contact)
        refusal = refusal_for(ctx.session, circle, ctx.person.id, code, ctx.now)
        if refusal:
            key, values = refusal
            ctx.say(key, **values)
            return
        data |= {"circle_id": circle.id, "circle": circle.name}
    engine.start(ctx, "join", data)


def normalize_code(text: str) -> str:
    """'py7k', ' PY 7K ' -> 'PY7K'."""
    return re.sub(r"[^A-Za-z0-9]", "", text).upper()[:16]


def find_circle(
    session: Session, code: str, contact: Contact, *, lock: bool = False
) -> Circle | None:
    """The circle with this join code, if the contact may see it (a sandbox's code is unknown
    to real people); `lock` holds its row so two joins count one at a time."""
    query = select(Circle).where(Circle.join_code == code, sandbox.circles_seen_by(contact))
    return session.exec(query.with_for_update() if lock else query).first()


def refusal_for(
    session: Session, circle: Circle | None, person_id: int, code: str, at: datetime
) -> tuple[str, dict] | None:
    """Why this person cannot join this circle now (a catalog key and values), or None."""
    if circle is None:
        return "join.unknown_code", {"code": code}
    values = {"circle": circle.name}
    ahead = select(has_meeting_after(at)).where(Circle.id == circle.id)
    over = not session.exec(ahead).one()
    if circle.status == "finished" or (over and circle.status in SIGNUP_OPEN):
        return "join.finished", values
    if circle.status not in SIGNUP_OPEN:
        return "join.closed", values
    signup = session.exec(
        select(Signup).where(Signup.circle_id == circle.id, Signup.person_id == person_id)
    ).first()
    if signup is not None and signup.left_at is None:
        return "join.already", values
    if (
        circle.signup_limit
        and learner_counts(session, [circle.id])[circle.id] >= circle.signup_limit
    ):
        return "join.full", values
    return None
