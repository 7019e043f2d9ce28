"""What a subscriber receives: the webhook event names, and the ``data`` each domain event
becomes. The conversation and message objects are the REST API's (``inbox.api.serializers``),
so an integration reads one shape whether it polls or listens."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from inbox.api.serializers import ConversationSerializer, MessageSerializer
from inbox.events import (
    Assigned,
    ConversationOpened,
    DomainEvent,
    LabelsChanged,
    MessageReceived,
    MessageSent,
    PriorityChanged,
    SlaBreached,
    StatusChanged,
)
from inbox.models import ContactIdentity, Conversation, Label, Message, Team

MESSAGE_CREATED = "message.created"
CONVERSATION_CREATED = "conversation.created"
CONVERSATION_UPDATED = "conversation.updated"
CONVERSATION_RESOLVED = "conversation.resolved"
SLA_BREACHED = "sla.breached"

# Every event a subscription may choose (a public contract: docs/api.md).
EVENTS: tuple[str, ...] = (
    MESSAGE_CREATED,
    CONVERSATION_CREATED,
    CONVERSATION_UPDATED,
    CONVERSATION_RESOLVED,
    SLA_BREACHED,
)

PRIORITY_NAMES = {value: name.lower() for value, name in Conversation.Priority.choices}


def names_for(event: DomainEvent) -> list[str]:
    """The webhook events a domain event becomes (a resolve is an update and a resolve)."""
    if isinstance(event, (MessageReceived, MessageSent)):
        return [MESSAGE_CREATED]
    if isinstance(event, ConversationOpened):
        return [CONVERSATION_CREATED]
    if isinstance(event, StatusChanged):
        if event.status == Conversation.Status.RESOLVED:
            return [CONVERSATION_UPDATED, CONVERSATION_RESOLVED]
        return [CONVERSATION_UPDATED]
    if isinstance(event, (Assigned, LabelsChanged, PriorityChanged)):
        return [CONVERSATION_UPDATED]
    if isinstance(event, SlaBreached):
        return [SLA_BREACHED]
    return []


def conversation_data(conversation_id: int) -> dict[str, Any] | None:
    conversation = (
        Conversation.objects.select_related("account", "contact", "team")
        .prefetch_related(
            "labels",
            Prefetch(
                "participants",
                queryset=ContactIdentity.objects.only(
                    "id", "contact_id", "username", "platform_user_id"
                ),
            ),
        )
        .filter(pk=conversation_id)
        .first()
    )
    return ConversationSerializer(conversation).data if conversation else None


def _changes(event: DomainEvent) -> dict[str, Any]:
    """What an update changed, in the API's words (names, not ids, where the API uses names)."""
    data = event.data
    if isinstance(event, StatusChanged):
        return {"status": {"from": event.previous, "to": event.status}}
    if isinstance(event, PriorityChanged):
        return {
            "priority": {
                "from": PRIORITY_NAMES.get(data.get("from")),
                "to": PRIORITY_NAMES.get(data.get("to")),
            }
        }
    if isinstance(event, LabelsChanged):
        ids = [*data.get("added", []), *data.get("removed", [])]
        names = dict(Label.objects.filter(pk__in=ids).values_list("pk", "name"))
        return {
            "labels": {
                "added": [names[i] for i in data.get("added", []) if i in names],
                "removed": [names[i] for i in data.get("removed", []) if i in names],
            }
        }
    if isinstance(event, Assigned):
        changes: dict[str, Any] = {}
        if data.get("from") != data.get("to"):
            changes["assignee"] = {"from": data.get("from"), "to": data.get("to")}
        if "team_from" in data and data["team_from"] != data.get("team"):
            teams = dict(
                Team.objects.filter(pk__in=[data["team_from"], data.get("team")]).values_list(
                    "pk", "name"
                )
            )
            changes["team"] = {
                "from": teams.get(data["team_from"]),
                "to": teams.get(data.get("team")),
            }
        return changes
    return {}


def data_for(event: DomainEvent, name: str) -> dict[str, Any] | None:
    """The ``data`` of webhook event ``name`` made from ``event``; None when what it was about
    is gone (deleted since)."""
    conversation = conversation_data(event.conversation_id)
    if conversation is None:
        return None
    data: dict[str, Any] = {"conversation": conversation, "actor": event.actor_id}
    if name == MESSAGE_CREATED:
        message = (
            Message.objects.prefetch_related("attachments", "reactions")
            .filter(pk=event.data.get("message"))
            .first()
        )
        if message is None:
            return None
        data["message"] = MessageSerializer(message).data
    elif name == CONVERSATION_UPDATED:
        data["changes"] = _changes(event)
    elif name == SLA_BREACHED:
        data["sla"] = {
            key: event.data.get(key)
            for key in ("target", "due_at", "started_at")
            if key in event.data
        }
    return data
