"""The campaigns listener (``inbox.listeners``): a reply or an opt-out of a campaign's
recipient is marked on its row, and an opt-out also leaves the contact out of every campaign
still to send to them. Idempotent: each update only fills what is still empty."""

from __future__ import annotations

from campaigns.models import Recipient
from contacts.consent import current_contact_id
from inbox.events import ConsentChanged, DomainEvent, MessageReceived
from inbox.models import Contact, Conversation


def on_events(events: list[DomainEvent]) -> None:
    for event in events:
        if isinstance(event, MessageReceived) and not event.is_system:
            _replied(event)
        elif isinstance(event, ConsentChanged):
            _consent_changed(event)


def _replied(event: MessageReceived) -> None:
    contact_id = (
        Conversation.objects.filter(pk=event.conversation_id)
        .values_list("contact_id", flat=True)
        .first()
    )
    if contact_id is None:
        return
    Recipient.objects.filter(
        contact_id=contact_id,
        state=Recipient.State.QUEUED,
        replied_at__isnull=True,
        campaign__account_id=event.account_id,
        message__created_at__lte=event.at,
    ).update(replied_at=event.at)


def _consent_changed(event: ConsentChanged) -> None:
    if event.data.get("consent") != Contact.Consent.OPTED_OUT:
        return
    contact_id = current_contact_id(event.data.get("contact"))
    if contact_id is None:
        return
    # Sent already: counted as opted out (the report's opt-out rate).
    Recipient.objects.filter(
        contact_id=contact_id,
        state=Recipient.State.QUEUED,
        opted_out_at__isnull=True,
        message__created_at__lte=event.at,
    ).update(opted_out_at=event.at)
    # Still to send: never sent (a message already queued is stopped by delivery's check).
    Recipient.objects.filter(contact_id=contact_id, state=Recipient.State.PENDING).update(
        state=Recipient.State.SKIPPED,
        reason="opted_out",
        detail="Opted out while the campaign was sending.",
    )
