"""Actions, in order, through the services an agent's click uses (events, pushes, listeners)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from automation import outlets
from automation.models import RuleRun
from inbox import services
from inbox.models import Conversation, ConversationEvent, Message, SavedReply, Team
from tests.factories import AccountFactory, ConversationFactory, UserFactory
from tests.helpers import committed, online

pytestmark = pytest.mark.django_db


def test_labels_added_and_removed_in_order(account, labels, make_rule, write):
    make_rule(
        actions=[
            {"type": "add_label", "value": "vip"},
            {"type": "add_label", "value": "urgent"},
            {"type": "remove_label", "value": "vip"},
        ]
    )
    conversation = write(account, "hi")
    assert set(conversation.labels.values_list("name", flat=True)) == {"urgent"}


def test_set_team_keeps_the_agent(account, team, agent, labels, make_rule, write):
    billing = Team.objects.create(name="Billing")
    billing.accounts.add(account)
    conversation = write(account, "hi")
    Conversation.objects.filter(pk=conversation.pk).update(assignee=agent)
    make_rule(actions=[{"type": "set_team", "value": "Billing"}])
    conversation = write(account, "invoice?")
    assert conversation.team == billing and conversation.assignee == agent


def test_a_team_that_does_not_handle_the_account_is_refused_and_said(
    account, labels, make_rule, write
):
    Team.objects.create(name="Elsewhere")
    rule = make_rule(actions=[{"type": "set_team", "value": "Elsewhere"}])
    conversation = write(account, "hi")
    assert conversation.team is None
    run = RuleRun.objects.get(rule=rule)
    assert run.results[0]["ok"] is False
    assert "does not handle this account" in run.results[0]["detail"]
    assert "does not handle this account" in conversation.notes.get().text


def test_assign_to_an_agent_by_username(account, agent, labels, make_rule, write):
    make_rule(actions=[{"type": "assign", "value": "alice"}])
    conversation = write(account, "hi")
    assert conversation.assignee == agent
    event = ConversationEvent.objects.get(conversation=conversation, kind="assigned")
    assert event.data["to"] == agent.pk and event.actor_id is None


def test_assign_refuses_someone_who_cannot_see_the_conversation(
    account, outsider, labels, make_rule, write
):
    rule = make_rule(actions=[{"type": "assign", "value": outsider.pk}])
    conversation = write(account, "hi")
    assert conversation.assignee is None
    assert "cannot see this conversation" in RuleRun.objects.get(rule=rule).results[0]["detail"]


def test_round_robin_and_unassign(account, team, agent, teammate, labels, make_rule, write):
    online(agent, teammate)
    Conversation.objects.all().delete()
    rule = make_rule(
        actions=[
            {"type": "set_team", "value": "Support"},
            {"type": "assign", "value": "round_robin"},
        ]
    )
    first = write(account, "hi", sender="ann")
    second = write(account, "hi", sender="ben")
    assert {first.assignee, second.assignee} == {agent, teammate}
    rule.enabled = False
    rule.save()
    make_rule(trigger="labels_changed", actions=[{"type": "assign", "value": None}])
    with committed():
        services.set_labels(conversation=first, labels=[labels["vip"]], actor=None)
    first.refresh_from_db()
    assert first.assignee is None


def test_priority_snooze_and_resolve(account, labels, make_rule, write):
    rule = make_rule(
        actions=[
            {"type": "set_priority", "value": "urgent"},
            {"type": "snooze", "value": 60},
        ]
    )
    conversation = write(account, "hi")
    assert conversation.priority == Conversation.Priority.URGENT
    assert conversation.status == Conversation.Status.SNOOZED
    assert conversation.snoozed_until > timezone.now() + timedelta(minutes=59)
    rule.enabled = False
    rule.save()
    make_rule(actions=[{"type": "resolve"}])
    conversation = write(account, "never mind, solved")
    assert conversation.status == Conversation.Status.RESOLVED


def test_private_note(account, labels, make_rule, write):
    make_rule(name="Greeter", actions=[{"type": "add_note", "value": "VIP customer: be quick"}])
    conversation = write(account, "hi")
    note = conversation.notes.get()
    assert note.text == "Automation “Greeter”: VIP customer: be quick"


def test_saved_reply_goes_out_through_the_policy_engine(account, agent, labels, make_rule, write):
    SavedReply.objects.create(
        shortcut="thanks",
        title="Thanks",
        text="Thanks {{contact.first_name}}! {{agent.first_name}}",
    )
    make_rule(actions=[{"type": "send_saved_reply", "value": "thanks"}])
    conversation = write(account, "hi", sender="ann")
    reply = Message.objects.get(conversation=conversation, direction="outbound")
    assert reply.text == "Thanks Ann! Maria"  # nobody assigned: the rule's author signs
    # Automated: the bot's sender kind (never the human-agent tag), no author.
    assert reply.sender_kind == Message.SenderKind.BOT and reply.author is None
    Conversation.objects.filter(pk=conversation.pk).update(assignee=agent)
    write(account, "hi again", sender="ann")
    latest = Message.objects.filter(conversation=conversation, direction="outbound").latest("id")
    assert latest.text == "Thanks Ann! Alice"  # the conversation's agent signs


def test_saved_reply_outside_the_window_is_refused_with_the_reason(labels, agent, make_rule):
    SavedReply.objects.create(shortcut="thanks", title="Thanks", text="Thanks!")
    messenger = AccountFactory(platform="messenger")
    conversation = ConversationFactory(
        account=messenger, last_inbound_at=timezone.now() - timedelta(days=2)
    )
    rule = make_rule("assigned", actions=[{"type": "send_saved_reply", "value": "thanks"}])
    with committed():
        services.assign(conversation=conversation, actor=agent, assignee=agent)
    assert not Message.objects.filter(conversation=conversation).exists()
    result = RuleRun.objects.get(rule=rule).results[0]
    assert result["ok"] is False and "cannot answer on Messenger" in result["detail"]
    note = conversation.notes.get()
    assert "could not do everything" in note.text and "cannot answer on Messenger" in note.text


def test_stop_the_bot(account, labels, make_rule, write):
    make_rule(actions=[{"type": "stop_bot"}])
    conversation = write(account, "hi")
    assert conversation.bot_enabled is False
    assert ConversationEvent.objects.filter(conversation=conversation, kind="bot_handoff").exists()


@pytest.fixture
def fake_notifications(monkeypatch):
    """Helper D's agreed functions, recorded (the app is merged by the lead)."""
    sent: list[dict] = []

    def notify(recipients, *, kind, conversation, text, actor=None):
        sent.append({"to": sorted(u.username for u in recipients), "kind": kind, "text": text})
        return []

    module = SimpleNamespace(notify=notify, team_members=lambda team: list(team.members.all()))
    monkeypatch.setattr(outlets, "notifications", module)
    return sent


def test_notify_users_and_a_team(
    account, agent, teammate, labels, make_rule, write, fake_notifications
):
    lead = UserFactory(username="lead")
    make_rule(
        actions=[
            {"type": "notify", "value": {"users": [lead.pk], "teams": ["Support"], "text": "VIP!"}}
        ]
    )
    write(account, "hi")
    assert fake_notifications == [
        {"to": ["alice", "bob", "lead", "maria"], "kind": "automation", "text": "VIP!"}
    ]


def test_notify_without_the_notifications_app_is_refused_not_silent(
    account, agent, labels, make_rule, write, monkeypatch
):
    monkeypatch.setattr(outlets, "notifications", None)
    rule = make_rule(actions=[{"type": "notify", "value": {"users": [agent.pk], "text": "hi"}}])
    write(account, "hi")
    assert RuleRun.objects.get(rule=rule).results[0] == {
        "type": "notify",
        "ok": False,
        "detail": "Notifications are not installed here.",
    }


def test_outbound_webhook(account, labels, make_rule, write, monkeypatch):
    queued: list[tuple] = []
    monkeypatch.setattr(
        outlets,
        "outbound_webhooks",
        SimpleNamespace(
            send_to_subscription=lambda sid, *, event, data: queued.append((sid, event, data))
        ),
    )
    make_rule(name="Tell CRM", actions=[{"type": "webhook", "value": {"subscription": 7}}])
    conversation = write(account, "hi")
    [(subscription, event, data)] = queued
    assert subscription == 7 and event == "automation.matched"
    assert data["rule"] == "Tell CRM" and data["conversation"]["id"] == conversation.pk
