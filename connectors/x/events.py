"""Normalized events that only X produces, beside the common ones in ``connectors.base``.

Their handlers live in ``connectors.x.services`` and are registered in ``inbox.ingest``'s
dispatch table when the X connector is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.base import Event, MessageEchoed, MessagesRead, Person


@dataclass(frozen=True)
class XMessageEchoed(MessageEchoed):
    """A DM the account sent. X hands back no client reference, so a copy of a DM Parley is
    still sending is recognised by its conversation and text (the webhook can beat the send's
    HTTP response)."""


@dataclass(frozen=True)
class XMessagesRead(MessagesRead):
    """X's read receipt names the last event the contact has read: every outbound message up to
    that one is read."""

    last_read_event_id: str = ""


@dataclass(frozen=True)
class TypingStarted(Event):
    """The contact is typing: shown live, never stored as a message."""

    by: Person
    thread_external_id: str | None = None


@dataclass(frozen=True)
class ParticipantsChanged(Event):
    """People joined or left a group conversation; shown as a system message."""

    external_id: str
    thread_external_id: str
    joined: bool
    participants: tuple[Person, ...] = ()
    by: Person | None = None
