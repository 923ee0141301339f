"""What a handler sees of one inbound message, and how it answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlmodel import Session

from bot import outbox
from bot.i18n import t
from bot.roles import Roles, roles_of
from models.message import Message
from models.people import Contact, Person
from models.teams import GroupChat


@dataclass
class Context:
    """One inbound message being handled: who sent it, where, and the replies so far."""

    session: Session
    message: Message
    contact: Contact
    person: Person
    now: datetime
    group: GroupChat | None = None
    group_language: str | None = None  # a linked group hears its team's language
    replies: list[Message] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.message.body.strip()

    @property
    def language(self) -> str:
        return self.group_language or self.person.language

    @property
    def in_group(self) -> bool:
        return self.group is not None

    @cached_property
    def roles(self) -> Roles:
        return roles_of(self.session, self.person.id)

    def forget_roles(self) -> None:
        """Read roles again next time (a handler just changed them)."""
        self.__dict__.pop("roles", None)

    def say(self, key: str, **values: object) -> Message:
        """Reply with the catalog text `key` in the person's language, where they wrote from."""
        return self.send(t(key, self.language, **values))

    def send(
        self,
        body: str,
        *,
        purpose: str = "reply",
        media: list | None = None,
        buttons: dict | None = None,
    ) -> Message:
        """Reply with text already in the person's language (`media`: a chart to draw;
        `buttons`: answers to tap, in a direct chat)."""
        if self.group is not None:
            # In a forum, the answer goes to the topic the command was posted in.
            reply = outbox.to_group(
                self.session, self.group, body, purpose=purpose, media=media,
                thread_id=self.message.thread_id,
            )  # fmt: skip
        else:
            reply = outbox.to_contact(
                self.session, self.contact, body, purpose=purpose, media=media, buttons=buttons
            )
        self.replies.append(reply)
        return reply
