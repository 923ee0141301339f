"""A tapped button: the answer it stands for, if its question is still open; else say why not."""

from __future__ import annotations

from bot import buttons
from bot.context import Context
from conversations import engine
from handlers import learner
from models.message import OUT, Message


def route(ctx: Context) -> bool:
    """Answer the question a tap belongs to, or explain that it is closed or someone else's."""
    question_id = ctx.message.reply_to_id
    if question_id is None:
        return False
    if ctx.contact.opted_out_at is not None:
        # A Yes tapped after STOP is an old question's answer, not the YES that resumes
        # messages: it is settled quietly.
        return True
    question = ctx.session.get(Message, question_id)
    if question is None or question.direction != OUT or question.contact_id is None:
        ctx.say("button.closed")
        return True
    if question.contact_id != ctx.contact.id:
        ctx.say("button.not_yours")
        return True
    if question.meeting_id is not None:
        return _rsvp(ctx, question)
    if engine.awaits(ctx, question.buttons):
        return engine.route(ctx)
    ctx.say("button.closed")
    return True


def _rsvp(ctx: Context, question: Message) -> bool:
    """A Yes or No on a reminder, or on NEXT's reply: that meeting's RSVP while it can change."""
    meeting = next(
        (
            m
            for m in learner.reminded_meetings(ctx.session, ctx)
            if m.meeting_id == question.meeting_id
        ),
        None,
    )
    if meeting is None or ctx.text not in (buttons.YES, buttons.NO):
        ctx.say("button.closed")
    else:
        learner.record_rsvp(ctx, meeting, ctx.text == buttons.YES)
    return True
