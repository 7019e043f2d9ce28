"""Live events to agents' browsers: only from services, only after commit, only to the groups
that may see the conversation. The socket is a notification path; clients catch up over HTTP
from the event ids (``/api/v1/events/?after=ID``)."""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from inbox.access import account_group
from inbox.models import ConversationEvent

log = logging.getLogger(__name__)


def event_payload(event: ConversationEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "type": f"inbox.{event.kind}",
        "conversation": event.conversation_id,
        "account": event.account_id,
        "data": event.data,
        "at": event.created_at.isoformat(),
    }


def publish_on_commit(event: ConversationEvent) -> None:
    payload = event_payload(event)
    json.dumps(payload)  # fail where a bad event is made, not in the socket
    transaction.on_commit(lambda: send_to_group(account_group(event.account_id), payload))


def send_to_group(group: str, payload: dict[str, Any], handler: str = "inbox.event") -> None:
    """Push to a group now. A broken channel layer loses a notification, never data."""
    try:
        async_to_sync(get_channel_layer().group_send)(group, {"type": handler, "payload": payload})
    except Exception:  # noqa: BLE001 - Redis down must not break a commit that succeeded
        log.exception("live event to %s not sent", group)
