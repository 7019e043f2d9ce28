"""Archived webhook bodies (and polled pages) → normalized events → services.

The dispatch tables below are also the list of event types Parley handles. Webhooks are applied
in batches: the ingest pass takes the archived bodies waiting, up to ``BATCH_SIZE`` per
transaction, so a burst of single-event POSTs costs one pass over the database per batch, not
per event, and each conversation's upkeep runs once per batch.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from connectors import base as events
from connectors import testevents
from connectors.base import PayloadError
from connectors.registry import get_connector
from inbox import batch, engagement, inbound, services
from inbox.models import PlatformAccount, WebhookEvent

log = logging.getLogger(__name__)

# Archived webhooks one ingest transaction takes at most: enough to amortise a batch's fixed
# cost over single-event POSTs, few enough that bodies of many events (Meta batches up to
# 1 000) spread over the workers' passes instead of one process holding a burst.
BATCH_SIZE = 25
# Archived rows one DELETE of the retention pass removes at most (short locks, bounded WAL).
PRUNE_CHUNK = 5000


def apply_post_activity(*, account: PlatformAccount, event: events.PostActivity) -> None:
    """Once per activity: its inner event (a comment and what becomes of it) first, so the
    post's counts land on the conversation it may have opened."""
    if not inbound.claim_post_activity(account=account, event=event):
        return
    if event.inner is not None:
        apply_to_account(account, [event.inner])
    inbound.count_post_activity(account=account, event=event)


# One event at a time: handler(account=..., event=...).
HANDLERS: dict[type[events.Event], Callable[..., Any]] = {
    events.MessageEchoed: inbound.record_echo,
    events.MessagesDelivered: services.mark_delivered,
    events.MessagesRead: inbound.mark_read,
    events.ReactionChanged: services.apply_reaction,
    events.MessageDeleted: services.delete_message,
    events.MessageEdited: services.edit_message,
    events.AccountRevoked: services.revoke_account,
    events.WindowOpened: engagement.open_window,
    events.Typing: inbound.show_typing,
    events.ParticipantsChanged: inbound.record_participants_change,
    events.PostActivity: apply_post_activity,
}
# A run of consecutive events of one type and account at once: handler(account, [event, ...]).
BATCH_HANDLERS: dict[type[events.Event], Callable[..., Any]] = {
    events.MessageReceived: services.receive_messages,
    events.ContactSeen: engagement.request_profiles,
}
# Types whose effect does not depend on their order: applied after the others of the batch
# (which profiles are missing is asked once per batch, at its end).
LAST: set[type[events.Event]] = {events.ContactSeen}

Skipped = list[tuple[events.Event, str]]


def apply_events(parsed: Iterable[events.Event]) -> Skipped:
    """Apply events in platform-time order (the order-free ones last); returns the events
    skipped, with why."""
    ordered = sorted(parsed, key=lambda e: e.timestamp)
    ordered = [e for e in ordered if type(e) not in LAST] + [e for e in ordered if type(e) in LAST]
    skipped: Skipped = []
    accounts: dict[tuple[str, str], PlatformAccount | None] = {}
    # The settings area's test events are not the platform speaking: not an account's "last
    # event" (its health reads that).
    heard = {
        (e.platform, e.account_external_id) for e in ordered if not testevents.is_test_event(e)
    }
    # Settings read once, and report metrics refreshed once per conversation, for the batch.
    with batch.scope():
        for (key, _type), run in groupby(
            ordered, key=lambda e: ((e.platform, e.account_external_id), type(e))
        ):
            run = list(run)
            if key not in accounts:
                accounts[key] = PlatformAccount.objects.filter(
                    platform=key[0], external_id=key[1]
                ).first()
            account = accounts[key]
            if account is None:
                skipped += [(e, f"unknown {key[0]} account {key[1]}") for e in run]
            else:
                skipped += apply_to_account(account, run)
    touched = {a.pk for key, a in accounts.items() if a is not None and key in heard}
    if touched:
        PlatformAccount.objects.filter(pk__in=touched).update(last_event_at=timezone.now())
    return skipped


def apply_to_account(account: PlatformAccount, run: list[events.Event]) -> Skipped:
    """Apply events of one type to their account (a connector's event may wrap one)."""
    kind = type(run[0])
    if kind in BATCH_HANDLERS:
        BATCH_HANDLERS[kind](account, run)
    elif kind in HANDLERS:
        for event in run:
            HANDLERS[kind](account=account, event=event)
    else:
        return [(e, f"no handler for {kind.__name__}") for e in run]
    return []


def process_waiting() -> int:
    """The ingest pass: apply the archived webhooks waiting, oldest first, ``BATCH_SIZE`` per
    transaction, until none is left. Rows another pass holds are skipped (that pass applies
    them), so passes on several workers share a burst. Returns how many were applied."""
    applied = 0
    while True:
        count = _process_batch()
        applied += count
        if count < BATCH_SIZE:
            return applied


def _process_batch() -> int:
    claimed: list[int] = []
    try:
        with transaction.atomic():
            batch = list(
                WebhookEvent.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("account")
                .filter(outcome=WebhookEvent.Outcome.RECEIVED)
                .exclude(signature_valid=False)
                .order_by("received_at", "id")[:BATCH_SIZE]
            )
            claimed = [w.pk for w in batch]
            _record(_apply(batch))
        return len(batch)
    except Exception:
        # One body breaking the batch must not hold up the others: each on its own.
        log.exception("ingest batch of webhooks %s failed; applying them one by one", claimed)
        # The rollback released the rows: each is claimed again, as another pass may take it.
        for pk in claimed:
            process_webhook(pk, waiting=True)
        return len(claimed)


def process_webhook(webhook_id: int, *, waiting: bool = False) -> str:
    """Parse and apply one archived webhook, whatever its outcome so far (a replay after a
    parser fix); with ``waiting``, only if it is still waiting and no other pass holds it, as a
    batch claims its rows (else "missing": that pass applies it, or did). Its row stays locked
    until its outcome is stored. Safe to run again: handlers are idempotent."""
    with transaction.atomic():
        rows = WebhookEvent.objects.select_for_update(skip_locked=waiting, of=("self",))
        if waiting:
            rows = rows.filter(outcome=WebhookEvent.Outcome.RECEIVED)
        webhook = rows.select_related("account").filter(pk=webhook_id).first()
        if webhook is None:
            return "missing"
        if webhook.signature_valid is False:
            return "rejected"
        try:
            with transaction.atomic():
                outcomes = _apply([webhook])
        except Exception as exc:
            # Kept with its error for a replay once the cause is fixed; the task does not retry.
            log.exception("webhook %s failed", webhook_id)
            outcomes = {webhook_id: (WebhookEvent.Outcome.FAILED, f"{type(exc).__name__}: {exc}")}
        _record(outcomes)
    return outcomes[webhook_id][0]


def _apply(webhooks: list[WebhookEvent]) -> dict[int, tuple[str, str]]:
    """Parse the bodies and apply their events together; the outcome and error of each."""
    outcomes: dict[int, tuple[str, str]] = {}
    owners: dict[int, int] = {}  # id(event) → webhook id
    parsed: list[events.Event] = []
    unsigned: dict[int, str] = {}  # webhook id → why some of its events were dropped
    for webhook in webhooks:
        try:
            found = get_connector(webhook.source).parse(
                bytes(webhook.body), account=webhook.account
            )
        except PayloadError as exc:
            outcomes[webhook.pk] = (WebhookEvent.Outcome.FAILED, str(exc))
            log.warning("webhook %s could not be parsed: %s", webhook.pk, exc)
            continue
        except Exception as exc:
            outcomes[webhook.pk] = (WebhookEvent.Outcome.FAILED, f"{type(exc).__name__}: {exc}")
            log.exception("webhook %s could not be parsed", webhook.pk)
            continue
        found, dropped = signed_events(webhook, found)
        if dropped:
            unsigned[webhook.pk] = dropped
        if not found:
            outcomes[webhook.pk] = (WebhookEvent.Outcome.IGNORED, dropped or "no event Parley uses")
        owners.update((id(event), webhook.pk) for event in found)
        parsed += found
    reasons: dict[int, list[str]] = {}
    for event, reason in apply_events(parsed):
        reasons.setdefault(owners[id(event)], []).append(reason)
    for pk, count in Counter(owners[id(event)] for event in parsed).items():
        skipped = reasons.get(pk, [])
        error = "; ".join(([unsigned[pk]] if pk in unsigned else []) + skipped)
        if skipped:
            log.warning("webhook %s: %s", pk, "; ".join(skipped))
        ignored = len(skipped) == count
        outcomes[pk] = (
            WebhookEvent.Outcome.IGNORED if ignored else WebhookEvent.Outcome.PROCESSED,
            error,
        )
    return outcomes


def signed_events(
    webhook: WebhookEvent, found: list[events.Event]
) -> tuple[list[events.Event], str]:
    """The events of accounts whose secret verified the body (all of them when the app-wide
    secret did), and why the others were dropped: one account's secret never speaks for
    another account named in the same body."""
    if webhook.signed_for is None:
        return found, ""
    allowed = set(webhook.signed_for)
    kept = [e for e in found if e.account_external_id in allowed]
    others = sorted({e.account_external_id for e in found} - allowed)
    if not others:
        return kept, ""
    why = f"events for {', '.join(others)} dropped: not signed with a secret of theirs"
    log.warning("webhook %s: %s", webhook.pk, why)
    return kept, why


def _record(outcomes: dict[int, tuple[str, str]]) -> None:
    """Each webhook's outcome: one UPDATE per distinct outcome (all alike in a healthy batch)."""
    now = timezone.now()
    alike: dict[tuple[str, str], list[int]] = {}
    for pk, (outcome, error) in outcomes.items():
        alike.setdefault((outcome, error[:5000]), []).append(pk)
    for (outcome, error), ids in alike.items():
        WebhookEvent.objects.filter(pk__in=ids).update(
            outcome=outcome, error=error, processed_at=now, attempts=F("attempts") + 1
        )


def replay(webhook_ids: Iterable[int]) -> dict[int, str]:
    """Process archived webhooks again (after a parser fix). Rejected ones stay rejected."""
    return {pk: process_webhook(pk) for pk in webhook_ids}


def prune_archive(now: datetime | None = None) -> int:
    """The archive's retention pass: processed, ignored and rejected bodies older than
    ``WEBHOOK_ARCHIVE_DAYS`` go, failed ones after ``WEBHOOK_ARCHIVE_FAILED_DAYS`` (kept longer
    for a replay once the parser is fixed). Bodies still waiting are never pruned. Returns how
    many rows were deleted."""
    now = now or timezone.now()
    Outcome = WebhookEvent.Outcome
    rules = (
        ((Outcome.PROCESSED, Outcome.IGNORED, Outcome.REJECTED), settings.WEBHOOK_ARCHIVE_DAYS),
        ((Outcome.FAILED,), settings.WEBHOOK_ARCHIVE_FAILED_DAYS),
    )
    deleted = 0
    for outcomes, days in rules:
        old = WebhookEvent.objects.filter(
            outcome__in=outcomes, received_at__lt=now - timedelta(days=days)
        )
        while ids := list(old.values_list("id", flat=True)[:PRUNE_CHUNK]):
            deleted += WebhookEvent.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        log.info("webhook archive: %s old deliveries pruned", deleted)
    return deleted
