"""An agent's notifications and their preferences. Per-agent state in tables of its own
(read marks, email digest state), as ``ConversationRead`` keeps per-agent read marks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models import Conversation, Team


class Notification(models.Model):
    """Something one agent should know. Its own id space (not the event log's): clients catch
    up with ``/api/v1/notifications/?after=ID``."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned to you")
        MENTION = "mention", _("Mentioned in a note")
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACHED = "sla_breached", _("SLA breached")
        NEW_CONVERSATION = "new_conversation", _("New conversation in a watched queue")
        CUSTOMER_REPLY = "customer_reply", _("Customer reply")
        # An automation rule's "notify" action (automation/).
        AUTOMATION = "automation", _("Automation rule")
        # An outreach list's follow-up reminder (outreach/).
        OUTREACH_FOLLOW_UP = "outreach_follow_up", _("Outreach follow-up")
        # The "test" button on /profile/.
        TEST = "test", _("Test")

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # Who caused it (never the recipient: nobody is notified of their own action).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The domain event it reacts to (``ConversationEvent`` id), for idempotency; a plain number
    # so the event log's retention never depends on this table.
    event_id = models.BigIntegerField(null=True, blank=True)
    # Written once, in the language of the moment; shown as text (never as HTML).
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # True while it waits for the next email digest (a mention or a breach while offline).
    email_pending = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One notification of a kind per recipient and event, however often it is handled.
            models.UniqueConstraint(
                fields=["user", "event_id", "kind"],
                condition=models.Q(event_id__isnull=False),
                name="notification_once_per_event",
            )
        ]
        indexes = [
            # The bell's unread count and the unread list (``?unread=1``).
            models.Index(
                fields=["user", "-id"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            # The API's list, newest first.
            models.Index(fields=["user", "-id"], name="notification_user_idx"),
            # The digest pass: what waits for an email.
            models.Index(
                fields=["user", "created_at"],
                condition=models.Q(email_pending=True),
                name="notification_email_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user_id}: {self.text[:40]}"


class NotificationPreference(models.Model):
    """One agent's choices; absent means the defaults below."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    # A system notification from the browser (the Notification API) while the tab is hidden.
    browser = models.BooleanField(default=True)
    sound = models.BooleanField(default=True)
    # Mentions and SLA breaches by email, in a digest, while the agent is offline.
    email = models.BooleanField(default=True)
    # Teams whose queue the agent watches: a new conversation there notifies them.
    watched_teams = models.ManyToManyField(Team, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"notification preferences of {self.user_id}"
