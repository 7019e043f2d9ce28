"""Outreach lists: handles on one platform account to contact first (creators, partners), the
first message, and when to remind the list's owner to follow up."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models import ContactIdentity, Label, Message, PlatformAccount


class OutreachList(models.Model):
    name = models.CharField(_("name"), max_length=120)
    # The account the first messages leave from: it decides the platform and its rules.
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    # Who is reminded to follow up (the manager who made the list).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    first_message = models.TextField(_("first message"))
    # X only: one new group conversation of everyone (up to 50 people with the account).
    as_group = models.BooleanField(_("one group conversation"), default=False)
    # Days after a send with no reply before the owner is reminded; 0: no reminder.
    follow_up_days = models.PositiveSmallIntegerField(_("follow up after (days)"), default=3)
    # The label every conversation of the list carries in the inbox (created with the list).
    label = models.ForeignKey(Label, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name


class Recipient(models.Model):
    class Status(models.TextChoices):
        # Not sent yet: the plan on the page explains what will happen.
        PENDING = "pending", _("Not sent yet")
        # Queued through the normal delivery path; the message says how far it went.
        SENT = "sent", _("Sent")
        # A rule refused a DM (``code``, ``reason``).
        REFUSED = "refused", _("Refused")
        # No first DM is possible: the public-comment path is offered instead.
        PUBLIC = "public", _("Public comment path")

    outreach = models.ForeignKey(OutreachList, on_delete=models.CASCADE, related_name="recipients")
    # As entered, without the "@": a username or a platform user id.
    handle = models.CharField(max_length=100)
    # Resolved on the account (known contact, or found through the platform's user lookup).
    identity = models.ForeignKey(
        ContactIdentity, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    code = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    # The first message (shared by every member of a group send).
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    follow_up_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["outreach", "handle"], name="outreach_handle_uniq")
        ]
        indexes = [
            # The follow-up pass: sent recipients not yet reminded about, oldest first.
            models.Index(
                fields=["sent_at"],
                condition=models.Q(status="sent", follow_up_notified_at__isnull=True),
                name="outreach_followup_due",
            )
        ]

    def __str__(self) -> str:
        return f"@{self.handle}"
