"""The conversation engine: declarative flows of named steps, persisted, re-asked, expiring."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot import buttons
from bot.channels.base import SMS
from bot.config import get_settings
from bot.context import Context
from bot.i18n import t
from bot.outbox import sms_body
from bot.sms import segments
from conversations.parsers import Choice, Confirmation, ParseContext, Parsed, YesNo, choice
from handlers.words import split_command
from models.conversation import ACTIVE, Conversation

BACK_WORDS = ("BACK", "RUDI")
REASKS_BEFORE_EXIT_HINT = 2  # after this many misses, remind the person that EXIT leaves


@dataclass(frozen=True)
class Next:
    """Go on to `step` (the following one when None), remembering `data`."""

    step: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Done:
    """The flow is complete: the engine calls the flow's `finish` with all the data."""

    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reask:
    """The answer parsed but does not fit: say why (a catalog key) and ask again."""

    hint: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stop:
    """The dialog cannot go on (say why, a catalog key); nothing is saved."""

    say: str
    values: Mapping[str, Any] = field(default_factory=dict)


Transition = Next | Done | Reask | Stop
Parser = Callable[[str, ParseContext], Parsed]


@dataclass(frozen=True)
class Step:
    """One question: what to ask, how to read the answer, and what follows."""

    name: str
    ask: str  # catalog key of the question
    expect: Parser | None = None
    expect_from: Callable[[dict], Parser] | None = None  # a parser built from the answers so far
    # Reads the database to judge the answer (a code that must exist); returns a transition to
    # take instead, or None to go on. It writes nothing: effects wait for the flow's finish.
    check: Callable[[Context, dict, Any], Transition | None] | None = None
    then: Callable[[dict, Any], Transition] | None = None  # pure: (data, answer) -> transition
    ask_values: Callable[[dict], Mapping[str, Any]] | None = None
    skip: Callable[[dict], bool] | None = None  # pass over this step when it already has its answer
    # The command whose argument this step asks for: "JOIN H7XR" to "What's the code?" is H7XR.
    command_words: tuple[str, ...] = ()

    def parser(self, data: dict) -> Parser:
        return self.expect_from(data) if self.expect_from else self.expect


@dataclass(frozen=True)
class Flow:
    """A named dialog: its steps in order, what to do when done, and when it lapses."""

    name: str
    steps: list[Step]
    finish: Callable[[Context, dict], None]
    expires: timedelta | None = None  # default: DIALOG_EXPIRY_HOURS (24 hours)
    # A dialog we began: after this long without an answer, one reminder (`nudge`, a catalog
    # key) repeats the question; it then lapses quietly at `expires`.
    nudge_after: timedelta | None = None
    nudge: str | None = None
    # Saves the answers so far after each one (a survey): a dialog that lapses keeps them.
    keep: Callable[[Context, dict], None] | None = None

    @property
    def lifetime(self) -> timedelta:
        return self.expires or timedelta(hours=get_settings().dialog_expiry_hours)

    def step(self, name: str) -> Step:
        return next(step for step in self.steps if step.name == name)

    def after(self, name: str) -> Step | None:
        names = [step.name for step in self.steps]
        index = names.index(name) + 1
        return self.steps[index] if index < len(self.steps) else None


def which(ask: str, label: str = "circle", **step: Any) -> Step:
    """The step that asks which of `data["options"]` is meant, listed in `data["choices"]`;
    its answer is the option's index."""
    return Step(
        "which",
        ask=ask,
        expect_from=lambda data: choice([option[label] for option in data["options"]]),
        ask_values=lambda data: {"choices": data["choices"]},
        **step,
    )


def registry() -> dict[str, Flow]:
    from conversations.flows import FLOWS

    return {flow.name: flow for flow in FLOWS}


def active(session: Session, contact_id: int, at: datetime) -> Conversation | None:
    """The contact's dialog in progress at `at`, if any (expired ones count as over)."""
    conversation = session.exec(
        select(Conversation).where(
            Conversation.contact_id == contact_id, Conversation.status == ACTIVE
        )
    ).first()
    if conversation is not None and conversation.expires_at <= at:
        conversation.status = "expired"
        session.add(conversation)
        session.flush()
        return None
    return conversation


def start(ctx: Context, flow_name: str, data: Mapping[str, Any] | None = None) -> None:
    """Begin a flow with this contact (ending any other dialog) and ask its first open question."""
    flow = registry()[flow_name]
    end(ctx, status="replaced")
    data = dict(data or {})
    first = open_step(flow, flow.steps[0], data)
    if first is None:  # every answer is known already: nothing to ask
        flow.finish(ctx, data)
        return
    values = {
        "contact_id": ctx.contact.id, "flow": flow.name, "step": first.name, "data": data,
        "expires_at": ctx.now + flow.lifetime, "created_at": ctx.now, "updated_at": ctx.now,
    }  # fmt: skip
    try:
        with ctx.session.begin_nested():
            conversation = Conversation(**values)
            ctx.session.add(conversation)
    except IntegrityError:
        # Tick began a dialog with this person a moment ago (a reflection prompt): what they
        # asked for themselves comes first.
        end(ctx, status="replaced")
        conversation = Conversation(**values)
        ctx.session.add(conversation)
        ctx.session.flush()
    _ask(ctx, conversation, first, data)


def open_step(flow: Flow, step: Step | None, data: dict) -> Step | None:
    """The first step from `step` on that still needs an answer."""
    while step is not None and step.skip and step.skip(data):
        step = flow.after(step.name)
    return step


def end(ctx: Context, *, status: str) -> bool:
    """End the contact's dialog in progress, if any; True when there was one."""
    conversation = active(ctx.session, ctx.contact.id, ctx.now)
    if conversation is None:
        return False
    conversation.status = status
    conversation.updated_at = ctx.now
    ctx.session.add(conversation)
    ctx.session.flush()
    return True


def route(ctx: Context) -> bool:
    """Give the message to the contact's waiting dialog step, if there is one."""
    conversation = active(ctx.session, ctx.contact.id, ctx.now)
    if conversation is None:
        return False
    flow = registry().get(conversation.flow)
    if flow is None:  # a flow removed by a deploy: let the person start over
        end(ctx, status="lapsed")
        return False
    word, rest = split_command(ctx.text)
    if word in BACK_WORDS and not rest:
        _back(ctx, flow, conversation)
        return True
    step = flow.step(conversation.step)
    data = dict(conversation.data)
    parse_context = ParseContext(language=ctx.language, now=ctx.now, **_zone(conversation))
    parsed = step.parser(data)(_answer(ctx.text, step), parse_context)
    if parsed.leaves:
        # A command instead of an answer: it replaces the dialog, as a flow it starts would.
        end(ctx, status="replaced")
        return False
    if not parsed.ok:
        _reask(ctx, flow, conversation, step, parsed.hint or "parse.generic", parsed.hint_vars)
        return True
    transition = step.check(ctx, data, parsed.value) if step.check else None
    if transition is None:
        transition = (
            step.then(data, parsed.value) if step.then else Next(data={step.name: parsed.value})
        )
    _apply(ctx, flow, conversation, step, data, transition)
    return True


def _answer(text: str, step: Step) -> str:
    """The reply without the step's own command word in front, when something follows it."""
    word, rest = split_command(text)
    return rest if rest and word in step.command_words else text


def _zone(conversation: Conversation) -> dict[str, str]:
    zone = conversation.data.get("timezone")
    return {"timezone": zone} if zone else {}


def _apply(
    ctx: Context,
    flow: Flow,
    conversation: Conversation,
    step: Step,
    data: dict,
    transition: Transition,
) -> None:
    if isinstance(transition, Reask):
        _reask(ctx, flow, conversation, step, transition.hint, transition.values)
        return
    if isinstance(transition, Stop):
        conversation.status = "stopped"
        _save(ctx, conversation)
        ctx.say(transition.say, **transition.values)
        return
    data.update(transition.data)
    if flow.keep:
        flow.keep(ctx, data)
    history = list(data.get("_history", []))
    if isinstance(transition, Done):
        conversation.data = data
        conversation.status = "done"
        _save(ctx, conversation)
        flow.finish(ctx, data)
        return
    following = flow.step(transition.step) if transition.step else flow.after(step.name)
    following = open_step(flow, following, data)
    if following is None:
        conversation.data = data
        conversation.status = "done"
        _save(ctx, conversation)
        flow.finish(ctx, data)
        return
    data["_history"] = [*history, step.name]
    conversation.data = data
    conversation.step = following.name
    conversation.reasks = 0
    _save(ctx, conversation)
    _ask(ctx, conversation, following, data)


def _back(ctx: Context, flow: Flow, conversation: Conversation) -> None:
    """Return to the previous question so the person can change that answer."""
    history = list(conversation.data.get("_history", []))
    if not history:
        ctx.say("dialog.no_back")
        _ask(ctx, conversation, flow.step(conversation.step), conversation.data)
        return
    previous = history.pop()
    conversation.data = {**conversation.data, "_history": history}
    conversation.step = previous
    conversation.reasks = 0
    _save(ctx, conversation)
    _ask(ctx, conversation, flow.step(previous), conversation.data)


def _reask(
    ctx: Context,
    flow: Flow,
    conversation: Conversation,
    step: Step,
    hint: str,
    values: Mapping[str, Any],
) -> None:
    conversation.reasks += 1
    _save(ctx, conversation)
    lines = [t(hint, ctx.language, **values), question(step, conversation.data, ctx.language)]
    if conversation.reasks > REASKS_BEFORE_EXIT_HINT:
        with_exit = [*lines, t("dialog.exit_hint", ctx.language)]
        longer = segments(sms_body("\n".join(with_exit))) > segments(sms_body("\n".join(lines)))
        # On SMS the way out is worth saying only while it costs no second part.
        if ctx.contact.channel != SMS or not longer:
            lines = with_exit
    tap = buttons_for(step, conversation.data, ctx.language, conversation.id)
    ctx.send("\n".join(lines), buttons=tap)


def _save(ctx: Context, conversation: Conversation) -> None:
    conversation.updated_at = ctx.now
    # Each answer gives the person another full day to reply.
    flow = registry()[conversation.flow]
    conversation.expires_at = ctx.now + flow.lifetime
    ctx.session.add(conversation)
    ctx.session.flush()


def question(step: Step, data: Mapping[str, Any], language: str) -> str:
    """The step's question in `language`, filled in from the answers so far."""
    values = step.ask_values(dict(data)) if step.ask_values else {}
    return t(step.ask, language, **values)


def _ask(ctx: Context, conversation: Conversation, step: Step, data: Mapping[str, Any]) -> None:
    ctx.send(
        question(step, data, ctx.language),
        buttons=buttons_for(step, data, ctx.language, conversation.id),
    )


def buttons_for(
    step: Step, data: Mapping[str, Any], language: str, conversation_id: int
) -> dict | None:
    """The answers to tap for this question, marked with the dialog and step they answer."""
    parser = step.parser(dict(data))
    if isinstance(parser, YesNo | Confirmation):
        spec = buttons.yes_no(language)
    elif isinstance(parser, Choice) and not callable(parser.options):
        spec = buttons.numbered(parser.options)
    else:
        spec = None
    return spec and spec | {"conversation": conversation_id, "step": step.name}


def awaits(ctx: Context, question: Mapping[str, Any] | None) -> bool:
    """Whether the contact's dialog still waits for the answer to this (tapped) question."""
    conversation = active(ctx.session, ctx.contact.id, ctx.now)
    return (
        conversation is not None
        and bool(question)
        and question.get("conversation") == conversation.id
        and question.get("step") == conversation.step
    )


def expire_idle(session: Session, at: datetime) -> int:
    """Close dialogs nobody answered in time; returns how many (tick's sweep)."""
    result = session.execute(
        update(Conversation)
        .where(Conversation.status == ACTIVE, Conversation.expires_at <= at)
        .values(status="expired", updated_at=at)
    )
    return result.rowcount or 0
