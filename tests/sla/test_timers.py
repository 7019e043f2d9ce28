"""SLA timers with a controlled clock: due times on arrival and status change, pauses, the
warning and breach pass (once each), escalation, catch-up after downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from connectors.base import MessageEchoed, MessageReceived, Person
from inbox import live, services
from inbox.models import Conversation, ConversationEvent, Label
from parley.celery import PERIODIC_TASKS
from sla import tasks as sla_tasks
from sla import timers
from sla.models import BusinessHours, SlaPolicy, SlaRecord
from tests.factories import UserFactory

# The timers are kept by the SLA listener after each write commits: these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
MIN = timedelta(minutes=1)


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() under the test's control (the services read it for status changes)."""

    class Clock:
        now = T0

        def set(self, value: datetime) -> None:
            self.now = value

    current = Clock()
    monkeypatch.setattr(timezone, "now", lambda: current.now)
    return current


@pytest.fixture
def policy(db):
    return SlaPolicy.objects.create(
        name="Standard",
        first_response_seconds=3600,
        next_response_seconds=1800,
        resolution_seconds=8 * 3600,
    )


def inbound(account, at: datetime, *, text: str = "Hello?", sender: str = "cust-1"):
    return services.receive_message(
        account=account,
        event=MessageReceived(
            platform="sandbox",
            account_external_id=account.external_id,
            timestamp=at,
            external_id=f"m-{sender}-{at.timestamp()}",
            sender=Person(platform_user_id=sender, name="Maya Thompson"),
            text=text,
        ),
    )


def fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_related("account", "contact", "sla_policy").get(
        pk=conversation.pk
    )


def sla_events(conversation: Conversation) -> list[tuple[str, str, str]]:
    return [
        (e.kind, e.data["target"], e.data["level"])
        for e in ConversationEvent.objects.filter(
            conversation=conversation,
            kind__in=[ConversationEvent.Kind.SLA_WARNING, ConversationEvent.Kind.SLA_BREACHED],
        ).order_by("id")
    ]


def test_first_message_sets_first_response_and_resolution_due_times(account, policy, clock):
    conversation = fresh(inbound(account, T0).conversation)
    assert conversation.sla_policy == policy
    assert conversation.first_response_due_at == T0 + 60 * MIN
    assert conversation.resolution_due_at == T0 + 8 * 60 * MIN
    assert conversation.next_response_due_at is None
    assert conversation.sla_status == "ok"
    assert conversation.sla_due_at == T0 + 60 * MIN  # the earliest running target
    # The pass looks at it next when the first warning (80 % of an hour) falls due.
    assert conversation.sla_check_at == T0 + 48 * MIN


def test_agent_reply_meets_the_response_target_and_a_bot_reply_does_not(
    account, policy, agent, clock
):
    conversation = fresh(inbound(account, T0).conversation)
    clock.set(T0 + 5 * MIN)
    services.queue_reply(conversation=conversation, text="Bot here", sender_kind="bot")
    assert fresh(conversation).first_response_due_at == T0 + 60 * MIN
    services.queue_reply(conversation=fresh(conversation), text="Hi, Alice here", author=agent)
    conversation = fresh(conversation)
    assert conversation.first_response_due_at is None
    assert conversation.resolution_due_at == T0 + 8 * 60 * MIN


def test_customer_writing_again_starts_a_next_response_timer(account, policy, agent, clock):
    conversation = fresh(inbound(account, T0).conversation)
    clock.set(T0 + 5 * MIN)
    services.queue_reply(conversation=conversation, text="On it", author=agent)
    inbound(account, T0 + 20 * MIN, text="Any news?")
    conversation = fresh(conversation)
    assert conversation.first_response_due_at is None
    assert conversation.next_response_due_at == T0 + 50 * MIN
    # Two more customer messages do not restart the running timer.
    inbound(account, T0 + 25 * MIN, text="Hello??")
    assert fresh(conversation).next_response_due_at == T0 + 50 * MIN


def test_warning_at_80_percent_and_breach_at_100_percent_each_recorded_once(account, policy, clock):
    conversation = inbound(account, T0).conversation
    assert timers.check_timers(now=T0 + 47 * MIN)["warnings"] == 0
    assert timers.check_timers(now=T0 + 49 * MIN)["warnings"] == 1
    assert timers.check_timers(now=T0 + 50 * MIN) == {
        "conversations": 0,
        "warnings": 0,
        "breaches": 0,
    }
    assert fresh(conversation).sla_status == "warning"
    assert timers.check_timers(now=T0 + 60 * MIN + timedelta(seconds=10))["breaches"] == 1
    assert timers.check_timers(now=T0 + 62 * MIN)["breaches"] == 0
    assert fresh(conversation).sla_status == "breached"
    assert sla_events(conversation) == [
        ("sla_warning", "first_response", "warning"),
        ("sla_breached", "first_response", "breached"),
    ]
    breach = SlaRecord.objects.get(conversation=conversation, level="breached")
    assert breach.due_at == T0 + 60 * MIN
    assert breach.event.kind == ConversationEvent.Kind.SLA_BREACHED
    assert breach.event.data["late"] is False


def test_a_repeated_pass_with_lost_flags_still_records_nothing_twice(account, policy, clock):
    conversation = inbound(account, T0).conversation
    timers.check_timers(now=T0 + 61 * MIN)
    # Simulate a pass whose flag update was lost: the unique SlaRecord still holds.
    Conversation.objects.filter(pk=conversation.pk).update(
        sla_timers=fresh(conversation).sla_timers
        | {
            "first_response": {
                **fresh(conversation).sla_timers["first_response"],
                "warned": False,
                "breached": False,
            }
        },
        sla_check_at=T0,
    )
    assert timers.check_timers(now=T0 + 62 * MIN)["breaches"] == 0
    assert SlaRecord.objects.filter(conversation=conversation).count() == 2
    assert len(sla_events(conversation)) == 2


def test_catch_up_after_downtime_raises_everything_that_fell_due_marked_late(
    account, policy, clock
):
    conversation = inbound(account, T0).conversation
    other = inbound(account, T0 + 10 * MIN, sender="cust-2").conversation
    # Beat was down for a day: the first pass afterwards raises every warning and breach.
    totals = timers.check_timers(now=T0 + 24 * 60 * MIN)
    assert totals == {"conversations": 2, "warnings": 4, "breaches": 4}
    for conv in (conversation, other):
        kinds = sla_events(conv)
        assert ("sla_breached", "first_response", "breached") in kinds
        assert ("sla_breached", "resolution", "breached") in kinds
        assert all(
            e.data["late"]
            for e in ConversationEvent.objects.filter(conversation=conv, kind__startswith="sla_")
        )
    assert fresh(conversation).sla_check_at is None


def test_pending_time_does_not_count(account, policy, agent, clock):
    conversation = fresh(inbound(account, T0).conversation)
    clock.set(T0 + 30 * MIN)
    services.change_status(conversation=conversation, status="pending", actor=agent)
    paused = fresh(conversation)
    assert paused.sla_check_at is None
    assert paused.sla_due_at is None  # not "due soon" while the clocks are stopped
    assert timers.check_timers(now=T0 + 5 * 60 * MIN)["conversations"] == 0
    # Two hours later the customer answers: the half hour left starts again from there.
    clock.set(T0 + 150 * MIN)
    inbound(account, T0 + 150 * MIN, text="Here is my order number")
    resumed = fresh(conversation)
    assert resumed.status == "open"
    assert resumed.sla_paused_at is None
    assert resumed.first_response_due_at == T0 + 180 * MIN
    assert resumed.resolution_due_at == T0 + (8 * 60 + 120) * MIN


def test_snoozed_time_does_not_count(account, policy, agent, clock):
    conversation = fresh(inbound(account, T0).conversation)
    clock.set(T0 + 10 * MIN)
    services.change_status(
        conversation=conversation, status="snoozed", actor=agent, snoozed_until=T0 + 70 * MIN
    )
    clock.set(T0 + 70 * MIN)
    services.reopen_snoozed(now=T0 + 70 * MIN)
    assert fresh(conversation).first_response_due_at == T0 + 120 * MIN


def test_resolving_stops_every_timer_and_a_new_message_starts_a_new_run(
    account, policy, agent, clock
):
    conversation = fresh(inbound(account, T0).conversation)
    timers.check_timers(now=T0 + 61 * MIN)
    clock.set(T0 + 70 * MIN)
    services.queue_reply(conversation=conversation, text="Done!", author=agent)
    services.change_status(conversation=fresh(conversation), status="resolved", actor=agent)
    resolved = fresh(conversation)
    assert (resolved.resolution_due_at, resolved.sla_status, resolved.sla_check_at) == (
        None,
        "",
        None,
    )
    clock.set(T0 + 3 * 60 * MIN)
    inbound(account, T0 + 3 * 60 * MIN, text="One more thing")
    reopened = fresh(conversation)
    assert reopened.next_response_due_at == T0 + 210 * MIN
    assert reopened.resolution_due_at == T0 + 11 * 60 * MIN
    assert reopened.first_response_due_at is None


def test_business_hours_policy_counts_open_time_only(account, clock):
    hours = BusinessHours.objects.create(
        name="Paris office",
        time_zone="Europe/Paris",
        weekly={day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    )
    hours.accounts.add(account)
    SlaPolicy.objects.create(
        name="Office", first_response_seconds=2 * 3600, business_hours_only=True
    )
    friday_4pm_paris = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    conversation = fresh(inbound(account, friday_4pm_paris).conversation)
    # One hour on Friday, one on Monday morning: Monday 10:00 Paris.
    assert conversation.first_response_due_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_policy_is_chosen_by_account_priority_and_label(account, other_account, policy, clock):
    urgent = SlaPolicy.objects.create(
        name="Urgent", order=1, priorities=[3], first_response_seconds=600
    )
    vip_label = Label.objects.create(name="vip")
    vip = SlaPolicy.objects.create(name="VIP", order=2, first_response_seconds=900)
    vip.labels.add(vip_label)
    elsewhere = SlaPolicy.objects.create(name="Elsewhere", order=3, first_response_seconds=60)
    elsewhere.accounts.add(other_account)

    conversation = fresh(inbound(account, T0).conversation)
    assert conversation.sla_policy == policy
    services.set_labels(conversation=conversation, labels=[vip_label], actor=None)
    assert fresh(conversation).sla_policy == vip
    assert fresh(conversation).first_response_due_at == T0 + 15 * MIN
    services.set_priority(conversation=fresh(conversation), priority=3, actor=None)
    assert fresh(conversation).sla_policy == urgent
    assert fresh(conversation).first_response_due_at == T0 + 10 * MIN
    assert fresh(inbound(other_account, T0).conversation).sla_policy == elsewhere


def test_breach_escalates_priority_reassigns_and_notifies_managers(
    account, team, agent, clock, monkeypatch, django_capture_on_commit_callbacks
):
    manager = UserFactory(username="mona", role="manager")
    team.members.add(manager)
    policy = SlaPolicy.objects.create(
        name="Escalating",
        first_response_seconds=600,
        escalate_to_priority=Conversation.Priority.URGENT,
        notify_managers=True,
        reassign_to=agent,
    )
    sent = []
    monkeypatch.setattr(live, "send_to_groups", lambda messages, *handler: sent.extend(messages))
    # Only what goes to people: the live events of the breach go to the account's group.
    # (The bell's notifications are the notifications app's: tests/notifications.)
    sent_to_people = lambda: [  # noqa: E731
        m for m in sent if m[0].startswith("user.") and m[1]["type"] != "inbox.notification"
    ]
    conversation = inbound(account, T0).conversation
    with django_capture_on_commit_callbacks(execute=True):
        timers.check_timers(now=T0 + 11 * MIN)
    conversation = fresh(conversation)
    assert conversation.priority == Conversation.Priority.URGENT
    assert conversation.assignee == agent
    assert sent_to_people() == [
        (
            f"user.{manager.pk}",
            {
                "type": "inbox.sla_escalation",
                "conversation": conversation.pk,
                "account": account.pk,
                "data": {"policy": policy.pk, "policy_name": "Escalating"},
            },
        )
    ]


def test_echo_from_the_platforms_tools_counts_as_a_reply(account, policy, clock):
    conversation = inbound(account, T0).conversation
    services.record_echo(
        account=account,
        event=MessageEchoed(
            platform="sandbox",
            account_external_id=account.external_id,
            timestamp=T0 + 3 * MIN,
            external_id="echo-1",
            recipient=Person(platform_user_id="cust-1"),
            text="Answered from the phone app",
        ),
    )
    conversation = fresh(conversation)
    assert conversation.first_response_due_at is None
    assert conversation.bot_enabled is False


def test_no_policy_no_timers(account, clock):
    conversation = fresh(inbound(account, T0).conversation)
    assert conversation.sla_policy is None
    assert conversation.sla_check_at is None
    assert conversation.sla_status == ""


def test_the_pass_is_a_periodic_task_on_the_sla_queue(account, policy, settings, clock):
    task_name, interval = PERIODIC_TASKS["sla-check-timers"]
    assert task_name == "sla.tasks.check_timers"
    assert interval <= 60
    assert settings.CELERY_TASK_ROUTES["sla.tasks.*"] == {"queue": "sla"}
    inbound(account, T0 - 2 * 60 * MIN)
    clock.set(T0)
    assert sla_tasks.check_timers.delay().get()["breaches"] == 1


# Not a committing test: those run last, after a browser test has left an event loop in this
# thread, where the channel layer cannot be driven synchronously.
@pytest.mark.django_db
def test_warnings_and_breaches_are_pushed_live_to_the_accounts_group(
    account, policy, clock, django_capture_on_commit_callbacks
):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    with django_capture_on_commit_callbacks(execute=True):  # the SLA listener starts the timer
        conversation = inbound(account, T0).conversation  # (its own events are pushed here)
    async_to_sync(layer.group_add)(f"account.{account.pk}", channel)
    with django_capture_on_commit_callbacks(execute=True):
        timers.check_timers(now=T0 + 61 * MIN)
    # Both events of the pass in one channel-layer message, in order.
    received = async_to_sync(layer.receive)(channel)["payloads"]
    async_to_sync(layer.group_discard)(f"account.{account.pk}", channel)
    assert [(p["type"], p["conversation"], p["data"]["target"]) for p in received] == [
        ("inbox.sla_warning", conversation.pk, "first_response"),
        ("inbox.sla_breached", conversation.pk, "first_response"),
    ]
    assert received[1]["id"] == ConversationEvent.objects.get(kind="sla_breached").pk


def test_the_inbox_list_filters_breached_conversations(client, agent, account, policy, clock):
    late = inbound(account, T0, sender="late").conversation
    on_time = inbound(account, T0 + 50 * MIN, sender="on-time").conversation
    timers.check_timers(now=T0 + 61 * MIN)
    client.force_login(agent)
    page = client.get("/", {"sla": "breached"}).content.decode()
    assert f"/conversations/{late.pk}/" in page
    assert f"/conversations/{on_time.pk}/" not in page
    assert 'value="breached" selected' in page


def test_a_teams_hours_win_over_its_accounts_and_the_default(account, team, clock):
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    default = BusinessHours.objects.create(
        name="Default", weekly={d: [["00:00", "24:00"]] for d in weekdays}, is_default=True
    )
    by_account = BusinessHours.objects.create(
        name="Account", weekly={d: [["08:00", "16:00"]] for d in weekdays}
    )
    by_account.accounts.add(account)
    by_team = BusinessHours.objects.create(
        name="Team", weekly={d: [["10:00", "18:00"]] for d in weekdays}
    )
    by_team.teams.add(team)
    conversation = fresh(inbound(account, T0).conversation)
    assert timers.hours_for(conversation) == by_account
    conversation.team = team
    assert timers.hours_for(conversation) == by_team
    by_account.accounts.clear()
    conversation.team = None
    assert timers.hours_for(conversation) == default
