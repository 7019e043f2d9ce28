"""Domain events: what happened in the inbox, as typed values.

The service that makes a change records its events in the same transaction (``record``,
``record_many``). The outbox is the conversation's event log (``ConversationEvent``): its ids
are the live event ids and the ``/api/v1/events/?after=ID`` catch-up reads it. After commit the
recorded ids go to the dispatcher (``inbox.listeners``), which hands each event to the listeners
registered for its type. Not to be confused with ``connectors.base``'s normalized platform
events, which are what a platform said; these are what the inbox did about it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.utils import timezone

from inbox.models import Conversation, ConversationEvent, User

Kind = ConversationEvent.Kind


@dataclass(frozen=True)
class DomainEvent:
    """One recorded event. ``id`` is the ``ConversationEvent`` row's id (listeners are
    idempotent by it); ``data`` is the row's data, as browsers receive it."""

    kind: ClassVar[str]
    id: int
    conversation_id: int
    account_id: int
    actor_id: int | None
    data: Mapping[str, Any]
    at: datetime

    @property
    def history(self) -> bool:
        """Recorded by a history import: closed history (``inbox.listeners.ONLY``)."""
        return bool(self.data.get("history"))

    @property
    def is_test(self) -> bool:
        """An event of a test conversation (the settings area's test event)."""
        return bool(self.data.get("test"))


@dataclass(frozen=True)
class ConversationOpened(DomainEvent):
    kind = Kind.CREATED


@dataclass(frozen=True)
class MessageReceived(DomainEvent):
    """A customer's message was stored."""

    kind = Kind.MESSAGE_RECEIVED

    @property
    def message_id(self) -> int:
        return self.data["message"]

    @property
    def is_system(self) -> bool:
        """A notice in the thread (someone joined a group), not the customer writing."""
        return bool(self.data.get("system"))


@dataclass(frozen=True)
class MessageSent(DomainEvent):
    """An outbound message: queued by Parley, or sent outside it (``outside_parley``)."""

    kind = Kind.MESSAGE_SENT

    @property
    def message_id(self) -> int:
        return self.data["message"]

    @property
    def outside_parley(self) -> bool:
        return bool(self.data.get("outside_parley"))

    @property
    def sender_kind(self) -> str:
        # A message sent from the platform's own tools is an agent's.
        return self.data.get("sender_kind", "agent")


@dataclass(frozen=True)
class MessageUpdated(DomainEvent):
    """A message's status, reaction, edit or deletion changed."""

    kind = Kind.MESSAGE_UPDATED

    @property
    def message_id(self) -> int:
        return self.data["message"]


@dataclass(frozen=True)
class MessageFailed(MessageUpdated):
    """An outbound message failed for good (a ``message_updated`` with status ``failed``)."""


@dataclass(frozen=True)
class NoteAdded(DomainEvent):
    kind = Kind.NOTE_ADDED


@dataclass(frozen=True)
class Assigned(DomainEvent):
    kind = Kind.ASSIGNED


@dataclass(frozen=True)
class StatusChanged(DomainEvent):
    kind = Kind.STATUS_CHANGED

    @property
    def previous(self) -> str:
        return self.data["from"]

    @property
    def status(self) -> str:
        return self.data["to"]


@dataclass(frozen=True)
class LabelsChanged(DomainEvent):
    kind = Kind.LABELS_CHANGED


@dataclass(frozen=True)
class PriorityChanged(DomainEvent):
    kind = Kind.PRIORITY_CHANGED


@dataclass(frozen=True)
class SlaWarned(DomainEvent):
    kind = Kind.SLA_WARNING


@dataclass(frozen=True)
class SlaBreached(DomainEvent):
    kind = Kind.SLA_BREACHED


@dataclass(frozen=True)
class BotHandedOff(DomainEvent):
    kind = Kind.BOT_HANDOFF


@dataclass(frozen=True)
class BotResumed(DomainEvent):
    kind = Kind.BOT_RESUMED


@dataclass(frozen=True)
class ContactUpdated(DomainEvent):
    """Something about the conversation's contact changed (``contacts.services``): data has
    ``contact``, ``action`` (updated, merged, unmerged, erased, note_added) and ``changes``.
    Recorded on the contact's latest conversation of each account (an event belongs to a
    conversation). Its subtypes below are kinds of their own."""

    kind = Kind.CONTACT_UPDATED

    @property
    def contact_id(self) -> int:
        return self.data["contact"]


@dataclass(frozen=True)
class ConsentChanged(ContactUpdated):
    """The contact's marketing consent changed (recorded where it happened)."""

    kind = Kind.CONSENT_CHANGED


# Every kind the log holds, and its type.
BY_KIND: dict[str, type[DomainEvent]] = {
    cls.kind: cls
    for cls in (
        ConversationOpened,
        MessageReceived,
        MessageSent,
        MessageUpdated,
        NoteAdded,
        Assigned,
        StatusChanged,
        LabelsChanged,
        PriorityChanged,
        SlaWarned,
        SlaBreached,
        BotHandedOff,
        BotResumed,
        ConsentChanged,
        ContactUpdated,
    )
}


def from_row(row: ConversationEvent) -> DomainEvent:
    """The typed event a log row records."""
    cls = BY_KIND[row.kind]
    if cls is MessageUpdated and row.data.get("status") == "failed":
        cls = MessageFailed
    return cls(
        id=row.pk,
        conversation_id=row.conversation_id,
        account_id=row.account_id,
        actor_id=row.actor_id,
        data=row.data,
        at=row.created_at,
    )


# --- Recording: the outbox -------------------------------------------------------------------

# Called on commit with the rows a transaction recorded (set by ``inbox.apps`` to the
# listeners' dispatcher; tests of the log alone may leave it unset).
Dispatcher = Callable[[list[ConversationEvent]], None]
_dispatcher: Dispatcher | None = None


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    global _dispatcher
    _dispatcher = dispatcher


def record(
    conversation: Conversation,
    kind: str,
    *,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> ConversationEvent:
    """Append to the conversation's log, in the caller's transaction; listeners run after
    commit (and never for a rolled-back change)."""
    return record_many([entry(conversation, kind, actor=actor, data=data, at=at)])[0]


# Who set off the changes being recorded, when it was not a person: the automation rules whose
# actions run (``caused_by``). Listeners read it from the event's data to avoid loops.
_cause: ContextVar[dict[str, Any] | None] = ContextVar("parley_event_cause", default=None)


@contextmanager
def caused_by(cause: dict[str, Any]) -> Iterator[None]:
    """Events recorded inside the block carry ``data["caused_by"] = cause``."""
    token = _cause.set(cause)
    try:
        yield
    finally:
        _cause.reset(token)


def entry(
    conversation: Conversation,
    kind: str,
    *,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> ConversationEvent:
    """An unsaved log row, for ``record_many``. Events of a test conversation say so, and
    events recorded by an automation rule's actions name the rule (loop protection)."""
    data = data or {}
    if conversation.is_test:
        data = {**data, "test": True}
    cause = _cause.get()
    if cause is not None:
        data = {**data, "caused_by": cause}
    return ConversationEvent(
        conversation=conversation,
        account_id=conversation.account_id,
        kind=kind,
        actor=actor,
        data=data,
        created_at=at or timezone.now(),
    )


def record_many(rows: list[ConversationEvent]) -> list[ConversationEvent]:
    """Append these rows in one INSERT (an ingest batch's events) and dispatch them together
    after commit: one callback however many."""
    if not rows:
        return []
    saved = ConversationEvent.objects.bulk_create(rows)
    dispatcher = _dispatcher
    if dispatcher is not None:
        dispatcher(saved)
    return saved
