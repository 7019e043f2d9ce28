"""Sending outbound webhook deliveries: signed POSTs through the SSRF guard, each attempt
logged, retried with exponential backoff until 24 hours have passed.

A sender claims a delivery with a conditional UPDATE that moves its due time ahead by a lease,
so two senders never post it at once, and one that dies leaves it due again after the lease.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.media import MediaRefused, pinned_session
from outbound_webhooks.models import Attempt, Delivery

log = logging.getLogger(__name__)

# How much of a receiver's answer is kept with an attempt.
EXCERPT_CHARS = 500
USER_AGENT = "Parley-Webhooks/1.0"


def signature(secret: str, body: bytes) -> str:
    """``X-Parley-Signature``: ``sha256=`` and the lowercase hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: doubling from the base, capped."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    return timedelta(
        seconds=min(base * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_MAX_SECONDS)
    )


def claim(delivery_id: int, *, now: datetime | None = None) -> bool:
    """Take one due delivery for sending (an UPDATE that only one sender wins)."""
    now = now or timezone.now()
    lease = timedelta(seconds=sum(settings.WEBHOOK_TIMEOUT) + 30)
    return bool(
        Delivery.objects.filter(
            pk=delivery_id,
            status=Delivery.Status.PENDING,
            next_attempt_at__lte=now,
            subscription__active=True,
        ).update(next_attempt_at=now + lease)
    )


def attempt(delivery_id: int) -> str | None:
    """Post one due delivery once and record the answer; returns its status afterwards, or None
    when it was not due (sent already, claimed by another sender, or its subscription paused)."""
    if not claim(delivery_id):
        return None
    delivery = Delivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None:  # its subscription was deleted meanwhile
        return None
    outcome = post(delivery)
    now = timezone.now()
    # The claim holds the row until the lease ends: no other sender writes it meanwhile.
    delivery.attempts += 1
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    if outcome.ok:
        delivery.status = Delivery.Status.SUCCEEDED
        delivery.delivered_at = now
    else:
        retry_at = now + backoff(delivery.attempts)
        if outcome.permanent or retry_at > delivery.retry_until:
            delivery.status = Delivery.Status.FAILED
        else:
            delivery.next_attempt_at = retry_at
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery_id).update(
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            status=delivery.status,
            delivered_at=delivery.delivered_at,
            next_attempt_at=delivery.next_attempt_at,
        )
        if not updated:  # deleted with its subscription while it was being sent
            return None
        Attempt.objects.create(
            delivery_id=delivery_id,
            at=outcome.at,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
        )
    if not outcome.ok:
        log.info(
            "webhook delivery %s to %s failed (%s): %s",
            delivery.uuid,
            delivery.subscription.url,
            outcome.status_code,
            outcome.error,
        )
    return delivery.status


class Outcome:
    """What one POST came to."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.status_code: int | None = None
        self.duration_ms = 0
        self.excerpt = ""
        self.error = ""
        # Never worth retrying: Parley refuses the address.
        self.permanent = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error


def post(delivery: Delivery) -> Outcome:
    """POST the delivery's stored body, signed, through the SSRF guard; no redirect followed."""
    body = delivery.body.encode()
    outcome = Outcome(timezone.now())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Parley-Event": delivery.event,
        "X-Parley-Delivery": str(delivery.uuid),
        "X-Parley-Signature": signature(delivery.subscription.secret, body),
    }
    started = time.monotonic()
    try:
        with pinned_session(allowed_hosts=settings.WEBHOOK_ALLOWED_HOSTS) as http:
            response = http.post(
                delivery.subscription.url,
                data=body,
                headers=headers,
                timeout=settings.WEBHOOK_TIMEOUT,
                allow_redirects=False,
                stream=True,
            )
            with response:
                outcome.status_code = response.status_code
                outcome.excerpt = _excerpt(response)
            if response.is_redirect:
                outcome.error = _("Redirects are not followed (to %(location)s).") % {
                    "location": response.headers.get("Location", "")[:200]
                }
            elif not 200 <= response.status_code < 300:
                outcome.error = _("The receiver answered HTTP %(status)s.") % {
                    "status": response.status_code
                }
    except MediaRefused as refused:
        outcome.error = _("Refused: %(reason)s") % {"reason": str(refused)[:250]}
        outcome.permanent = True
    except requests.Timeout:
        outcome.error = _("The receiver did not answer in time.")
    except requests.RequestException as exc:
        outcome.error = _("Could not reach the receiver (%(error)s).") % {
            "error": type(exc).__name__
        }
    outcome.duration_ms = round((time.monotonic() - started) * 1000)
    return outcome


def _excerpt(response: requests.Response) -> str:
    """The start of the answer, read no further (a receiver may answer with anything)."""
    try:
        raw = next(response.iter_content(EXCERPT_CHARS * 4), b"")
    except requests.RequestException:
        return ""
    return raw.decode("utf-8", "replace")[:EXCERPT_CHARS]


def send_due(*, limit: int = 200) -> int:
    """The periodic pass: attempt the pending deliveries whose time has come; returns how many
    were attempted."""
    due = list(
        Delivery.objects.filter(
            status=Delivery.Status.PENDING,
            next_attempt_at__lte=timezone.now(),
            subscription__active=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(attempt(pk) is not None for pk in due)
