"""Order and "stop processing", loop protection, at most once per event, dry run, hit counts
and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from automation import engine, services, spec
from automation.models import Rule, RuleRun
from inbox import listeners
from inbox.events import from_row
from inbox.models import Conversation, ConversationEvent
from inbox.settings_area.models import AuditLog
from tests.factories import ConversationFactory, MessageFactory
from tests.helpers import committed

pytestmark = pytest.mark.django_db


def test_rules_run_in_order_and_stop_processing_ends_the_pass(account, labels, make_rule, write):
    first = make_rule(name="first", actions=[{"type": "set_priority", "value": "low"}])
    second = make_rule(
        name="second", actions=[{"type": "set_priority", "value": "high"}], stop_processing=True
    )
    third = make_rule(name="third", actions=[{"type": "add_label", "value": "vip"}])
    conversation = write(account, "hi")
    assert conversation.priority == Conversation.Priority.HIGH  # the later rule wrote last
    assert not conversation.labels.exists()
    assert [r.hits for r in Rule.objects.order_by("position")] == [1, 1, 0]
    # Moving the third first: it runs before the stopping rule.
    services.move_rule(actor=first.created_by, rule=third, offset=-1)
    services.move_rule(actor=first.created_by, rule=third, offset=-1)
    assert list(Rule.objects.values_list("name", flat=True)) == ["third", "first", "second"]
    conversation = write(account, "again")
    assert set(conversation.labels.values_list("name", flat=True)) == {"vip"}
    second.refresh_from_db()
    assert second.hits == 2


def test_a_rule_is_not_set_off_by_its_own_actions(account, agent, labels, make_rule, write):
    # Labels changed → add a label (a label change): without protection, it would loop.
    rule = make_rule("labels_changed", actions=[{"type": "add_label", "value": "billing"}])
    conversation = write(account, "hi")
    with committed():
        from inbox import services as inbox_services

        inbox_services.set_labels(conversation=conversation, labels=[labels["vip"]], actor=agent)
    rule.refresh_from_db()
    assert rule.hits == 1
    assert set(conversation.labels.values_list("name", flat=True)) == {"vip", "billing"}


def test_two_rules_setting_each_other_off_stop(account, agent, labels, make_rule, write):
    # A: labels changed → priority high; B: priority… is not a trigger; use status ping-pong:
    # A: status changed to pending → resolve; B: status changed to resolved → set pending.
    a = make_rule(
        "status_changed",
        name="A",
        conditions=[{"field": "status", "operator": "equals", "value": "pending"}],
        actions=[{"type": "resolve"}],
    )
    b = make_rule(
        "status_changed",
        name="B",
        conditions=[{"field": "status", "operator": "equals", "value": "resolved"}],
        actions=[{"type": "snooze", "value": 5}],
    )
    c = make_rule(
        "status_changed",
        name="C",
        conditions=[{"field": "status", "operator": "equals", "value": "snoozed"}],
        actions=[{"type": "add_note", "value": "snoozed by B"}],
    )
    conversation = write(account, "hi")
    from inbox import services as inbox_services

    with committed():
        inbox_services.change_status(conversation=conversation, status="pending", actor=agent)
    a.refresh_from_db(), b.refresh_from_db(), c.refresh_from_db()
    assert (a.hits, b.hits, c.hits) == (1, 1, 1)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.SNOOZED
    chain = ConversationEvent.objects.filter(kind="note_added").get().data["caused_by"]
    assert chain == {"rules": [a.pk, b.pk, c.pk]}


def test_each_rule_runs_at_most_once_per_event(account, labels, make_rule, write):
    rule = make_rule(actions=[{"type": "add_note", "value": "once"}])
    conversation = write(account, "hi")
    row = ConversationEvent.objects.get(conversation=conversation, kind="message_received")
    # The listener handed the same event again (a sweep after a lost receipt, a retried task).
    with committed():
        engine.on_events([from_row(row)])
    with committed():
        listeners.handle([from_row(row)])
    rule.refresh_from_db()
    assert rule.hits == 1
    assert conversation.notes.count() == 1
    assert RuleRun.objects.filter(rule=rule, event_id=row.pk).count() == 1


def test_two_passes_racing_on_one_event_run_the_rule_once(
    account, labels, make_rule, write, monkeypatch
):
    rule = make_rule(actions=[{"type": "add_note", "value": "once"}])
    conversation = write(account, "hi")
    row = ConversationEvent.objects.get(conversation=conversation, kind="message_received")
    # The second pass did not see the first one's run when it looked (a race): the unique run
    # undoes its actions.
    monkeypatch.setattr(engine, "_already_ran", lambda *a, **k: set())
    with committed():
        engine.on_events([from_row(row)])
    assert conversation.notes.count() == 1
    rule.refresh_from_db()
    assert rule.hits == 1


def test_a_broken_rule_does_not_stop_the_others(account, labels, make_rule, write, monkeypatch):
    broken = make_rule(name="broken", actions=[{"type": "add_note", "value": "x"}])
    fine = make_rule(name="fine", actions=[{"type": "add_label", "value": "vip"}])
    real = engine.actions.perform

    def perform(step, conversation, runner, *, now):
        if runner.rule_name == "broken":
            raise RuntimeError("boom")
        return real(step, conversation, runner, now=now)

    monkeypatch.setattr(engine.actions, "perform", perform)
    conversation = write(account, "hi")
    broken.refresh_from_db(), fine.refresh_from_db()
    assert (broken.hits, fine.hits) == (0, 1)
    assert set(conversation.labels.values_list("name", flat=True)) == {"vip"}


def _message(account, text: str, *, days_ago: float):
    conversation = ConversationFactory(account=account)
    at = timezone.now() - timedelta(days=days_ago)
    message = MessageFactory(conversation=conversation, text=text, sent_at=at, created_at=at)
    ConversationEvent.objects.create(
        conversation=conversation,
        account=account,
        kind="message_received",
        data={"message": message.pk},
        created_at=at,
    )
    return conversation


def test_dry_run_shows_what_would_have_matched_and_changes_nothing(account, labels, manager):
    hit = _message(account, "I need a refund", days_ago=2)
    _message(account, "hello", days_ago=1)
    _message(account, "refund again", days_ago=9)  # older than the window
    clean = spec.clean_rule(
        {
            "name": "refunds",
            "trigger": "message_received",
            "conditions": [{"field": "text", "operator": "contains", "value": "refund"}],
            "actions": [{"type": "add_label", "value": "billing"}],
        }
    )
    result = engine.dry_run(clean)
    assert (result.scanned, result.matched) == (2, 1)
    assert result.examples[0]["conversation"] == hit.pk
    assert not hit.labels.exists()
    assert not RuleRun.objects.exists()


def test_a_dry_run_stops_at_its_time_budget(account, labels, monkeypatch):
    _message(account, "refund", days_ago=1)
    monkeypatch.setattr(engine, "DRY_RUN_SECONDS", -1.0)
    clean = spec.clean_rule(
        {"name": "r", "trigger": "message_received", "actions": [{"type": "resolve"}]}
    )
    result = engine.dry_run(clean)
    assert result.truncated and result.scanned == 0


def test_dry_run_of_no_reply_and_pending(account, agent, labels):
    waited = _message(account, "anyone?", days_ago=1)
    answered = _message(account, "hello?", days_ago=1)
    MessageFactory(
        conversation=answered,
        direction="outbound",
        sender_kind="agent",
        status="sent",
        sent_at=timezone.now() - timedelta(days=1) + timedelta(minutes=5),
    )
    clean = spec.clean_rule(
        {"name": "slow", "trigger": {"no_reply_minutes": 30}, "actions": [{"type": "resolve"}]}
    )
    result = engine.dry_run(clean)
    assert [e["conversation"] for e in result.examples] == [waited.pk]

    ConversationEvent.objects.create(
        conversation=answered,
        account=account,
        kind="status_changed",
        data={"from": "open", "to": "pending"},
        created_at=timezone.now() - timedelta(days=4),
    )
    clean = spec.clean_rule(
        {"name": "stale", "trigger": {"pending_days": 3}, "actions": [{"type": "resolve"}]}
    )
    result = engine.dry_run(clean)
    assert [e["conversation"] for e in result.examples] == [answered.pk]


def test_every_change_is_audited(manager, labels):
    rule = services.create_rule(
        actor=manager,
        data={"name": "R", "trigger": "assigned", "actions": [{"type": "resolve"}]},
    )
    services.update_rule(actor=manager, rule=rule, data={"enabled": False, "name": "R2"})
    services.move_rule(actor=manager, rule=rule, offset=1)
    services.delete_rule(actor=manager, rule=rule)
    entries = list(AuditLog.objects.filter(target_type="automation_rule").order_by("id"))
    assert [e.action for e in entries] == [
        "automation_rule.created",
        "automation_rule.changed",
        "automation_rule.deleted",
    ]
    assert entries[1].changes["enabled"] == [True, False]
    assert entries[1].changes["name"] == ["R", "R2"]
    assert all(e.actor == manager for e in entries)
    macro = services.save_macro(
        actor=manager, name="Close", actions_raw=[{"type": "resolve"}], shared=True
    )
    services.delete_macro(actor=manager, macro=macro)
    assert list(
        AuditLog.objects.filter(target_type="macro").order_by("id").values_list("action", flat=True)
    ) == [
        "macro.created",
        "macro.deleted",
    ]


def test_agents_may_not_change_rules(agent):
    with pytest.raises(services.NotAllowed):
        services.create_rule(
            actor=agent, data={"name": "R", "trigger": "assigned", "actions": [{"type": "resolve"}]}
        )
