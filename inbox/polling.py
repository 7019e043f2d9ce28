"""One polling pass over the accounts that poll (X without webhooks, backfills)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from connectors.base import DeliveryError
from connectors.registry import get_connector
from inbox.ingest import apply_events
from inbox.models import PlatformAccount

log = logging.getLogger(__name__)


def poll_accounts(*, account_id: int | None = None) -> dict[int, str]:
    """Poll each account whose connector polls it; returns account id → outcome."""
    accounts = PlatformAccount.objects.exclude(status=PlatformAccount.Status.DISCONNECTED)
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    outcomes: dict[int, str] = {}
    for account in accounts:
        connector = get_connector(account.platform)
        if not connector.polls(account):
            continue
        try:
            with transaction.atomic():
                result = connector.poll(account)
                apply_events(result.events)
                # The cursor is saved with the events it covers: both or neither.
                done = {"poll_cursor": result.cursor, "last_polled_at": timezone.now()}
                if result.problem:
                    done["last_error"] = result.problem
                PlatformAccount.objects.filter(pk=account.pk).update(**done)
            outcomes[account.pk] = f"{len(result.events)} events"
        except DeliveryError as exc:
            PlatformAccount.objects.filter(pk=account.pk).update(last_error=exc.reason)
            outcomes[account.pk] = f"failed: {exc.reason}"
            log.warning("polling account %s failed: %s", account.pk, exc.reason)
    return outcomes
