"""Conversations, their messages, and what agents add to them (labels, notes, saved replies,
read state)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models.accounts import PlatformAccount, Team
from inbox.models.contacts import Contact, ContactIdentity

# A label colour: "#rrggbb", what an <input type="color"> sends.
validate_color = RegexValidator(r"^#[0-9a-fA-F]{6}\Z", "Enter a colour as #rrggbb.")


class Label(models.Model):
    name = models.CharField(max_length=64, unique=True)
    color = models.CharField(max_length=7, default="#6b7280", validators=[validate_color])

    def __str__(self) -> str:
        return self.name

    @property
    def on_light(self) -> bool:
        """True when dark text reads better than white on the label's colour (WCAG contrast;
        the same sum as the live preview in static/js/settings.js)."""
        return relative_luminance(self.color) > LIGHT_BACKGROUND


# Above this relative luminance black text has more contrast than white (where
# (L + .05) / .05 == 1.05 / (L + .05)); one of the two always reaches 4.58:1.
LIGHT_BACKGROUND = (1.05 * 0.05) ** 0.5 - 0.05


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb`` (0 black … 1 white); a malformed colour is
    taken as the default grey."""
    if not validate_color.regex.match(color or ""):
        color = "#6b7280"
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


class SlaStatus(models.TextChoices):
    NONE = "", _("No SLA")
    OK = "ok", _("On track")
    WARNING = "warning", _("Due soon")
    BREACHED = "breached", _("Breached")


class Conversation(models.Model):
    class Kind(models.TextChoices):
        DM = "dm", _("Direct message")
        GROUP = "group", _("Group")
        COMMENT = "comment", _("Comment thread")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending")
        SNOOZED = "snoozed", _("Snoozed")
        RESOLVED = "resolved", _("Resolved")

    class Priority(models.IntegerChoices):
        LOW = 0, _("Low")
        NORMAL = 1, _("Normal")
        HIGH = 2, _("High")
        URGENT = 3, _("Urgent")

    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.DM)
    # The platform's thread id where it has one (X dm_conversation_id, a commented post's id).
    # One-to-one DMs on Meta have none: they are keyed by (account, contact) instead.
    external_thread_id = models.CharField(max_length=200, blank=True, null=True)
    # The customer on the other side; for groups, the one who started it.
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="conversations")
    participants = models.ManyToManyField(ContactIdentity, related_name="conversations")
    # A DM started from a public comment points at the comment's conversation.
    origin = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="followups"
    )
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    priority = models.IntegerField(choices=Priority.choices, default=Priority.NORMAL)
    labels = models.ManyToManyField(Label, blank=True, related_name="conversations")
    # The last event that opens the platform's reply window (a message, postback, reaction...).
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(default=timezone.now)
    # First customer message not yet answered by an agent or bot ("waiting since").
    waiting_since = models.DateTimeField(null=True, blank=True)
    # Short preview of the last message for list rows, kept by the services.
    last_message_preview = models.CharField(max_length=200, blank=True)
    # Whether the chatbot may answer here (off after a hand-off until an agent gives it back).
    bot_enabled = models.BooleanField(default=True)
    # Opened by the settings area's "test event": left out of agents' lists unless asked for,
    # and its events reach only the live push and delivery (inbox.listeners).
    is_test = models.BooleanField(default=False)
    metadata = models.JSONField(blank=True, default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    # --- SLA, kept by sla.timers (computed on message arrival and status change) ---
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Due times of the running targets; None when the target is met, paused or not set.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    # The earliest due time of the running targets (None while paused): "due in 12 min".
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # Worst state of the current timers: the dashboard's badge and its "breached" filter.
    sla_status = models.CharField(max_length=8, choices=SlaStatus.choices, blank=True)
    # The next instant the SLA pass must look at this row (a warning or a breach falls due).
    sla_check_at = models.DateTimeField(null=True, blank=True)
    # While pending or snoozed the clocks stop; on resume the due times move by the pause.
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    # Per target: started_at, warn_at, due_at and what was raised (sla.timers owns the shape).
    sla_timers = models.JSONField(blank=True, default=dict)
    # Report metrics to recompute (reports.metrics): set with the write that changed the
    # conversation (the earliest message time it brought), cleared when they are recomputed.
    metrics_stale_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_thread_id"],
                condition=Q(external_thread_id__isnull=False),
                name="conversation_account_thread_uniq",
            )
        ]
        indexes = [
            # The inbox list: one account's conversations in a status, newest activity first.
            models.Index(
                fields=["account", "status", "-last_activity_at", "-id"],
                name="conv_account_status_activity",
            ),
            # "Mine": an agent's conversations by activity.
            models.Index(
                fields=["assignee", "status", "-last_activity_at", "-id"],
                name="conv_assignee_status_activity",
            ),
            # Finding the open DM thread of a contact on an account when a message arrives.
            models.Index(fields=["account", "contact", "kind"], name="conv_account_contact"),
            # The SLA timer pass: rows whose next warning or breach has fallen due.
            models.Index(
                fields=["sla_check_at"],
                condition=Q(sla_check_at__isnull=False),
                name="conv_sla_check_due",
            ),
            # The report metrics' refresh pass: conversations changed since their last refresh.
            models.Index(
                fields=["metrics_stale_since"],
                condition=Q(metrics_stale_since__isnull=False),
                name="conv_metrics_stale",
            ),
            # The dashboard across accounts (admins, agents of several accounts): one status by
            # activity, keyset-paginated (inbox.selectors).
            models.Index(
                fields=["status", "-last_activity_at", "-id"], name="conv_status_activity"
            ),
            models.Index(fields=["-last_activity_at", "-id"], name="conv_activity"),
            # "Waiting longest": unanswered conversations, oldest first.
            models.Index(
                fields=["waiting_since", "id"],
                condition=Q(waiting_since__isnull=False),
                name="conv_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk}"


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class SenderKind(models.TextChoices):
        CONTACT = "contact", _("Contact")
        AGENT = "agent", _("Agent")
        BOT = "bot", _("Bot")
        SYSTEM = "system", _("System")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    # Denormalised from the conversation so the platform id can be unique per account.
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    sender_kind = models.CharField(max_length=8, choices=SenderKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sender_identity = models.ForeignKey(
        ContactIdentity, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The platform's message id; null until an outbound message is accepted by the platform.
    external_id = models.CharField(max_length=255, null=True, blank=True)
    # Our own id sent along with outbound messages (Meta `metadata`) to recognise their echo.
    client_ref = models.CharField(max_length=64, null=True, blank=True, unique=True)
    text = models.TextField(blank=True)
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.TextField(blank=True)
    # Sent from the platform's own tools (Business Suite, the phone app), not through Parley.
    sent_outside_parley = models.BooleanField(default=False)
    # Marketing content: only for contacts who opted in.
    is_promotional = models.BooleanField(default=False)
    is_deleted = models.BooleanField(default=False)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Read from the platform's history when the account was connected: closed history that
    # no report counts (no first response, no volume) and no listener reacts to.
    imported = models.BooleanField(default=False)
    # Platform specifics kept for display and replies: quick replies, postback payload,
    # referral, story, comment id, messaging type used...
    metadata = models.JSONField(blank=True, default=dict)
    # The platform's time of the message; ours is created_at.
    sent_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Delivery bookkeeping for outbound messages.
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_account_external_id_uniq",
            )
        ]
        indexes = [
            # A thread, oldest first, with keyset pagination.
            models.Index(fields=["conversation", "sent_at", "id"], name="msg_conversation_time"),
            # The delivery sweep: outbound work not finished.
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=Q(status__in=["queued", "sending"]),
                name="msg_pending_delivery",
            ),
            # Account health (settings area): an account's last outbound sends, newest first.
            models.Index(
                fields=["account", "-id"],
                condition=Q(direction="outbound"),
                name="msg_account_outbound",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk}"

    @property
    def visible_text(self) -> str:
        """What agents see: an unsent message keeps its row but not its text."""
        return "" if self.is_deleted else self.text


class Attachment(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        VIDEO = "video", _("Video")
        AUDIO = "audio", _("Audio")
        FILE = "file", _("File")
        STICKER = "sticker", _("Sticker")
        LINK = "link", _("Link")
        SHARE = "share", _("Shared post")
        STORY = "story", _("Story")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The platform's URL: CDN links expire, so media is copied to `file` in the background.
    url = models.URLField(max_length=4000, blank=True)
    file = models.FileField(upload_to="attachments/%Y/%m/", blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=300, blank=True)
    # Some media must not be stored (Instagram story mentions): keep the URL only.
    store_media = models.BooleanField(default=True)
    fetch_error = models.CharField(max_length=300, blank=True)
    metadata = models.JSONField(blank=True, default=dict)


class Reaction(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    emoji = models.CharField(max_length=32)
    # Who reacted: a contact's platform user id, or "agent:<user id>".
    by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "by"], name="reaction_message_by_uniq")
        ]


class Note(models.Model):
    """A private note: visible to agents, never sent to the platform."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Written by the chatbot (why it answered or handed off); no author then. A note whose
    # author was deleted has no author either, so the bot is told apart by this flag.
    by_bot = models.BooleanField(default=False)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)


class SavedReply(models.Model):
    """A canned answer; ``{{contact.first_name}}``-style variables are filled in before sending."""

    shortcut = models.SlugField(max_length=50, unique=True)
    title = models.CharField(max_length=200)
    text = models.TextField()
    # Empty: everyone; otherwise only these teams see it.
    teams = models.ManyToManyField(Team, blank=True)
    # A personal reply: only this user sees it (teams are then ignored).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "saved replies"

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class ConversationRead(models.Model):
    """How far one agent has read one conversation (per-agent read state in its own table, like
    Zulip's UserMessage, but one row per agent and conversation instead of per message).
    Unread = inbound messages with an id above ``last_read_message_id``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reads")
    last_read_message_id = models.BigIntegerField(default=0)
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "conversation"], name="conversation_read_user_conv_uniq"
            )
        ]
