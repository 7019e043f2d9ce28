"""Live events to agents' browsers: the one publisher. Every payload a socket receives is built
here (the wire format ``static/js/*.js`` reads), pushed only after commit and only to the
groups that may see it. The socket is a notification path; clients catch up over HTTP from the
event ids (``/api/v1/events/?after=ID``). Payloads without an id (typing, availability,
presence, read marks, escalations) are live only: a page load shows the current state.
Notifications carry ids of their own, caught up from ``/api/v1/notifications/?after=ID``."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from inbox.access import account_group, user_group
from inbox.events import DomainEvent
from inbox.models import Conversation, User
from sla.models import SlaPolicy

log = logging.getLogger(__name__)


def event_payload(event: DomainEvent) -> dict[str, Any]:
    """A domain event as browsers receive it (live, and from ``/api/v1/events/``)."""
    return {
        "id": event.id,
        "type": f"inbox.{event.kind}",
        "conversation": event.conversation_id,
        "account": event.account_id,
        "actor": event.actor_id,  # who did it: their "typing" notice ends with their send
        "data": dict(event.data),
        "at": event.at.isoformat(),
    }


def publish_events(events: list[DomainEvent]) -> None:
    """The live-push listener (``inbox.listeners``): after commit, each event to its account's
    group, in one trip to the channel layer however many (an ingest batch)."""
    send_to_groups([(account_group(event.account_id), event_payload(event)) for event in events])


# --- Payloads without an id -------------------------------------------------------------------


def _live_only(kind: str, data: dict[str, Any], *, conversation=None, account=None, at=None):
    """The event shape, live only (no id)."""
    return {
        "id": None,
        "type": f"inbox.{kind}",
        "conversation": conversation,
        "account": account,
        "data": data,
        "at": (at or timezone.now()).isoformat(),
    }


def typing(conversation: Conversation, *, by: str, name: str, at) -> dict[str, Any]:
    """The customer is typing (platforms that say so)."""
    return _live_only(
        "typing",
        {"by": by, "name": name},
        conversation=conversation.pk,
        account=conversation.account_id,
        at=at,
    )


def availability(user: User, *, status: str) -> dict[str, Any]:
    """An agent's availability (chosen) and status (what teammates see: offline when away)."""
    return _live_only(
        "availability",
        {
            "user": user.pk,
            "name": user.display_name,
            "availability": user.availability,
            "status": status,
        },
    )


def read_mark(conversation_id: int, up_to: int) -> dict[str, Any]:
    """The user read a conversation up to a message: their other tabs update unread counts."""
    return {"type": "inbox.read", "conversation": conversation_id, "data": {"message": up_to}}


def sla_escalation(conversation: Conversation, policy: SlaPolicy) -> dict[str, Any]:
    """A breach the policy escalates to managers."""
    return {
        "type": "inbox.sla_escalation",
        "conversation": conversation.pk,
        "account": conversation.account_id,
        "data": {"policy": policy.pk, "policy_name": policy.name},
    }


def presence(conversation_id: int, user: User, *, state: str, hello: bool) -> dict[str, Any]:
    """An agent is viewing, typing in or has left a conversation (collision detection)."""
    return {
        "type": "presence",
        "state": state,
        "conversation": conversation_id,
        "user": user.pk,
        "name": user.first_name or user.username,
        "hello": hello,
    }


def notification(
    *,
    notification_id: int,
    kind: str,
    text: str,
    conversation_id: int | None,
    created_at,
    unread: int,
) -> dict[str, Any]:
    """A notification, to its one recipient's sockets (``notifications.services.notify``).
    Its id is the notification's, not an event log id: clients catch up on these with
    ``/api/v1/notifications/?after=ID``, so the payload's own ``id`` stays None."""
    return {
        "id": None,
        "type": "inbox.notification",
        "conversation": conversation_id,
        "data": {
            "notification": notification_id,
            "kind": kind,
            "text": text,
            "unread": unread,
            "url": f"/conversations/{conversation_id}/" if conversation_id else None,
        },
        "at": created_at.isoformat(),
    }


def notifications_read(*, unread: int) -> dict[str, Any]:
    """The user marked notifications read: their other tabs update the bell."""
    return {"type": "inbox.notifications_read", "data": {"unread": unread}}


def conversation_group(conversation_id: int) -> str:
    """The sockets that have one conversation open: viewing and typing notices."""
    return f"conversation.{conversation_id}"


def channel_message(payloads: list[dict[str, Any]], handler: str = "inbox.event") -> dict:
    """What a group receives: its sockets forward each payload as a frame (``inbox.event``)
    or close (``inbox.disconnect``)."""
    return {"type": handler, "payloads": payloads}


# --- Sending ----------------------------------------------------------------------------------


def to_accounts_on_commit(account_ids: list[int], payload: dict[str, Any]) -> None:
    messages = [(account_group(pk), payload) for pk in account_ids]
    transaction.on_commit(lambda: send_to_groups(messages))


def to_users_on_commit(user_ids: list[int], payload: dict[str, Any]) -> None:
    messages = [(user_group(pk), payload) for pk in user_ids]
    transaction.on_commit(lambda: send_to_groups(messages))


def disconnect_users_on_commit(user_ids: list[int], reason: str) -> None:
    """Close the users' open sockets once the change is committed (so a reconnect sees it)."""
    messages = [(user_group(pk), {"reason": reason}) for pk in user_ids]
    if messages:
        transaction.on_commit(lambda: send_to_groups(messages, handler="inbox.disconnect"))


def send_to_group(group: str, payload: dict[str, Any], handler: str = "inbox.event") -> None:
    """Push to a group now (after commit is the caller's business)."""
    send_to_groups([(group, payload)], handler)


# Payloads per channel-layer message: a burst's events reach a socket in a few messages, well
# within each socket's channel capacity, and no message grows without bound.
PAYLOADS_PER_MESSAGE = 200


def send_to_groups(
    messages: list[tuple[str, dict[str, Any]]], handler: str = "inbox.event"
) -> None:
    """Push each (group, payload) now, in order, in one event loop (an ``async_to_sync`` hop
    costs milliseconds) and one ``group_send`` per group for up to ``PAYLOADS_PER_MESSAGE``
    payloads (a group_send is several Redis commands: an ingest batch of a thousand events to
    one account was a thousand of them). The consumer forwards each payload as a frame.
    A broken channel layer loses a notification, never data."""
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
                await layer.group_send(group, channel_message(chunk, handler))

    try:
        async_to_sync(send_all)()
    except Exception:  # noqa: BLE001 - Redis down must not break a commit that succeeded
        log.exception("live events to %s not sent", sorted(by_group))
