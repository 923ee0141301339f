"""What we hold about a person, asked for on any channel: CONNECT, USE THIS, MYDATA, FORGET."""

from __future__ import annotations

import re

from bot.context import Context
from handlers import connect, forget, mydata
from handlers.words import fold, matches, split_command, whole

# Read as the whole message, spaces aside, so that "my data" and "Forget me." count, and
# "forget it" or "my data plan is out" (an answer to a dialog) do not.
MYDATA_WORDS = frozenset({"MYDATA", "DATAZANGU", "TAARIFAZANGU"})
FORGET_WORDS = frozenset({"FORGET", "FORGETME", "NISAHAU"})
USE_THIS_WORDS = frozenset({"USETHIS", "TUMIAHII"})
# KIUNGO ("a link, a joint"): UNGANISHA is LINK's word already, for groups.
CONNECT_WORDS = ("CONNECT", "KIUNGO")
# What may follow CONNECT for it to be ours: nothing, or one code-like token. "Connect with
# other learners" is an answer to a dialog's question, not a command.
_CODE_LIKE = re.compile(r"[A-Za-z0-9]{4,10}")


def route(ctx: Context) -> bool:
    """Answer these words anywhere, in the middle of a dialog too: they are about the person."""
    if ctx.in_group:
        return False
    word = whole(ctx.text)
    if word in MYDATA_WORDS:
        mydata.mydata(ctx)
        return True
    if word in FORGET_WORDS:
        forget.forget(ctx)
        return True
    if word in USE_THIS_WORDS:
        connect.use_this(ctx)
        return True
    head, rest = split_command(ctx.text)
    if matches(head, CONNECT_WORDS) and (not rest or _CODE_LIKE.fullmatch(fold(rest))):
        connect.connect(ctx, rest)
        return True
    return False
