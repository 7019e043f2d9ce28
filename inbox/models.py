"""The inbox domain: accounts, contacts, conversations, messages and what agents add to them.

Every write goes through ``inbox.services``; these classes only describe the data.
"""

from __future__ import annotations

import functools
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.business_hours import Schedule, schedule_from_model
from inbox.crypto import EncryptedJSONField


class Platform(models.TextChoices):
    SANDBOX = "sandbox", _("Sandbox")
    MESSENGER = "messenger", _("Messenger")
    INSTAGRAM = "instagram", _("Instagram")
    X = "x", _("X")
    LINKEDIN = "linkedin", _("LinkedIn")


@functools.cache
def time_zone_names() -> frozenset[str]:
    """The IANA zone names this machine knows (read from disk once)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(name: str) -> None:
    if name and name not in time_zone_names():
        raise ValidationError(f"{name!r} is not a time zone (use an IANA name like Europe/Paris).")


class User(AbstractUser):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        MANAGER = "manager", _("Manager")
        AGENT = "agent", _("Agent")

    class Availability(models.TextChoices):
        ONLINE = "online", _("Online")
        BUSY = "busy", _("Busy")
        AWAY = "away", _("Away")

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    # What the agent says about themselves (inbox.availability): only ONLINE agents with an open
    # dashboard get new conversations; an AWAY agent's open ones go back to the queue after
    # AVAILABILITY_REQUEUE_MINUTES, counted from ``availability_changed_at``.
    availability = models.CharField(
        max_length=8, choices=Availability.choices, default=Availability.ONLINE
    )
    availability_changed_at = models.DateTimeField(default=timezone.now)
    # IANA name (zoneinfo) for the agent's snooze presets and the times shown to them; empty:
    # the server's TIME_ZONE.
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    # The workspace opens the next conversation of the list after this agent resolves one.
    open_next_after_resolve = models.BooleanField(default=True)
    # A code of settings.LANGUAGES for the interface (inbox.middleware); empty: the browser's
    # Accept-Language. No choices here, so adding a language needs no migration.
    language = models.CharField(max_length=12, blank=True)

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == self.Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.is_admin or self.role == self.Role.MANAGER

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone or settings.TIME_ZONE)


class PlatformAccount(models.Model):
    """A brand's presence on one platform: a Facebook Page, an Instagram account, an X account."""

    class Status(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        NEEDS_REAUTH = "needs_reauth", _("Needs re-authorisation")
        DISCONNECTED = "disconnected", _("Disconnected")
        ERROR = "error", _("Error")

    platform = models.CharField(max_length=16, choices=Platform.choices)
    name = models.CharField(max_length=200)
    # The platform's own id: Page id, Instagram account id, X user id, LinkedIn organisation URN.
    external_id = models.CharField(max_length=200)
    # Tokens and secrets; encrypted at rest, write-only in every form and page.
    credentials = EncryptedJSONField(blank=True, default=dict)
    # Non-secret per-account options (human_agent enabled, polling mode, typing indicators...).
    options = models.JSONField(blank=True, default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONNECTED)
    last_error = models.TextField(blank=True)
    # Where polling stopped (X since_id, pagination state); the connector owns its shape.
    poll_cursor = models.JSONField(blank=True, default=dict)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    # The admin's last "check connection": when, whether it worked, what the platform said.
    last_check_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True, blank=True)
    last_check_result = models.CharField(max_length=500, blank=True)
    # When an admin disconnected it (history kept; reconnecting clears this).
    disconnected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="account_platform_external_id_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.name}"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    # The accounts whose conversations this team's members may see.
    accounts = models.ManyToManyField(PlatformAccount, related_name="teams", blank=True)
    # Auto-assignment (inbox.assignment): new conversations of the team's accounts go round-robin
    # to members online on the dashboard, each holding at most `max_open_per_agent` open ones;
    # the rest wait unassigned in the team's queue.
    auto_assign = models.BooleanField(default=False)
    max_open_per_agent = models.PositiveSmallIntegerField(default=10)
    # The member who got the last auto-assigned conversation: the round-robin continues after.
    last_auto_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A customer, possibly known on several platforms."""

    class Consent(models.TextChoices):
        UNKNOWN = "unknown", _("Not asked")
        OPTED_IN = "opted_in", _("Opted in")
        OPTED_OUT = "opted_out", _("Opted out")

    name = models.CharField(max_length=200, blank=True)
    avatar_url = models.URLField(max_length=2000, blank=True)
    # Consent to promotional messages: state, when, and what set it (a keyword, an agent...).
    marketing_consent = models.CharField(
        max_length=16, choices=Consent.choices, default=Consent.UNKNOWN
    )
    marketing_consent_at = models.DateTimeField(null=True, blank=True)
    marketing_consent_source = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name or f"Contact {self.pk}"

    @property
    def first_name(self) -> str:
        return (self.name or "").split(" ")[0]


class ContactIdentity(models.Model):
    """A contact as one platform account knows them (PSID, IGSID, X user id...)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    platform_user_id = models.CharField(max_length=200)
    username = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200, blank=True)
    avatar_url = models.URLField(max_length=2000, blank=True)
    # When the platform's profile was last fetched (Meta: once, in the background).
    profile_fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "platform_user_id"], name="identity_account_user_uniq"
            )
        ]
        verbose_name_plural = "contact identities"

    def __str__(self) -> str:
        return self.username or self.name or self.platform_user_id


class Label(models.Model):
    name = models.CharField(max_length=64, unique=True)
    color = models.CharField(max_length=7, default="#6b7280")

    def __str__(self) -> str:
        return self.name


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
    metadata = models.JSONField(blank=True, default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    # --- SLA, kept by inbox.sla (computed on message arrival and status change) ---
    sla_policy = models.ForeignKey(
        "SlaPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
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
    # Per target: started_at, warn_at, due_at and what was raised (inbox.sla owns the shape).
    sla_timers = models.JSONField(blank=True, default=dict)
    # Report metrics to recompute (inbox.reports.metrics): set with the write that changed the
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

    class Meta:
        verbose_name_plural = "saved replies"

    def __str__(self) -> str:
        return f"/{self.shortcut}"


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


class ConversationEvent(models.Model):
    """What happened to a conversation, in order. The dashboard's history, the reports' source
    and the live stream's catch-up all read this log; its id is the live event id."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        MESSAGE_RECEIVED = "message_received", _("Message received")
        MESSAGE_SENT = "message_sent", _("Message sent")
        MESSAGE_UPDATED = "message_updated", _("Message updated")
        NOTE_ADDED = "note_added", _("Note added")
        ASSIGNED = "assigned", _("Assigned")
        STATUS_CHANGED = "status_changed", _("Status changed")
        LABELS_CHANGED = "labels_changed", _("Labels changed")
        PRIORITY_CHANGED = "priority_changed", _("Priority changed")
        # SLA timers (inbox.sla): data has target, due_at, started_at, late (caught up).
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACHED = "sla_breached", _("SLA breached")
        # The chatbot (chatbot/): hand-off to humans, given back, consent keywords.
        BOT_HANDOFF = "bot_handoff", _("Handed off by the bot")
        BOT_RESUMED = "bot_resumed", _("Bot given back")
        CONSENT_CHANGED = "consent_changed", _("Marketing consent changed")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    # Denormalised for access filtering of the live catch-up without a join.
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Live catch-up: events after id N for the accounts a user may see.
            models.Index(fields=["account", "id"], name="event_account_id"),
            models.Index(fields=["conversation", "id"], name="event_conversation_id"),
        ]


class ListenerReceipt(models.Model):
    """One listener (``inbox.listeners``) handled one domain event: written in the listener's
    transaction, so a redispatched event (the sweep, a retried task) is not handled twice.
    Kept only while the sweep may still look at the event (``inbox.listeners.SWEEP_WINDOW``)."""

    event = models.ForeignKey(ConversationEvent, on_delete=models.CASCADE, related_name="+")
    # The listener's name in ``inbox.listeners.LISTENERS``.
    listener = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "listener"], name="listener_receipt_event_listener_uniq"
            )
        ]


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


class AgentPresence(models.Model):
    """Whether an agent is on the dashboard: open sockets and a heartbeat. Auto-assignment
    only gives work to agents seen within ``inbox.presence.ONLINE_WINDOW``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presence"
    )
    connections = models.PositiveIntegerField(default=0)
    last_seen_at = models.DateTimeField(default=timezone.now)


# --- Admin workspace (settings area) ------------------------------------------------------------


class AuditLog(models.Model):
    """Who changed what in the settings, and when. Never holds a credential value: credential
    changes are recorded by key name only."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Dotted verb: "account.connected", "user.deactivated", "team.access_changed"...
    action = models.CharField(max_length=64)
    # What was changed: a model name ("account", "user", "team", "bot_rule"...) and its id.
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64, blank=True)
    # The target's name at the time, so the log stays readable after a rename or deletion.
    target_repr = models.CharField(max_length=200, blank=True)
    # {"field": [old, new]} for plain fields; {"credentials": ["page_access_token"]} for secrets.
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The audit page: newest first, keyset by id, optionally one kind of target.
            models.Index(fields=["-created_at", "-id"], name="audit_created"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr}"


class OAuthState(models.Model):
    """One OAuth authorisation in progress: the ``state`` sent to the provider, bound to the admin
    who started it, single-use and short-lived. Tokens obtained on the way (the Facebook user's
    Pages and their tokens, before the admin picks one) wait here encrypted, never in a URL."""

    state = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # facebook, x, linkedin
    provider = models.CharField(max_length=16)
    # PKCE code_verifier, then the provider's tokens and the choices they unlock.
    secrets = EncryptedJSONField(blank=True, default=dict)
    # Non-secret choices offered to the admin (Page ids and names...).
    choices = models.JSONField(blank=True, default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # Set when the provider's callback consumed the state: a second callback is refused.
    used_at = models.DateTimeField(null=True, blank=True)
    # Set when an account was made from it: the stored tokens are wiped then.
    completed_at = models.DateTimeField(null=True, blank=True)


class WebhookHandshake(models.Model):
    """The last verification handshake a platform made with our webhook endpoint (Meta
    ``hub.challenge``, X CRC, LinkedIn ``challengeCode``): proof the callback URL is set."""

    platform = models.CharField(max_length=16)
    # Meta and X handshakes are per app, not per account: null then.
    account = models.ForeignKey(
        PlatformAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "account"], name="handshake_platform_account_uniq"
            ),
            models.UniqueConstraint(
                fields=["platform"],
                condition=Q(account__isnull=True),
                name="handshake_platform_app_uniq",
            ),
        ]


# --- Report metrics (kept by inbox.reports.metrics; reports aggregate these small rows) -------


class ConversationMetric(models.Model):
    """One opening of a conversation — from a customer message that found it new or resolved,
    to its resolution — with the durations the reports need (definitions: docs/metrics.md).
    Rewritten by ``inbox.reports.metrics.refresh`` whenever a message, status or assignment
    of the conversation changes; never edited by hand."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    # 1 for the first opening, 2 for the first reopening, ...
    sequence = models.PositiveIntegerField()
    # Denormalised so the filters need no join on 10^6 conversations.
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The agent credited: the assignee when resolved (now, while open), else the first human
    # responder.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The customer message that opened it (platform time).
    opened_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_seconds = models.FloatField(null=True, blank=True)
    first_response_business_seconds = models.FloatField(null=True, blank=True)
    bot_first_response_at = models.DateTimeField(null=True, blank=True)
    bot_first_response_seconds = models.FloatField(null=True, blank=True)
    bot_first_response_business_seconds = models.FloatField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_seconds = models.FloatField(null=True, blank=True)
    resolution_business_seconds = models.FloatField(null=True, blank=True)
    messages_in = models.PositiveIntegerField(default=0)
    messages_out = models.PositiveIntegerField(default=0)
    # Resolved with a bot reply and no human reply.
    bot_deflected = models.BooleanField(default=False)
    # SLA outcome as the SLA timers recorded it (inbox.reports.sla): True met, False breached,
    # null while the target is still running or when no policy sets it.
    sla_met = models.BooleanField(null=True, blank=True)
    sla_first_response_met = models.BooleanField(null=True, blank=True)
    sla_next_response_met = models.BooleanField(null=True, blank=True)
    sla_resolution_met = models.BooleanField(null=True, blank=True)
    sla_breaches = models.PositiveSmallIntegerField(default=0)
    # When refresh() last rewrote the opening (its reply and volume rows are rewritten with it):
    # the daily rollups find the days to recompute by it (inbox.reports.rollups).
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "sequence"], name="convmetric_conversation_seq_uniq"
            )
        ]
        indexes = [
            # Reports: openings in a date range (first response, volume, per agent/platform).
            models.Index(fields=["opened_at"], name="convmetric_opened"),
            # Reports: resolutions in a date range (resolution time, deflection).
            models.Index(
                fields=["resolved_at"],
                condition=Q(resolved_at__isnull=False),
                name="convmetric_resolved",
            ),
            # Rollups: openings rewritten since the last rollup pass.
            models.Index(fields=["updated_at"], name="convmetric_updated"),
        ]


class ReplyMetric(models.Model):
    """One answered wait: from the first customer message not yet answered to the reply that
    answered it, by a human (``sender_kind`` agent) or by the bot."""

    opening = models.ForeignKey(ConversationMetric, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who answered: the message's author (null for the bot and for replies sent outside Parley).
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sender_kind = models.CharField(max_length=8, choices=Message.SenderKind.choices)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    waited_from = models.DateTimeField()
    replied_at = models.DateTimeField()
    seconds = models.FloatField()
    business_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [
            # Reports: reply times in a date range. Every column a report reads is in the key,
            # so a report is an index-only scan (no heap visits over 10^6 rows).
            models.Index(
                fields=[
                    "replied_at",
                    "sender_kind",
                    "platform",
                    "account",
                    "team",
                    "agent",
                    "seconds",
                    "business_seconds",
                ],
                name="replymetric_replied_cover",
            ),
            models.Index(fields=["opening"], name="replymetric_opening"),
        ]


class VolumeHour(models.Model):
    """Messages of one conversation in one UTC hour: the volume charts and the hour × weekday
    heat map read these instead of the message table."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    messages_in = models.PositiveIntegerField(default=0)
    messages_out = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "hour"], name="volumehour_conv_uniq")
        ]
        indexes = [
            # Reports: message volume in a date range; index-only (see ReplyMetric).
            models.Index(
                fields=[
                    "hour",
                    "platform",
                    "account",
                    "team",
                    "agent",
                    "messages_in",
                    "messages_out",
                ],
                name="volumehour_hour_cover",
            ),
        ]


# --- Daily report rollups (kept by inbox.reports.rollups from the metric rows above) ----------


def _histogram(name: str) -> tuple[ArrayField, ArrayField]:
    """A sparse log-bucket histogram of one duration (inbox.reports.rollups.bucket_of): the
    buckets that hold values, ascending, and how many values each holds."""
    return (
        ArrayField(models.SmallIntegerField(), default=list, help_text=f"{name}: buckets"),
        ArrayField(models.IntegerField(), default=list, help_text=f"{name}: counts"),
    )


class Grain(models.TextChoices):
    DAY = "day", _("Day")
    WEEK = "week", _("Week (from its Monday)")
    MONTH = "month", _("Month")


class RollupBase(models.Model):
    """What one local day, week or month in the organisation's time zone holds: openings by the
    day they opened, resolutions by the day they were resolved, replies by the day they were
    sent, messages by the local day of their UTC hour. Rewritten from the metric rows (weeks and
    months from their days); never edited by hand."""

    # The first day the row covers (a Monday for a week, the 1st for a month). A whole week or
    # month is also kept as one row: a year reads ~12 rows per key instead of 365.
    day = models.DateField()
    grain = models.CharField(max_length=5, choices=Grain.choices, default=Grain.DAY)
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    bot_answered = models.PositiveIntegerField(default=0)
    sla_breaches = models.PositiveIntegerField(default=0)
    sla_met_count = models.PositiveIntegerField(default=0)
    sla_known_count = models.PositiveIntegerField(default=0)
    sla_first_response_met_count = models.PositiveIntegerField(default=0)
    sla_first_response_known_count = models.PositiveIntegerField(default=0)
    sla_next_response_met_count = models.PositiveIntegerField(default=0)
    sla_next_response_known_count = models.PositiveIntegerField(default=0)
    sla_resolution_met_count = models.PositiveIntegerField(default=0)
    sla_resolution_known_count = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    bot_deflected = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    messages_in = models.PositiveIntegerField(default=0)
    messages_out = models.PositiveIntegerField(default=0)
    # Messages per local hour of the day (index 0 = midnight), for the heat map (day rows only).
    hourly_in = ArrayField(models.IntegerField(), size=24, default=list)
    hourly_out = ArrayField(models.IntegerField(), size=24, default=list)
    first_response_seconds_buckets, first_response_seconds_counts = _histogram("first response")
    (
        first_response_business_seconds_buckets,
        first_response_business_seconds_counts,
    ) = _histogram("first response, business hours")
    bot_first_response_seconds_buckets, bot_first_response_seconds_counts = _histogram(
        "bot first response"
    )
    resolution_seconds_buckets, resolution_seconds_counts = _histogram("resolution")
    (
        resolution_business_seconds_buckets,
        resolution_business_seconds_counts,
    ) = _histogram("resolution, business hours")
    reply_seconds_buckets, reply_seconds_counts = _histogram("human reply time")
    reply_business_seconds_buckets, reply_business_seconds_counts = _histogram(
        "human reply time, business hours"
    )

    class Meta:
        abstract = True


class ReportDay(RollupBase):
    """A day (week, month) × account × team: every figure of the reports page but the per-agent
    table and an agent filter."""

    class Meta:
        indexes = [
            # Rollup reads and rewrites: the rows of some days, weeks and months.
            models.Index(fields=["day"], name="reportday_day"),
        ]


class ReportAgentDay(RollupBase):
    """The same per agent: the per-agent table and reports filtered by agent. Each source counts
    for its own agent, as the metric rows' filters do: an opening or resolution for the agent
    credited, a reply for its author, a message hour for the conversation's agent. Null agent:
    none (the table's "Unassigned").

    Rows with no account sum every account and team: reports without account, platform or team
    filters read those (with the account in the key, a year of weeks holds nearly as many
    histogram entries as there are openings)."""

    account = models.ForeignKey(
        PlatformAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            # Rollup reads and rewrites: the rows of some days, weeks and months.
            models.Index(fields=["day"], name="reportagentday_day"),
            # An agent filter: that agent's rows only.
            models.Index(fields=["agent", "day"], name="reportagentday_agent_day"),
        ]


class RollupState(models.Model):
    """How far the rollups go (one row): the reports read rollups for days up to
    ``through_day`` and the metric rows after it."""

    # The time zone the days are local to; a report in another zone reads the metric rows.
    time_zone = models.CharField(max_length=64)
    # Every local day up to and including this one is rolled up.
    through_day = models.DateField(null=True, blank=True)
    # Openings rewritten before this instant (less a look-back) are in the rollups.
    changes_seen_at = models.DateTimeField(null=True, blank=True)


# --- Business hours and SLA policies (arithmetic in inbox.business_hours, timers in inbox.sla) --


class BusinessHours(models.Model):
    """A weekly schedule in a time zone, with holidays; used per team or per platform account
    (a team's hours win over an account's), or named by an SLA policy."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    # {"mon": [["09:00", "17:00"]], "tue": [...], ...}; a missing day is closed; "24:00" ends a
    # day. Validated by inbox.business_hours.Schedule.from_mapping.
    weekly = models.JSONField(default=dict, blank=True)
    teams = models.ManyToManyField(Team, blank=True, related_name="business_hours")
    accounts = models.ManyToManyField(PlatformAccount, blank=True, related_name="business_hours")
    # Used where no team or account has its own hours.
    is_default = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "business hours"

    def __str__(self) -> str:
        return f"{self.name} ({self.time_zone})"

    def clean(self) -> None:
        try:
            Schedule.from_mapping(self.weekly or {}, time_zone=self.time_zone)
        except (ValueError, TypeError, KeyError) as exc:
            raise ValidationError({"weekly": str(exc)})

    @property
    def schedule(self) -> Schedule | None:
        """The arithmetic's view (inbox.business_hours.Schedule), holidays included."""
        return schedule_from_model(self)


class Holiday(models.Model):
    """A local date on which these business hours are closed all day."""

    hours = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hours", "date"], name="holiday_hours_date_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class SlaPolicy(models.Model):
    """Response-time targets. The first active policy (lowest ``order``) whose conditions all
    match a conversation applies; an empty condition matches everything."""

    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=100)
    # Conditions: platform accounts, priorities (list of Conversation.Priority), labels (any).
    accounts = models.ManyToManyField(PlatformAccount, blank=True, related_name="+")
    priorities = models.JSONField(default=list, blank=True)
    labels = models.ManyToManyField(Label, blank=True, related_name="+")
    # Targets in seconds; None: no target of that kind.
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    next_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Count only open business time: these hours, or else the conversation's team's/account's.
    business_hours_only = models.BooleanField(default=False)
    business_hours = models.ForeignKey(
        BusinessHours, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Warning when this share of the target has elapsed.
    warning_percent = models.PositiveSmallIntegerField(default=80)
    # Escalation on breach: raise the priority, tell the team's managers, reassign.
    escalate_to_priority = models.IntegerField(
        choices=Conversation.Priority.choices, null=True, blank=True
    )
    notify_managers = models.BooleanField(default=False)
    reassign_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name


class SlaRecord(models.Model):
    """A warning or a breach, raised once per timer run: the unique constraint makes the
    timer pass safe to repeat (retries, two beats, catch-up after downtime)."""

    class Level(models.TextChoices):
        WARNING = "warning", _("Warning")
        BREACHED = "breached", _("Breached")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="sla_records"
    )
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True, related_name="+")
    # first_response, next_response, resolution.
    target = models.CharField(max_length=16)
    level = models.CharField(max_length=8, choices=Level.choices)
    # When this timer run started (conversation opened, customer message): one run, one record.
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)
    event = models.ForeignKey(
        ConversationEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "target", "level", "started_at"],
                name="sla_record_once_per_run",
            )
        ]
        indexes = [
            # Reports: breaches per account over a period.
            models.Index(fields=["account", "level", "due_at"], name="sla_record_account_due"),
        ]
