"""The conversation event log (the outbox of domain events) and the listeners' receipts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models.accounts import PlatformAccount
from inbox.models.conversations import Conversation


class ConversationEvent(models.Model):
    """What happened to a conversation, in order. The dashboard's history, the reports' source
    and the live stream's catch-up all read this log; its id is the live event id."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        MESSAGE_RECEIVED = "message_received", _("Message received")
        MESSAGE_SENT = "message_sent", _("Message sent")
        MESSAGE_UPDATED = "message_updated", _("Message updated")
        NOTE_ADDED = "note_added", _("Note added")
        ASSIGNED = "assigned", _("Assigned")
        STATUS_CHANGED = "status_changed", _("Status changed")
        LABELS_CHANGED = "labels_changed", _("Labels changed")
        PRIORITY_CHANGED = "priority_changed", _("Priority changed")
        # SLA timers (sla.timers): data has target, due_at, started_at, late (caught up).
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACHED = "sla_breached", _("SLA breached")
        # The chatbot (chatbot/): hand-off to humans, given back, consent keywords.
        BOT_HANDOFF = "bot_handoff", _("Handed off by the bot")
        BOT_RESUMED = "bot_resumed", _("Bot given back")
        CONSENT_CHANGED = "consent_changed", _("Marketing consent changed")
        # contacts/: the conversation's contact changed (data: contact, action, changes).
        CONTACT_UPDATED = "contact_updated", "Contact updated"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    # Denormalised for access filtering of the live catch-up without a join.
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Live catch-up: events after id N for the accounts a user may see.
            models.Index(fields=["account", "id"], name="event_account_id"),
            models.Index(fields=["conversation", "id"], name="event_conversation_id"),
        ]


class ListenerReceipt(models.Model):
    """One listener (``inbox.listeners``) handled one domain event: written in the listener's
    transaction, so a redispatched event (the sweep, a retried task) is not handled twice.
    Kept only while the sweep may still look at the event (``inbox.listeners.SWEEP_WINDOW``)."""

    event = models.ForeignKey(ConversationEvent, on_delete=models.CASCADE, related_name="+")
    # The listener's name in ``inbox.listeners.LISTENERS``.
    listener = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "listener"], name="listener_receipt_event_listener_uniq"
            )
        ]
