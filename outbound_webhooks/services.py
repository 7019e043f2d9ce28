"""Outbound webhooks: subscribing, turning domain events into deliveries, and replaying them
(sending and retrying: ``outbound_webhooks.sending``).

A delivery is a row before it is anything else: the listener writes it in its transaction and
enqueues its first attempt after commit; the periodic pass (``sending.send_due``) sends whatever
is due and was not sent (a retry's time has come, a task was lost with Redis).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.events import DomainEvent
from inbox.media import MediaRefused, checked_address
from inbox.models import User
from inbox.settings_area import audit
from outbound_webhooks import payloads, tasks
from outbound_webhooks.models import Delivery, Subscription

log = logging.getLogger(__name__)


class SubscriptionRefused(Exception):
    """A subscription Parley will not make (an unsafe URL, an unknown event)."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


# --- Subscriptions ----------------------------------------------------------------------------


def check_url(url: str) -> str:
    """``url`` when Parley may post to it: http(s), and a host that resolves only to public
    addresses unless ``WEBHOOK_ALLOWED_HOSTS`` names it (the media fetcher's SSRF guard)."""
    url = url.strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise SubscriptionRefused("invalid_url", _("The URL must start with http:// or https://."))
    if len(url) > Subscription._meta.get_field("url").max_length:
        raise SubscriptionRefused("invalid_url", _("The URL is too long."))
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        checked_address(parsed.hostname, port, settings.WEBHOOK_ALLOWED_HOSTS)
    except (MediaRefused, ValueError) as refused:
        raise SubscriptionRefused(
            "url_not_allowed",
            _("Parley does not send webhooks to this address (%(reason)s).") % {"reason": refused},
        ) from None
    return url


def check_events(events: Iterable[Any]) -> list[str]:
    chosen = list(dict.fromkeys(events))
    unknown = [e for e in chosen if e not in payloads.EVENTS]
    if unknown or not chosen:
        raise SubscriptionRefused(
            "invalid_events",
            _("Choose events among: %(events)s.") % {"events": ", ".join(payloads.EVENTS)},
        )
    return [str(e) for e in chosen]


def subscribe(*, url: str, events: Iterable[Any], actor: User) -> tuple[Subscription, str]:
    """A new subscription and its secret (returned this once; stored encrypted)."""
    url = check_url(url)
    chosen = check_events(events)
    secret = secrets.token_hex(32)
    with transaction.atomic():
        subscription = Subscription.objects.create(
            url=url, events=chosen, secret_box={"secret": secret}, created_by=actor
        )
        audit.record(
            actor=actor,
            action="webhook.subscribed",
            target=subscription,
            target_type="webhook",
            changes={"url": (None, url), "events": (None, chosen)},
        )
    return subscription, secret


def set_active(*, subscription: Subscription, active: bool, actor: User) -> None:
    if subscription.active == active:
        return
    with transaction.atomic():
        Subscription.objects.filter(pk=subscription.pk).update(active=active)
        subscription.active = active
        audit.record(
            actor=actor,
            action="webhook.resumed" if active else "webhook.paused",
            target=subscription,
            target_type="webhook",
            changes={"active": (not active, active)},
        )
    if active:
        transaction.on_commit(_kick)


def delete(*, subscription: Subscription, actor: User) -> None:
    with transaction.atomic():
        audit.record(
            actor=actor, action="webhook.deleted", target=subscription, target_type="webhook"
        )
        subscription.delete()


# --- Deliveries -------------------------------------------------------------------------------


def on_events(events: list[DomainEvent]) -> None:
    """The listener (``inbox.listeners``): a delivery for each active subscription to each
    webhook event the domain events make, written in the listener's transaction."""
    # Ids only: the secret (decrypted on load) is for the sender.
    wanted: dict[str, list[int]] = {}
    for pk, names in Subscription.objects.filter(active=True).values_list("pk", "events"):
        for name in names:
            wanted.setdefault(name, []).append(pk)
    if not wanted:
        return
    queued: list[Delivery] = []
    for event in events:
        for name in payloads.names_for(event):
            subscribers = wanted.get(name)
            if not subscribers:
                continue
            data = payloads.data_for(event, name)
            if data is None:
                continue
            queued += [_delivery(pk, name, data, at=event.at) for pk in subscribers]
    _queue(queued)


def send_to_subscription(subscription_id: int, *, event: str, data: dict) -> None:
    """Queue a signed, retried delivery of ``event`` with ``data`` to one subscription, whatever
    events it chose (automation's ``webhook`` action). Nothing happens if it no longer exists;
    a paused one keeps it until it is resumed."""
    if not Subscription.objects.filter(pk=subscription_id).exists():
        log.warning("webhook %s to subscription %s: no such subscription", event, subscription_id)
        return
    _queue([_delivery(subscription_id, event, data)])


def _delivery(
    subscription_id: int, event: str, data: dict, *, at: datetime | None = None
) -> Delivery:
    now = timezone.now()
    delivery = Delivery(
        subscription_id=subscription_id,
        event=event,
        created_at=now,
        next_attempt_at=now,
        retry_until=now + settings.WEBHOOK_RETRY_FOR,
    )
    delivery.body = json.dumps(
        {
            "id": str(delivery.uuid),
            "event": event,
            "created_at": (at or now).isoformat(),
            "data": data,
        },
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )
    return delivery


def _queue(deliveries: list[Delivery]) -> None:
    if not deliveries:
        return
    saved = Delivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in saved]
    transaction.on_commit(lambda: _enqueue(ids))


def _enqueue(ids: list[int]) -> None:
    for pk in ids:
        tasks.send_delivery.delay(pk)


def _kick() -> None:
    tasks.send_due_deliveries.delay()


def replay(*, delivery: Delivery, actor: User) -> Delivery:
    """Send a delivery again, the same id and body, with a fresh 24 hours of retries."""
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.PENDING,
            next_attempt_at=now,
            retry_until=now + settings.WEBHOOK_RETRY_FOR,
            delivered_at=None,
        )
        audit.record(
            actor=actor,
            action="webhook.replayed",
            target=delivery.subscription,
            target_type="webhook",
            extra={"delivery": str(delivery.uuid), "event": delivery.event},
        )
        transaction.on_commit(lambda: _enqueue([delivery.pk]))
    delivery.refresh_from_db()
    return delivery
