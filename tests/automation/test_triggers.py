"""Each trigger sets its rules off, once, after the change is committed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from automation import engine
from automation.models import Rule, RuleRun
from inbox import services
from inbox.models import Conversation, ConversationEvent
from sla.models import BusinessHours
from tests.helpers import committed

pytestmark = pytest.mark.django_db


def label_names(conversation: Conversation) -> set[str]:
    return set(conversation.labels.values_list("name", flat=True))


def test_message_received_runs_the_rule_and_counts_a_hit(account, labels, make_rule, write):
    rule = make_rule("message_received")
    conversation = write(account, "hello there")
    assert label_names(conversation) == {"billing"}
    rule.refresh_from_db()
    assert rule.hits == 1 and rule.last_hit_at is not None
    run = RuleRun.objects.get(rule=rule)
    assert run.results == [{"type": "add_label", "ok": True, "detail": "done"}]
    # The label went on through the service: the conversation's log says so, with the cause.
    event = ConversationEvent.objects.get(conversation=conversation, kind="labels_changed")
    assert event.data["caused_by"] == {"rules": [rule.pk]}
    assert event.actor_id is None


def test_a_second_message_is_a_second_hit(account, labels, make_rule, write):
    rule = make_rule("message_received", actions=[{"type": "set_priority", "value": "high"}])
    write(account, "one")
    conversation = write(account, "two")
    rule.refresh_from_db()
    assert rule.hits == 2
    assert conversation.priority == Conversation.Priority.HIGH


def test_disabled_rules_do_not_run(account, labels, make_rule, write):
    rule = make_rule("message_received", enabled=False)
    conversation = write(account, "hello")
    assert label_names(conversation) == set()
    rule.refresh_from_db()
    assert rule.hits == 0


def test_conversation_opened_runs_once_for_a_new_conversation(account, labels, make_rule, write):
    rule = make_rule("conversation_opened", actions=[{"type": "add_label", "value": "vip"}])
    write(account, "first")
    conversation = write(account, "second, same thread")
    assert label_names(conversation) == {"vip"}
    rule.refresh_from_db()
    assert rule.hits == 1


def test_status_changed(account, labels, agent, make_rule, write):
    rule = make_rule(
        "status_changed",
        conditions=[{"field": "status", "operator": "equals", "value": "resolved"}],
        actions=[{"type": "add_label", "value": "vip"}],
    )
    conversation = write(account, "hello")
    with committed():
        services.change_status(conversation=conversation, status="pending", actor=agent)
    assert label_names(conversation) == set()
    with committed():
        services.change_status(conversation=conversation, status="resolved", actor=agent)
    assert label_names(conversation) == {"vip"}
    rule.refresh_from_db()
    assert rule.hits == 1


def test_labels_changed(account, labels, agent, make_rule, write):
    make_rule(
        "labels_changed",
        conditions=[{"field": "label", "operator": "contains", "value": "vip"}],
        actions=[{"type": "set_priority", "value": "urgent"}],
    )
    conversation = write(account, "hello")
    with committed():
        services.set_labels(conversation=conversation, labels=[labels["vip"]], actor=agent)
    conversation.refresh_from_db()
    assert conversation.priority == Conversation.Priority.URGENT


def test_assigned(account, labels, agent, make_rule, write):
    make_rule("assigned", actions=[{"type": "add_note", "value": "Say hello to the customer"}])
    conversation = write(account, "hello")
    with committed():
        services.assign(conversation=conversation, actor=agent, assignee=agent)
    note = conversation.notes.get()
    assert note.text == "Automation “A rule”: Say hello to the customer"
    assert note.author is None


def _waiting(conversation: Conversation, minutes: int) -> None:
    since = timezone.now() - timedelta(minutes=minutes)
    Conversation.objects.filter(pk=conversation.pk).update(waiting_since=since)


def test_no_reply_for_n_minutes_on_the_wall_clock(account, labels, make_rule, write):
    rule = make_rule({"no_reply_minutes": 30}, actions=[{"type": "set_priority", "value": "high"}])
    conversation = write(account, "anyone?")
    _waiting(conversation, 10)
    assert engine.run_time_rules() == 0
    _waiting(conversation, 31)
    with committed():
        assert engine.run_time_rules() == 1
    conversation.refresh_from_db()
    assert conversation.priority == Conversation.Priority.HIGH
    # The same waiting stretch never sets it off twice.
    with committed():
        assert engine.run_time_rules() == 0
    rule.refresh_from_db()
    assert rule.hits == 1


def test_an_answered_conversation_is_not_waiting(account, labels, agent, make_rule, write):
    make_rule({"no_reply_minutes": 30})
    conversation = write(account, "anyone?")
    _waiting(conversation, 31)
    conversation.refresh_from_db()
    with committed():
        services.queue_reply(conversation=conversation, text="Here!", author=agent)
    assert engine.run_time_rules() == 0


def test_no_reply_in_business_hours_counts_only_open_time(account, labels, make_rule, write):
    # Closed every day: no business time ever passes, however long the customer waits.
    hours = BusinessHours.objects.create(name="Never", time_zone="UTC", weekly={}, is_default=True)
    make_rule({"no_reply_minutes": 30, "business_hours": True})
    conversation = write(account, "anyone?")
    _waiting(conversation, 600)
    assert engine.run_time_rules() == 0
    # Open around the clock: the wall-clock wait counts.
    hours.weekly = {
        d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    hours.save()
    with committed():
        assert engine.run_time_rules() == 1
    assert label_names(conversation) == {"billing"}


def test_pending_for_n_days(account, labels, agent, make_rule, write):
    rule = make_rule({"pending_days": 3}, actions=[{"type": "resolve"}])
    conversation = write(account, "thanks, I'll check")
    with committed():
        services.change_status(conversation=conversation, status="pending", actor=agent)
    assert engine.run_time_rules() == 0
    ConversationEvent.objects.filter(conversation=conversation, kind="status_changed").update(
        created_at=timezone.now() - timedelta(days=3, minutes=1)
    )
    with committed():
        assert engine.run_time_rules() == 1
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.RESOLVED
    assert Rule.objects.get(pk=rule.pk).hits == 1


def test_the_time_pass_is_a_periodic_task_of_beat_and_the_embedded_scheduler():
    from parley import scheduler
    from parley.celery import PERIODIC_TASKS, app

    assert PERIODIC_TASKS["automation-time-rules"][0] == "automation.tasks.run_time_rules"
    assert (
        app.conf.beat_schedule["automation-time-rules"]["task"] == "automation.tasks.run_time_rules"
    )
    assert "automation-time-rules" in scheduler.Scheduler()._periodic
