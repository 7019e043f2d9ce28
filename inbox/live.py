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
        "actor": event.actor_id,  # who did it: their "typing" notice ends with their send
        "data": event.data,
        "at": event.created_at.isoformat(),
    }


def publish_on_commit(*events: ConversationEvent) -> None:
    """Push these events to their accounts' groups once the transaction commits: one
    callback and one trip to the channel layer however many events (an ingest batch)."""
    if not events:
        return
    messages = [(account_group(event.account_id), event_payload(event)) for event in events]
    for _group, payload in messages:
        json.dumps(payload)  # fail where a bad event is made, not in the socket
    transaction.on_commit(lambda: send_to_groups(messages))


# Payloads per channel-layer message: a burst's events reach a socket in a few messages, well
# within each socket's channel capacity, and no message grows without bound.
PAYLOADS_PER_MESSAGE = 200


def send_to_group(group: str, payload: dict[str, Any], handler: str = "inbox.event") -> None:
    """Push to a group now. A broken channel layer loses a notification, never data."""
    send_to_groups([(group, payload)], handler)


def send_to_groups(
    messages: list[tuple[str, dict[str, Any]]], handler: str = "inbox.event"
) -> None:
    """Push each (group, payload) now, in order, in one event loop (an ``async_to_sync`` hop
    costs milliseconds) and one ``group_send`` per group for up to ``PAYLOADS_PER_MESSAGE``
    payloads (a group_send is several Redis commands: an ingest batch of a thousand events to
    one account was a thousand of them). The consumer forwards each payload as a frame."""
    if not messages:
        return
    by_group: dict[str, list[dict[str, Any]]] = {}
    for group, payload in messages:
        by_group.setdefault(group, []).append(payload)
    layer = get_channel_layer()

    async def send_all() -> None:
        for group, payloads in by_group.items():
            for start in range(0, len(payloads), PAYLOADS_PER_MESSAGE):
                chunk = payloads[start : start + PAYLOADS_PER_MESSAGE]
                await layer.group_send(group, {"type": handler, "payloads": chunk})

    try:
        async_to_sync(send_all)()
    except Exception:  # noqa: BLE001 - Redis down must not break a commit that succeeded
        log.exception("live events to %s not sent", sorted(by_group))
