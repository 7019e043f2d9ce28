"""Contacts beyond the inbox's own rows: custom attribute definitions, notes, the consent
history, merges and the clues that suggest them. ``Contact`` and ``ContactIdentity`` stay in
``inbox.models``; every write goes through ``contacts.services``."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models import Contact, Conversation, ConversationEvent, Message


class AttributeDefinition(models.Model):
    """A custom contact attribute an admin defined; values live in ``Contact.attributes``."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        BOOLEAN = "boolean", _("Yes / no")

    # The key in Contact.attributes and in saved replies' ``{{attribute.<key>}}``.
    key = models.CharField(
        max_length=50,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]*$",
                _("Lower-case letters, digits and _; starting with a letter."),
            )
        ],
    )
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=8, choices=Type.choices)
    # The allowed values of a choice attribute (strings), in display order.
    choices = models.JSONField(blank=True, default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["label", "id"]

    def __str__(self) -> str:
        return self.label


class ContactNote(models.Model):
    """A private note about the person (not one conversation), visible to agents who see them."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="contact_notes")
    # The contact it was written on: an unmerge takes it back along with that contact.
    written_on = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["contact", "-created_at"], name="contactnote_contact")]


class ConsentChange(models.Model):
    """One change of a contact's marketing consent: who (an agent, the bot on a keyword), when
    and how. Written by the consent listener from ``ConsentChanged`` events, so every place that
    records one (the chatbot's keywords, the contacts page) lands here once."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_changes")
    state = models.CharField(max_length=16, choices=Contact.Consent.choices)
    # How: "keyword STOP", "agent", "merge"...
    source = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The domain event it came from: the listener is idempotent by it.
    event = models.OneToOneField(
        ConversationEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["contact", "-created_at"], name="consent_contact")]


class ContactMerge(models.Model):
    """One merge of ``merged`` into ``survivor``, and what it moved: the audit trail of merges
    and what an undo reads."""

    survivor = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    merged = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # {"identities": [ids], "conversations": [ids], "attributes_added": [keys]}
    moved = models.JSONField(default=dict)
    # Why it was suggested, if it was (the reasons shown to the agent).
    reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["survivor", "-created_at"], name="merge_survivor")]


class ContactClue(models.Model):
    """Something a customer wrote that may identify them elsewhere: an email address, a phone
    number, a website, or "I also wrote on Instagram (as @name)". Extracted from inbound
    messages by a listener; the merge suggestions read these rows. The contact is the
    conversation's (so a merge needs no update here)."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("email address")
        PHONE = "phone", _("phone number")
        WEBSITE = "website", _("website")
        # value: "<platform>" or "<platform>:<username>"
        ELSEWHERE = "elsewhere", _("says they wrote on another platform")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "kind", "value"], name="contactclue_message_value_uniq"
            )
        ]
        indexes = [
            # Suggestions: other conversations holding the same value.
            models.Index(fields=["kind", "value"], name="contactclue_value"),
            models.Index(fields=["conversation"], name="contactclue_conversation"),
        ]
