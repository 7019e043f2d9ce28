"""Outbound webhooks: an admin's subscription of a URL to events, and each delivery to it.

PostgreSQL holds every delivery before anything is sent (Redis keeps nothing): a lost task or
a restarted worker only delays a delivery, the periodic pass (``services.send_due``) finds it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.crypto import EncryptedJSONField


class Subscription(models.Model):
    url = models.URLField(max_length=500)
    # Webhook event names (``outbound_webhooks.payloads.EVENTS``) this URL receives.
    events = models.JSONField(default=list)
    # {"secret": "..."}: the HMAC key, encrypted at rest; shown to the admin once, at creation.
    secret_box = EncryptedJSONField()
    # Paused: no new deliveries are made, and pending ones wait until it is resumed.
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook subscription")

    def __str__(self) -> str:
        return self.url

    @property
    def secret(self) -> str:
        return self.secret_box.get("secret", "")


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed")

    # The public id: the body's "id" and X-Parley-Delivery (receivers deduplicate by it).
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=64)
    # The exact bytes that are signed and sent, on every attempt and replay.
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the next attempt is due; a sender claims a delivery by moving it ahead by a lease
    # (``services.claim``), so a crashed sender's delivery falls due again by itself.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Retries stop after this (24 hours from the event, or from a replay).
    retry_until = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Summary of the latest attempt, for the lists.
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            # The periodic pass: pending deliveries whose attempt is due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="whdelivery_pending_due",
            ),
            # A subscription's deliveries, newest first (settings page and API).
            models.Index(fields=["subscription", "-id"], name="whdelivery_subscription"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.uuid}"


class Attempt(models.Model):
    """One POST of a delivery: what the receiver answered, and how fast."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    # None: no HTTP answer (timeout, refused connection, refused address).
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # The start of the receiver's answer, or what went wrong.
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivery", "-id"], name="whattempt_delivery")]
