"""Customers and how each platform account knows them."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models.accounts import PlatformAccount


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
    # Custom attributes, keyed by ``contacts.AttributeDefinition.key``; values are checked
    # against the definition's type by ``contacts.attributes`` before they are stored.
    attributes = models.JSONField(blank=True, default=dict)
    # Set when this contact was merged into another (``contacts.services.merge``): the row stays
    # so an unmerge brings it back under the same id; every page and API call ignores it.
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Set when an admin erased the person's data (``contacts.services.erase``).
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The contacts page: active contacts, newest first, keyset-paginated. Its search
            # uses the trigram indexes of migration 0020_contact_attributes_merge (PostgreSQL).
            models.Index(
                fields=["-id"], condition=Q(merged_into__isnull=True), name="contact_active_id"
            ),
        ]

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
    # The contact this identity belonged to before its first merge (set by the merge; null:
    # never merged, so it is its contact's own): an unmerge gives it back to that contact.
    first_contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "platform_user_id"], name="identity_account_user_uniq"
            )
        ]
        indexes = [
            # The contacts page's platform filter: the contacts known on these accounts.
            models.Index(fields=["account", "contact"], name="identity_account_contact"),
        ]
        verbose_name_plural = "contact identities"

    def __str__(self) -> str:
        return self.username or self.name or self.platform_user_id
