"""Business hours and SLA policies, and the warnings and breaches the timers raised (arithmetic
in ``sla.business_hours``, timers in ``sla.timers``).

The tables keep the names they had in ``inbox`` (``db_table``): the models moved here in state
only, so an existing database upgrades in place (migrations/0001_initial.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models import Conversation, ConversationEvent, Label, PlatformAccount, Team
from sla.business_hours import Schedule, schedule_from_model


class BusinessHours(models.Model):
    """A weekly schedule in a time zone, with holidays; used per team or per platform account
    (a team's hours win over an account's), or named by an SLA policy."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    # {"mon": [["09:00", "17:00"]], "tue": [...], ...}; a missing day is closed; "24:00" ends a
    # day. Validated by sla.business_hours.Schedule.from_mapping.
    weekly = models.JSONField(default=dict, blank=True)
    teams = models.ManyToManyField(Team, blank=True, related_name="business_hours")
    accounts = models.ManyToManyField(PlatformAccount, blank=True, related_name="business_hours")
    # Used where no team or account has its own hours.
    is_default = models.BooleanField(default=False)

    class Meta:
        db_table = "inbox_businesshours"
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
        """The arithmetic's view (sla.business_hours.Schedule), holidays included."""
        return schedule_from_model(self)


class Holiday(models.Model):
    """A local date on which these business hours are closed all day, or (a partial day, e.g.
    Christmas Eve) open only from ``open_from`` to ``open_until``."""

    hours = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)
    # Both set: open only then that day; both empty: closed all day.
    open_from = models.TimeField(null=True, blank=True)
    open_until = models.TimeField(null=True, blank=True)

    class Meta:
        db_table = "inbox_holiday"
        constraints = [
            models.UniqueConstraint(fields=["hours", "date"], name="holiday_hours_date_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()

    @property
    def partial(self) -> bool:
        return self.open_from is not None and self.open_until is not None

    def clean(self) -> None:
        if (self.open_from is None) != (self.open_until is None):
            raise ValidationError("A partial day needs both its opening and closing time.")
        if self.partial and self.open_until <= self.open_from:
            raise ValidationError("A partial day must close after it opens.")


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
        db_table = "inbox_slapolicy"
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
        db_table = "inbox_slarecord"
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
