"""The archive of raw webhook deliveries."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models.accounts import PlatformAccount


class WebhookEvent(models.Model):
    """A raw webhook delivery, archived before anything is parsed (nothing sent is lost)."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")
        REJECTED = "rejected", _("Rejected")

    # The endpoint that received it: sandbox, meta, x, linkedin.
    source = models.CharField(max_length=16)
    account = models.ForeignKey(
        PlatformAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    headers = models.JSONField(default=dict)
    # The exact bytes: signatures are computed over them, and replays parse them again. Of a
    # rejected body (no secret vouched for it) only the first KB is kept, with its size and hash.
    body = models.BinaryField()
    body_size = models.PositiveIntegerField(null=True, blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    signature_valid = models.BooleanField(null=True)
    # External ids of the accounts whose own secret verified the body: ingest applies events of
    # these accounts only. Null: the app-wide secret verified it (every account), or none did.
    signed_for = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RECEIVED)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Sent by the settings area's "test event": not the platform speaking, so it does not
    # count as the account's last event (settings_area.health).
    is_test = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["account", "-received_at"], name="webhook_account_received"),
            # The sweep that re-enqueues deliveries whose task was lost.
            models.Index(
                fields=["received_at"],
                condition=Q(outcome="received"),
                name="webhook_unprocessed",
            ),
            # The retention pass (old rows of one outcome) and the admins' list of failed ones.
            models.Index(fields=["outcome", "received_at"], name="webhook_outcome_received"),
        ]

    def __str__(self) -> str:
        return f"{self.source} webhook {self.pk}"
