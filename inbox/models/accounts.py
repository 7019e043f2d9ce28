"""Who works in Parley and where: agents (``User``), the brand's platform accounts, teams, and
whether an agent is on the dashboard."""

from __future__ import annotations

import functools
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
    # Members who get no auto-assigned conversation (a team lead, a trainee): they still see
    # the team's conversations and take them by hand.
    auto_assign_excluded = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+"
    )
    # Per-member caps that differ from max_open_per_agent: {"<user id>": cap}.
    agent_caps = models.JSONField(default=dict, blank=True)
    # The member who got the last auto-assigned conversation: the round-robin continues after.
    last_auto_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return self.name


class AgentPresence(models.Model):
    """Whether an agent is on the dashboard: open sockets and a heartbeat. Auto-assignment
    only gives work to agents seen within ``inbox.presence.ONLINE_WINDOW``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presence"
    )
    connections = models.PositiveIntegerField(default=0)
    last_seen_at = models.DateTimeField(default=timezone.now)


class HistoryImport(models.Model):
    """Reading an account's recent history from its platform, page by page (``inbox.history``).
    The cursor is saved with the page it follows, so an import resumes where it stopped after a
    reload, a worker restart or a platform's rate limit."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        # The platform asked Parley to wait (rate limit) or a call failed for now.
        WAITING = "waiting", "Waiting"
        DONE = "done", "Done"
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.RUNNING, Status.WAITING)

    account = models.ForeignKey(
        PlatformAccount, on_delete=models.CASCADE, related_name="history_imports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    # The period read: from ``since`` up to when the import started.
    since = models.DateTimeField()
    started_at = models.DateTimeField(default=timezone.now)
    cursor = models.JSONField(blank=True, default=dict)
    pages = models.PositiveIntegerField(default=0)
    items = models.PositiveIntegerField(default=0)
    # Messages and comments stored (an item Parley already held counts once, in ``items``).
    stored = models.PositiveIntegerField(default=0)
    # The oldest platform time the pages have reached: how far back the import has come.
    reached = models.DateTimeField(null=True, blank=True)
    # No page is fetched before this (a rate limit's reset, a retry's backoff).
    not_before = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    # Last progress: an active import unchanged for a while lost its task (resumed by a sweep).
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status__in=["running", "waiting"]),
                name="history_import_one_active_per_account",
            )
        ]
        indexes = [models.Index(fields=["account", "-started_at"], name="history_import_latest")]
