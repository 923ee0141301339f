"""Changes to a group chat: the bot removed unlinks it; a supergroup upgrade moves the link."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.channels.base import ChatEvent
from models.teams import GroupChat


def apply(session: Session, event: ChatEvent) -> None:
    """Update the group chat the event is about; unknown groups need nothing."""
    group = _find(session, event.channel, event.chat_id)
    if group is None:
        return
    if event.kind == "bot_removed":
        unlink(group)
    elif event.kind == "migrated" and event.new_chat_id:
        _migrate(session, group, event.new_chat_id)


def unlink(group: GroupChat) -> None:
    """Forget the group's team: it gets no digest and sees no team data."""
    group.team_id, group.linked_at, group.linked_by = None, None, None


def _find(session: Session, channel: str, chat_id: str) -> GroupChat | None:
    return session.exec(
        select(GroupChat).where(GroupChat.channel == channel, GroupChat.chat_id == chat_id)
    ).first()


def _migrate(session: Session, group: GroupChat, new_chat_id: str) -> None:
    """The group became a supergroup under a new id: its link follows it."""
    newer = _find(session, group.channel, new_chat_id)
    if newer is None:
        group.chat_id = new_chat_id
        return
    # Someone wrote in the new supergroup before the migration reached us.
    if group.team_id and not newer.team_id:
        newer.team_id, newer.linked_at, newer.linked_by = (
            group.team_id,
            group.linked_at,
            group.linked_by,
        )
    unlink(group)
