"""Archived webhook bodies (and polled pages) → normalized events → services.

The dispatch table below is also the list of event types Parley handles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from connectors import base as events
from connectors.base import PayloadError
from connectors.registry import get_connector
from inbox import services
from inbox.models import PlatformAccount, WebhookEvent

log = logging.getLogger(__name__)

HANDLERS: dict[type[events.Event], Callable[..., Any]] = {
    events.MessageReceived: services.receive_message,
    events.MessageEchoed: services.record_echo,
    events.MessagesDelivered: services.mark_delivered,
    events.MessagesRead: services.mark_read,
    events.ReactionChanged: services.apply_reaction,
    events.MessageDeleted: services.delete_message,
    events.MessageEdited: services.edit_message,
    events.AccountRevoked: services.revoke_account,
}


def register_handler(event_type: type[events.Event], handler: Callable[..., Any]) -> None:
    """Connectors with events of their own (typing, group joins...) add their handler here."""
    HANDLERS[event_type] = handler


def apply_events(parsed: Iterable[events.Event]) -> list[str]:
    """Apply events in platform-time order; returns what was skipped and why."""
    skipped: list[str] = []
    accounts: dict[tuple[str, str], PlatformAccount | None] = {}
    for event in sorted(parsed, key=lambda e: e.timestamp):
        key = (event.platform, event.account_external_id)
        if key not in accounts:
            accounts[key] = PlatformAccount.objects.filter(
                platform=event.platform, external_id=event.account_external_id
            ).first()
        account = accounts[key]
        if account is None:
            skipped.append(f"unknown {event.platform} account {event.account_external_id}")
            continue
        handler = HANDLERS.get(type(event))
        if handler is None:
            skipped.append(f"no handler for {type(event).__name__}")
            continue
        handler(account=account, event=event)
    touched = {a.pk for a in accounts.values() if a is not None}
    if touched:
        PlatformAccount.objects.filter(pk__in=touched).update(last_event_at=timezone.now())
    return skipped


def process_webhook(webhook_id: int) -> str:
    """Parse and apply one archived webhook. Safe to run again: handlers are idempotent."""
    webhook = WebhookEvent.objects.select_related("account").filter(pk=webhook_id).first()
    if webhook is None:
        return "missing"
    if webhook.signature_valid is False:
        return "rejected"
    connector = get_connector(webhook.source)
    outcome, error = WebhookEvent.Outcome.PROCESSED, ""
    try:
        with transaction.atomic():
            parsed = connector.parse(bytes(webhook.body), account=webhook.account)
            skipped = apply_events(parsed)
        if not parsed:
            outcome, error = WebhookEvent.Outcome.IGNORED, "no event Parley uses"
        elif skipped and len(skipped) == len(parsed):
            outcome, error = WebhookEvent.Outcome.IGNORED, "; ".join(skipped)
        elif skipped:
            error = "; ".join(skipped)
        if skipped:
            log.warning("webhook %s: %s", webhook_id, error)
    except PayloadError as exc:
        outcome, error = WebhookEvent.Outcome.FAILED, str(exc)
        log.warning("webhook %s could not be parsed: %s", webhook_id, exc)
    except Exception as exc:
        # Kept with its error for a replay once the cause is fixed; the task does not retry.
        outcome, error = WebhookEvent.Outcome.FAILED, f"{type(exc).__name__}: {exc}"
        log.exception("webhook %s failed", webhook_id)
    WebhookEvent.objects.filter(pk=webhook_id).update(
        outcome=outcome,
        error=error[:5000],
        processed_at=timezone.now(),
        attempts=webhook.attempts + 1,
    )
    return outcome


def replay(webhook_ids: Iterable[int]) -> dict[int, str]:
    """Process archived webhooks again (after a parser fix). Rejected ones stay rejected."""
    return {pk: process_webhook(pk) for pk in webhook_ids}
