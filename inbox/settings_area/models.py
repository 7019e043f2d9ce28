"""What only the settings area reads and writes: the audit log (written through
``inbox.settings_area.audit``), OAuth authorisations in progress and the webhook handshakes
seen.

The tables keep the names they had in ``inbox`` (``db_table``): the models moved here in
state only, so an existing database upgrades in place (migrations/0001_initial.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from inbox.crypto import EncryptedJSONField
from inbox.models import PlatformAccount


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
        db_table = "inbox_auditlog"
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

    class Meta:
        db_table = "inbox_oauthstate"


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
        db_table = "inbox_webhookhandshake"
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
