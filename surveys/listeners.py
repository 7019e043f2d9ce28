"""The survey listener (``inbox.listeners``): a conversation resolved → ask for a rating; a
customer's answer (marked by ingest, ``inbox.answers``) → record it; a conversation reopened or
a question that failed to deliver → stop waiting. Test conversations and imported history never
reach it (``inbox.listeners.ONLY``)."""

from __future__ import annotations

from inbox.answers import MARK
from inbox.events import DomainEvent, MessageFailed, MessageReceived, StatusChanged
from inbox.models import Conversation
from surveys import services
from surveys.answers import NAME

RESOLVED = Conversation.Status.RESOLVED


def on_events(events: list[DomainEvent]) -> None:
    # Answers first: a batch with a rating and then a new question reopens the conversation
    # (its StatusChanged is recorded before the messages' events), and the rating still counts.
    for event in events:
        if isinstance(event, MessageReceived) and event.data.get(MARK) == NAME:
            services.record_answer(message_id=event.message_id)
    failed: list[int] = []
    for event in events:
        if isinstance(event, StatusChanged):
            if event.status == RESOLVED and event.previous != RESOLVED:
                services.ask(conversation_id=event.conversation_id, resolved_by=event.actor_id)
            elif event.previous == RESOLVED and event.status != RESOLVED:
                services.close(conversation_id=event.conversation_id, reason="reopened")
        elif isinstance(event, MessageFailed):
            failed.append(event.message_id)
    if failed:
        services.delivery_failed(message_ids=failed)
