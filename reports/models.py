"""The reports' own rows: per-conversation metrics kept by ``reports.metrics`` and the daily
rollups kept by ``reports.rollups``; reports aggregate these instead of messages.

The tables keep the names they had in ``inbox`` (``db_table``): the models moved here in state
only, so an existing database upgrades in place (migrations/0001_initial.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inbox.models import Conversation, Message, Platform, PlatformAccount, Team


class ConversationMetric(models.Model):
    """One opening of a conversation — from a customer message that found it new or resolved,
    to its resolution — with the durations the reports need (definitions: docs/metrics.md).
    Rewritten by ``reports.metrics.refresh`` whenever a message, status or assignment
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
    # SLA outcome as the SLA timers recorded it (reports.sla): True met, False breached,
    # null while the target is still running or when no policy sets it.
    sla_met = models.BooleanField(null=True, blank=True)
    sla_first_response_met = models.BooleanField(null=True, blank=True)
    sla_next_response_met = models.BooleanField(null=True, blank=True)
    sla_resolution_met = models.BooleanField(null=True, blank=True)
    sla_breaches = models.PositiveSmallIntegerField(default=0)
    # When refresh() last rewrote the opening (its reply and volume rows are rewritten with it):
    # the daily rollups find the days to recompute by it (reports.rollups).
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "inbox_conversationmetric"
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
        db_table = "inbox_replymetric"
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
        db_table = "inbox_volumehour"
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


# --- Daily report rollups (kept by reports.rollups from the metric rows above) ----------


def _histogram(name: str) -> tuple[ArrayField, ArrayField]:
    """A sparse log-bucket histogram of one duration (reports.rollups.bucket_of): the
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
        db_table = "inbox_reportday"
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
        db_table = "inbox_reportagentday"
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

    class Meta:
        db_table = "inbox_rollupstate"
