"""Metric definitions (docs/metrics.md) against hand-computed cases, played through the real
services so the hooks that keep the rows are exercised too."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from connectors.base import DeliveryError
from inbox import delivery
from inbox.models import Conversation, Message
from reports import metrics, queries
from reports.models import ConversationMetric, ReplyMetric, VolumeHour
from sla import timers
from sla.models import BusinessHours, SlaPolicy
from tests.reports.conftest import T0, Script

pytestmark = pytest.mark.django_db

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def opening(sequence: int = 1) -> ConversationMetric:
    return ConversationMetric.objects.get(sequence=sequence)


def reply_seconds(kind: str = Message.SenderKind.AGENT) -> list[float]:
    rows = ReplyMetric.objects.filter(sender_kind=kind).order_by("replied_at")
    return [row.seconds for row in rows]


def test_first_response_runs_from_the_first_customer_message_to_the_first_human_reply(
    script, agent
):
    script.customer(T0)
    script.customer(T0 + 2 * MIN)
    script.agent(T0 + 10 * MIN, agent)
    script.agent(T0 + 11 * MIN, agent)

    metric = opening()
    assert metric.opened_at == T0
    assert metric.first_response_seconds == 600
    assert metric.first_response_business_seconds == 600  # no business hours: around the clock
    assert metric.agent_id == agent.pk  # unassigned: the first human responder is credited
    assert (metric.messages_in, metric.messages_out) == (2, 2)
    # The second reply answered nothing new.
    assert reply_seconds() == [600]


def test_bot_reply_is_counted_apart_and_does_not_stop_the_human_clock(script, agent):
    script.customer(T0)
    script.bot(T0 + timedelta(seconds=5))
    script.agent(T0 + 20 * MIN, agent)

    metric = opening()
    assert metric.bot_first_response_seconds == 5
    assert metric.first_response_seconds == 1200
    assert reply_seconds(Message.SenderKind.BOT) == [5]
    assert reply_seconds() == [1200]


def test_notes_never_count_as_a_response(script, agent):
    script.customer(T0)
    script.note(T0 + MIN, agent)
    script.agent(T0 + 30 * MIN, agent)

    assert opening().first_response_seconds == 1800


def test_each_stretch_of_customer_messages_waits_from_its_first_message(script, agent):
    script.customer(T0)
    script.customer(T0 + MIN)
    script.agent(T0 + 5 * MIN, agent)
    script.customer(T0 + 10 * MIN)
    script.agent(T0 + 12 * MIN, agent)

    assert reply_seconds() == [300, 120]
    assert opening().first_response_seconds == 300


def test_reopening_by_the_customer_starts_a_new_opening(script, agent):
    script.customer(T0)
    script.agent(T0 + 10 * MIN, agent)
    script.resolve(T0 + HOUR, agent)
    day = T0 + timedelta(days=1)
    script.customer(day)
    script.agent(day + 5 * MIN, agent)
    script.resolve(day + 2 * HOUR, agent)

    first, second = opening(1), opening(2)
    assert (first.first_response_seconds, first.resolution_seconds) == (600, 3600)
    assert first.resolved_at == T0 + HOUR
    assert second.opened_at == day
    assert (second.first_response_seconds, second.resolution_seconds) == (300, 7200)
    assert (second.messages_in, second.messages_out) == (1, 1)
    assert ReplyMetric.objects.filter(opening=second).count() == 1


def test_an_agent_reopening_by_hand_continues_the_same_opening(script, agent):
    script.customer(T0)
    script.agent(T0 + MIN, agent)
    script.resolve(T0 + HOUR, agent)
    script.status(T0 + 2 * HOUR, "open", agent)
    assert opening().resolved_at is None
    script.resolve(T0 + 3 * HOUR, agent)

    assert ConversationMetric.objects.count() == 1
    assert opening().resolution_seconds == 3 * 3600


def test_resolved_with_only_a_bot_reply_is_a_bot_deflection(script, agent):
    script.customer(T0)
    script.bot(T0 + timedelta(seconds=3))
    script.resolve(T0 + 10 * MIN)

    metric = opening()
    assert metric.bot_deflected
    assert metric.first_response_at is None
    # A resolution without a human reply leaves no human reply row.
    assert reply_seconds() == []


def test_a_reply_sent_from_the_platforms_own_tools_is_a_human_first_response(script):
    script.customer(T0)
    script.echo(T0 + 4 * MIN)

    metric = opening()
    assert metric.first_response_seconds == 240
    assert metric.agent_id is None  # nobody in Parley to credit


def test_a_reply_that_fails_for_good_is_no_response(script, agent):
    script.customer(T0)
    reply = script.agent(T0 + 5 * MIN, agent)
    assert opening().first_response_seconds == 300

    Message.objects.filter(pk=reply.pk).update(status=Message.Status.SENDING)
    reply.refresh_from_db()
    failure = DeliveryError("blocked", permanent=True)
    script.committed(lambda: delivery._failed_attempt(reply, script.account, failure))

    assert opening().first_response_at is None
    assert reply_seconds() == []


def test_the_assignee_at_resolution_is_credited_and_stays_after_reassignment(
    script, agent, teammate
):
    script.customer(T0)
    script.agent(T0 + MIN, agent)
    script.assign(T0 + 2 * MIN, teammate)
    script.resolve(T0 + HOUR, teammate)
    assert opening().agent_id == teammate.pk

    script.assign(T0 + 2 * HOUR, agent)  # after resolution: belongs to later openings
    assert opening().agent_id == teammate.pk


def test_volume_counts_messages_per_conversation_hour(script, agent):
    script.customer(T0 + 5 * MIN)
    script.agent(T0 + 10 * MIN, agent)
    script.customer(T0 + HOUR + MIN)
    script.resolve(T0 + 2 * HOUR, agent)
    script.customer(T0 + HOUR + 2 * HOUR)  # reopens: the new opening's hour rebuilds cleanly

    hours = {(v.hour, v.messages_in, v.messages_out) for v in VolumeHour.objects.all()}
    assert hours == {(T0, 1, 1), (T0 + HOUR, 1, 0), (T0 + 3 * HOUR, 1, 0)}


def test_replies_across_a_weekend_count_only_business_hours(script, agent):
    hours = BusinessHours.objects.create(
        name="Office",
        time_zone="Europe/London",
        weekly={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        is_default=True,
    )
    assert hours.schedule is not None
    friday = T0 + timedelta(days=4)  # Friday 2026-11-06, 10:00 UTC = 10:00 in London
    script.customer(friday.replace(hour=16, minute=30))
    monday = T0 + timedelta(days=7)
    script.agent(monday.replace(hour=9, minute=30), agent)

    metric = opening()
    assert metric.first_response_seconds == (2 * 24 + 17) * 3600  # Fri 16:30 → Mon 09:30
    assert metric.first_response_business_seconds == 3600  # 30 min Friday + 30 min Monday
    assert ReplyMetric.objects.get().business_seconds == 3600


def test_business_hours_follow_their_time_zone(script, agent):
    BusinessHours.objects.create(
        name="New York",
        time_zone="America/New_York",
        weekly={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        is_default=True,
    )
    # 13:00 UTC on Monday 2 November 2026 is 08:00 in New York (EST, UTC-5): closed.
    script.customer(T0.replace(hour=13))
    script.agent(T0.replace(hour=15), agent)  # 10:00 in New York

    assert opening().first_response_seconds == 7200
    assert opening().first_response_business_seconds == 3600


def test_refresh_is_idempotent_and_rebuild_gives_the_same_rows(script, agent):
    script.customer(T0)
    script.agent(T0 + 10 * MIN, agent)
    script.resolve(T0 + HOUR, agent)
    script.customer(T0 + 2 * HOUR)
    before = list(ConversationMetric.objects.order_by("sequence").values())
    conversation_id = script.conversation.pk

    metrics.refresh(conversation_id)
    metrics.refresh(conversation_id)
    assert list(ConversationMetric.objects.order_by("sequence").values()) == before

    metrics.rebuild(conversation_id)
    rebuilt = list(
        ConversationMetric.objects.order_by("sequence").values(
            "sequence", "opened_at", "first_response_seconds", "resolution_seconds"
        )
    )
    assert rebuilt == [
        {
            "sequence": 1,
            "opened_at": T0,
            "first_response_seconds": 600.0,
            "resolution_seconds": 3600.0,
        },
        {
            "sequence": 2,
            "opened_at": T0 + 2 * HOUR,
            "first_response_seconds": None,
            "resolution_seconds": None,
        },
    ]
    assert ReplyMetric.objects.count() == 1


def test_a_metrics_failure_never_loses_the_message(script, monkeypatch, caplog):
    def broken(conversations, latest):
        raise RuntimeError("boom")

    monkeypatch.setattr(metrics, "_refresh_many", broken)
    message = script.customer(T0)

    assert Message.objects.filter(pk=message.pk).exists()
    assert "report metrics of conversation" in caplog.text


def test_walk_orders_items_by_time_whatever_order_they_come_in():
    items = [
        metrics.Item(T0 + 10 * MIN, metrics.HUMAN, 2, 7, (0, 2)),
        metrics.Item(T0, metrics.IN, 1, None, (0, 1)),
        metrics.Item(T0 + HOUR, metrics.RESOLVE, order=(1, 1)),
    ]
    [only] = metrics.walk(items)
    assert only.first_response_at == T0 + 10 * MIN
    assert only.first_responder_id == 7
    assert only.resolved_at == T0 + HOUR


def test_sla_outcome_per_target_from_the_sla_timers(script, agent, account, monkeypatch):
    SlaPolicy.objects.create(name="Standard", first_response_seconds=600, resolution_seconds=7200)
    script.customer(T0)
    script.agent(T0 + 5 * MIN, agent)
    script.resolve(T0 + 30 * MIN, agent)
    late = Script(account, monkeypatch, sender="cust-late")
    late.customer(T0)
    # Nobody answers: the SLA pass records the breach between the conversation's events.
    timers.check_timers(now=T0 + 11 * MIN)
    assert metrics.sync_sla_breaches(now=T0 + 11 * MIN) == 1

    met = ConversationMetric.objects.get(conversation=script.conversation)
    breached = ConversationMetric.objects.get(conversation=late.conversation)
    assert (met.sla_first_response_met, met.sla_resolution_met, met.sla_met) == (True, True, True)
    assert met.sla_next_response_met is None  # the policy sets no such target
    assert (breached.sla_first_response_met, breached.sla_breaches) == (False, 1)
    assert breached.sla_resolution_met is None  # still running
    assert breached.sla_met is False

    f = queries.parse_filters(
        {"range": "custom", "from": "2026-11-02", "to": "2026-11-02", "tz": "UTC"}, agent
    )
    summary = queries.summary(f)
    assert summary["sla_first_response_compliance"] == 50.0
    assert summary["sla_resolution_compliance"] == 100.0
    assert summary["sla_compliance"] == 50.0
    assert summary["sla_breaches"] == 1


def test_rebuild_command_restores_deleted_rows(script, agent):
    from django.core.management import call_command

    script.customer(T0)
    script.agent(T0 + 10 * MIN, agent)
    ConversationMetric.objects.all().delete()
    VolumeHour.objects.all().delete()

    call_command("rebuild_report_metrics", stdout=io.StringIO())

    assert opening().first_response_seconds == 600
    assert VolumeHour.objects.get().messages_in == 1


def test_a_late_message_with_an_old_platform_time_lands_in_its_own_opening(script, agent):
    script.customer(T0)
    script.agent(T0 + 10 * MIN, agent)
    script.resolve(T0 + HOUR, agent)
    script.customer(T0 + timedelta(days=1))
    script.customer(T0 + 5 * MIN)  # delivered a day late

    first, second = opening(1), opening(2)
    assert (first.messages_in, first.first_response_seconds) == (2, 600)
    assert second.messages_in == 1
    assert VolumeHour.objects.get(hour=T0).messages_in == 2


def test_keeping_the_metrics_costs_a_bounded_number_of_queries(
    script, agent, django_assert_max_num_queries
):
    script.customer(T0)
    for n in range(1, 6):
        script.agent(T0 + n * 2 * MIN, agent)
        script.customer(T0 + (n * 2 + 1) * MIN)
    # Lock, latest opening, messages, status events, business hours (≤ 3), SLA breaches,
    # save the opening, replace its reply rows (2) and its hours (2), savepoint (2).
    with django_assert_max_num_queries(15):
        metrics.refresh(script.conversation.pk)
    assert ReplyMetric.objects.count() == 5


def test_one_pass_over_many_conversations_keeps_the_rows_a_rebuild_gives(
    account, agent, monkeypatch, django_assert_max_num_queries
):
    # Marks accumulate (no pass after each write): one pass then takes them all at once.
    monkeypatch.setattr(metrics, "kick", lambda: None)
    waiting, reopened, late = (Script(account, monkeypatch, f"cust-{n}") for n in range(3))
    waiting.customer(T0)
    waiting.bot(T0 + MIN)
    reopened.customer(T0)
    reopened.agent(T0 + 10 * MIN, agent)
    reopened.resolve(T0 + HOUR, agent)
    late.customer(T0 + 2 * HOUR)
    assert metrics.refresh_stale() == 3  # the first rows of each
    # Then each changes differently: a new reply, a reopening, a message from the past.
    waiting.agent(T0 + 3 * HOUR, agent)
    reopened.customer(T0 + 4 * HOUR)
    reopened.customer(T0 + 4 * HOUR + MIN)
    late.agent(T0 + 2 * HOUR + 5 * MIN, agent)
    late.customer(T0 + HOUR)  # delivered late: its opening began before the stored one

    # About a dozen for the two refreshed together, two dozen for the late one's rebuild.
    with django_assert_max_num_queries(40):
        assert metrics.refresh_stale() == 3
    assert not Conversation.objects.filter(metrics_stale_since__isnull=False).exists()

    def rows() -> list:
        return [
            list(model.objects.order_by(*order).values(*fields))
            for model, order, fields in (
                (
                    ConversationMetric,
                    ("conversation_id", "sequence"),
                    (
                        "conversation_id",
                        "sequence",
                        "opened_at",
                        "first_response_seconds",
                        "bot_first_response_seconds",
                        "resolution_seconds",
                        "messages_in",
                        "messages_out",
                        "agent_id",
                        "sla_met",
                    ),
                ),
                (ReplyMetric, ("message_id",), ("message_id", "seconds", "agent_id")),
                (
                    VolumeHour,
                    ("conversation_id", "hour"),
                    ("conversation_id", "hour", "messages_in", "messages_out"),
                ),
            )
        ]

    by_pass = rows()
    for script in (waiting, reopened, late):
        metrics.rebuild(script.conversation.pk)
    assert rows() == by_pass
    assert [
        m["sequence"] for m in by_pass[0] if m["conversation_id"] == reopened.conversation.pk
    ] == [1, 2]
