"""MSG: a message to every active learner of a circle, after a confirmation with the count."""

from __future__ import annotations

import uuid

from sqlmodel import select

from bot import outbox, queue
from bot.channels.base import SMS
from bot.context import Context
from bot.i18n import t
from bot.sms import segments, to_gsm7
from conversations.engine import Done, Flow, Next, Step, Stop, which
from conversations.parsers import confirmation, text
from models.circles import Circle, Signup
from models.people import Contact, Person


def pick(ctx: Context, data: dict, index: int):
    """The chosen circle; with the text already given, count whom it reaches too."""
    chosen = data["options"][index]
    if "text" not in data:
        return Next(data=chosen)
    return counted(ctx, chosen, data["text"])


def confirm(data: dict, yes: bool):
    return Done() if yes else Stop("msg.cancelled")


def reach(ctx: Context, circle_id: int) -> list[tuple[Contact, str]]:
    """The learners' contacts that will get it (active, not stopped), with their language."""
    return list(
        ctx.session.exec(
            select(Contact, Person.language)
            .join(Signup, Signup.contact_id == Contact.id)
            .join(Person, Person.id == Signup.person_id)
            .where(
                Signup.circle_id == circle_id,
                Signup.left_at.is_(None),
                Contact.opted_out_at.is_(None),
            )
        ).all()
    )


def check_text(ctx: Context, data: dict, message: str):
    """Show the count with the text before anything goes out."""
    return counted(ctx, data, message)


def counted(ctx: Context, circle: dict, message: str):
    """Go on to the confirmation with how many it reaches and what it costs those on SMS, or stop
    when nobody would get it."""
    reached = reach(ctx, circle["circle_id"])
    if not reached:
        return Stop("msg.nobody", {"circle": circle["circle"]})
    cost = max(
        (
            segments(to_gsm7(t("msg.body", language, circle=circle["circle"], text=message)))
            for contact, language in reached
            if contact.channel == SMS
        ),
        default=1,
    )
    return Next(data={**circle, "text": message, "count": len(reached), "segments": cost})


def long(data: dict) -> bool:
    return data.get("segments", 1) > 1


def to_learners(ctx: Context, circle: Circle, purpose: str, key: str, **values: object) -> int:
    """Queue the catalog text `key` to each learner contact of the circle in their language,
    on the bulk queue, once each; returns how many."""
    batch = uuid.uuid4().hex[:12]
    rows = [
        {
            "channel": contact.channel,
            "contact_id": contact.id,
            "body": t(key, language, circle=circle.name, **values),
            "purpose": purpose,
            "dedupe_key": f"{purpose}:{batch}:{contact.id}",
        }
        for contact, language in reach(ctx, circle.id)
    ]
    return len(outbox.queue_once(ctx.session, rows, queue_name=queue.LOW))


def finish(ctx: Context, data: dict) -> None:
    """Send the announcement and say how many it reached."""
    circle = ctx.session.get(Circle, data["circle_id"])
    sent = to_learners(ctx, circle, "announcement", "msg.body", text=data["text"])
    ctx.say("msg.sent", count=sent, circle=circle.name)


FLOW = Flow(
    "announce",
    steps=[
        which("msg.which", check=pick, skip=lambda data: "circle_id" in data),
        Step("text", ask="msg.ask_text", expect=text(max_len=600), check=check_text,
             skip=lambda data: "text" in data),
        Step("confirm", ask="msg.confirm", expect=confirmation(), then=confirm, skip=long,
             ask_values=lambda data: {"count": data["count"], "circle": data["circle"],
                                      "text": data["text"]}),
        # Like EDIT, a text that costs more than one SMS says so before it goes.
        Step("confirm_long", ask="msg.confirm_long", expect=confirmation(), then=confirm,
             ask_values=lambda data: {"count": data["count"], "circle": data["circle"],
                                      "text": data["text"], "segments": data["segments"]}),
    ],
    finish=finish,
)  # fmt: skip
