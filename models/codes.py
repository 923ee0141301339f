"""Short codes people type on a phone: join, invite and link codes."""

from __future__ import annotations

import secrets

from sqlmodel import Session, select

# No 0/O, 1/I/L, 5/S or 2/Z: codes are read aloud and typed on keypads.
ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"


def new_code(length: int) -> str:
    """A random code of `length` characters from the unambiguous alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def unique_code(session: Session, column, length: int) -> str:
    """A fresh code not yet used in `column` (a unique column guards the rare race)."""
    while True:
        code = new_code(length)
        if session.exec(select(column).where(column == code)).first() is None:
            return code
