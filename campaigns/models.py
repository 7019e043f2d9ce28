"""Campaigns: one promotional message to the opted-in contacts of one platform account.

The campaign's state and each recipient's plan live here (PostgreSQL), so a periodic pass
(``campaigns.tasks.advance``) moves a campaign on after any restart. What happened to a
recipient's message after it was queued (sent, delivered, read, failed) is read from the
message itself; a reply and an opt-out are marked here by the campaigns listener.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models import Contact, Message, PlatformAccount, User


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        # Started with a send_at in the future: the periodic pass starts it then.
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        DONE = "done", _("Done")

    name = models.CharField(max_length=200)
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    # Variables: {first_name}, {name}, {attribute.<key>} (campaigns.audience.render).
    text = models.TextField()
    # Optional image or file sent with the text (one attachment, as every platform allows).
    media = models.FileField(upload_to="campaigns/%Y/%m/", blank=True)
    media_content_type = models.CharField(max_length=200, blank=True)
    # {"labels": [names], "platform": "...", "attributes": {key: value}}: every filter given
    # must match; none means every contact of the account.
    audience = models.JSONField(default=dict, blank=True)
    promotional = models.BooleanField(default=True)
    send_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Absolute base of media links when PUBLIC_BASE_URL is not set (the creating request's).
    base_url = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The periodic pass: campaigns due to start or sending.
            models.Index(fields=["status", "send_at"], name="campaign_status_send_at"),
        ]

    def __str__(self) -> str:
        return self.name


class Recipient(models.Model):
    """One contact of a campaign's audience, planned when the campaign starts."""

    class State(models.TextChoices):
        # Eligible, waiting for its turn (``due_at``) under the platform's rate.
        PENDING = "pending", _("Pending")
        # Left out at planning or at its turn (``reason``).
        SKIPPED = "skipped", _("Left out")
        # Its message was queued (``message``): its status says what happened next.
        QUEUED = "queued", _("Queued")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    # Why a recipient was left out (campaigns.eligibility codes), and the sentence for people.
    reason = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    # When its turn comes: spaced at the platform's permitted rate from the start.
    due_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    replied_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="recipient_campaign_uniq")
        ]
        indexes = [
            # The periodic pass: a campaign's pending recipients whose turn has come.
            models.Index(fields=["campaign", "state", "due_at"], name="recipient_due"),
            # The listener: a contact's recipient rows (reply, opt-out).
            models.Index(fields=["contact", "state"], name="recipient_contact_state"),
        ]
