"""Automation rules (what happens by itself when something happens in the inbox) and macros
(an agent's named list of the same actions, run by hand).

Triggers, conditions and actions are JSON in the shape of the public API
(``/api/v1/automation-rules/``); ``automation.spec`` validates and describes them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models import Conversation


class Rule(models.Model):
    class Match(models.TextChoices):
        ALL = "all", _("All conditions")
        ANY = "any", _("Any condition")

    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    # Rules run in this order (then by id); "stop processing" ends the pass at a match.
    position = models.PositiveIntegerField(default=0)
    # "message_received", … or {"no_reply_minutes": N, "business_hours": bool} or
    # {"pending_days": N}: exactly as the API takes it.
    trigger = models.JSONField()
    # The trigger's kind (automation.spec.TRIGGER_KINDS), derived on save: the listener and the
    # periodic pass select the enabled rules of one kind by it.
    trigger_kind = models.CharField(max_length=32)
    match = models.CharField(max_length=3, choices=Match.choices, default=Match.ALL)
    # [{"field", "operator", "value", "key"?, "negate"?}, …]
    conditions = models.JSONField(default=list, blank=True)
    # [{"type", "value"}, …], run in order.
    actions = models.JSONField(default=list)
    stop_processing = models.BooleanField(default=False)
    # How many times the rule matched and ran (kept with each run, in its transaction).
    hits = models.PositiveBigIntegerField(default=0)
    last_hit_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            # The listener and the time pass: enabled rules of one trigger kind, in order.
            models.Index(fields=["trigger_kind", "position", "id"], name="automation_rule_kind"),
        ]

    def __str__(self) -> str:
        return self.name


class RuleRun(models.Model):
    """One rule matched and ran once: the hit history, and the guard that makes a rule run at
    most once per event (``event_id``) or per time-trigger occurrence (``conversation`` and the
    instant its clock started, ``since``)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    # The domain event (inbox.models.ConversationEvent id) that set it off; None for time rules.
    event_id = models.BigIntegerField(null=True, blank=True)
    # Time rules: when the customer started waiting / the conversation went pending.
    since = models.DateTimeField(null=True, blank=True)
    # Each action's outcome: [{"type", "ok", "detail"}]; a refused step says why.
    results = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "event_id"],
                condition=Q(event_id__isnull=False),
                name="automation_run_rule_event_uniq",
            ),
            models.UniqueConstraint(
                fields=["rule", "conversation", "since"],
                condition=Q(since__isnull=False),
                name="automation_run_rule_since_uniq",
            ),
        ]
        indexes = [
            # The settings page: a rule's latest runs.
            models.Index(fields=["rule", "-id"], name="automation_run_rule_recent"),
        ]


class Macro(models.Model):
    """A named list of actions an agent runs on one conversation. Shared (no owner: made by
    admins and managers, offered to everyone) or personal (offered to its owner only)."""

    name = models.CharField(max_length=100)
    # [{"type", "value"}, …], the rules' action vocabulary.
    actions = models.JSONField(default=list)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="macros",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def shared(self) -> bool:
        return self.owner_id is None
