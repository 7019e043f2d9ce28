"""The inbox domain: accounts, contacts, conversations, messages and what agents add to them.

Every write goes through ``inbox.services``; these classes only describe the data.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone

from inbox.crypto import EncryptedJSONField


class Platform(models.TextChoices):
    SANDBOX = "sandbox", "Sandbox"
    MESSENGER = "messenger", "Messenger"
    INSTAGRAM = "instagram", "Instagram"
    X = "x", "X"
    LINKEDIN = "linkedin", "LinkedIn"


class User(AbstractUser):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MANAGER = "manager", "Manager"
        AGENT = "agent", "Agent"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == self.Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.is_admin or self.role == self.Role.MANAGER

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class PlatformAccount(models.Model):
    """A brand's presence on one platform: a Facebook Page, an Instagram account, an X account."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NEEDS_REAUTH = "needs_reauth", "Needs re-authorisation"
        DISCONNECTED = "disconnected", "Disconnected"
        ERROR = "error", "Error"

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
        UNKNOWN = "unknown", "Not asked"
        OPTED_IN = "opted_in", "Opted in"
        OPTED_OUT = "opted_out", "Opted out"

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


class Conversation(models.Model):
    class Kind(models.TextChoices):
        DM = "dm", "Direct message"
        GROUP = "group", "Group"
        COMMENT = "comment", "Comment thread"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"

    class Priority(models.IntegerChoices):
        LOW = 0, "Low"
        NORMAL = 1, "Normal"
        HIGH = 2, "High"
        URGENT = 3, "Urgent"

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
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class SenderKind(models.TextChoices):
        CONTACT = "contact", "Contact"
        AGENT = "agent", "Agent"
        BOT = "bot", "Bot"
        SYSTEM = "system", "System"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"

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
        ]

    def __str__(self) -> str:
        return f"Message {self.pk}"

    @property
    def visible_text(self) -> str:
        """What agents see: an unsent message keeps its row but not its text."""
        return "" if self.is_deleted else self.text


class Attachment(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"
        AUDIO = "audio", "Audio"
        FILE = "file", "File"
        STICKER = "sticker", "Sticker"
        LINK = "link", "Link"
        SHARE = "share", "Shared post"
        STORY = "story", "Story"

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
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"

    # The endpoint that received it: sandbox, meta, x, linkedin.
    source = models.CharField(max_length=16)
    account = models.ForeignKey(
        PlatformAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    headers = models.JSONField(default=dict)
    # The exact bytes: signatures are computed over them, and replays parse them again.
    body = models.BinaryField()
    signature_valid = models.BooleanField(null=True)
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
        ]

    def __str__(self) -> str:
        return f"{self.source} webhook {self.pk}"


class ConversationEvent(models.Model):
    """What happened to a conversation, in order. The dashboard's history, the reports' source
    and the live stream's catch-up all read this log; its id is the live event id."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        MESSAGE_RECEIVED = "message_received", "Message received"
        MESSAGE_SENT = "message_sent", "Message sent"
        MESSAGE_UPDATED = "message_updated", "Message updated"
        NOTE_ADDED = "note_added", "Note added"
        ASSIGNED = "assigned", "Assigned"
        STATUS_CHANGED = "status_changed", "Status changed"
        LABELS_CHANGED = "labels_changed", "Labels changed"
        PRIORITY_CHANGED = "priority_changed", "Priority changed"

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
