"""The consent history: every ``ConsentChanged`` event becomes a ``ConsentChange`` row (who,
when, how), whoever recorded it — the chatbot's keywords or an agent on the contacts page."""

from __future__ import annotations

from contacts.models import ConsentChange
from inbox.events import ConsentChanged, DomainEvent
from inbox.models import Contact


def on_events(events: list[DomainEvent]) -> None:
    """The consent-history listener (``inbox.listeners``); idempotent by event id."""
    changes = [e for e in events if isinstance(e, ConsentChanged)]
    if not changes:
        return
    known = set(
        ConsentChange.objects.filter(event_id__in=[e.id for e in changes]).values_list(
            "event_id", flat=True
        )
    )
    for event in changes:
        if event.id in known:
            continue
        contact = _current(event.data.get("contact"))
        if contact is None:
            continue
        ConsentChange.objects.create(
            contact=contact,
            state=event.data.get("consent", ""),
            source=str(event.data.get("source", ""))[:200],
            actor_id=event.actor_id,
            conversation_id=event.conversation_id,
            event_id=event.id,
            created_at=event.at,
        )


def _current(contact_id: object) -> Contact | None:
    """The contact now holding what ``contact_id`` was (a merge may have moved it)."""
    if not isinstance(contact_id, int):
        return None
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is not None and contact.merged_into_id is not None:
        contact = Contact.objects.filter(pk=contact.merged_into_id).first()
    return contact


def current_contact_id(contact_id: object) -> int | None:
    """``_current``'s id, for listeners that follow consent changes too (campaigns)."""
    contact = _current(contact_id)
    return contact.pk if contact is not None else None
