"""Macros: every step checked before any runs; a step that cannot run says why and nothing
half-runs; shared and personal; the conversation's Macros menu."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from automation import services, spec
from automation.models import Macro
from inbox.models import Conversation, ConversationEvent, Message, SavedReply
from tests.factories import AccountFactory, ConversationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(account):
    return ConversationFactory(account=account)


def macro(owner, steps, *, shared=False, name="Tidy up") -> Macro:
    return services.save_macro(actor=owner, name=name, actions_raw=steps, shared=shared)


def test_a_macro_runs_its_steps_as_the_agent(conversation, agent, labels):
    SavedReply.objects.create(
        shortcut="bye", title="Bye", text="Bye {{contact.first_name}}, {{agent.first_name}}"
    )
    m = macro(
        agent,
        [
            {"type": "add_label", "value": "billing"},
            {"type": "send_saved_reply", "value": "bye"},
            {"type": "resolve"},
        ],
    )
    done = services.run_macro(macro=m, conversation=conversation, user=agent)
    assert len(done) == 3
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.RESOLVED
    reply = Message.objects.get(conversation=conversation, direction="outbound")
    assert reply.author == agent and reply.sender_kind == "agent" and reply.text.endswith("Alice")
    assert set(
        ConversationEvent.objects.filter(conversation=conversation).values_list("actor", flat=True)
    ) == {agent.pk}


def test_a_step_that_cannot_run_says_why_and_nothing_runs(agent, labels):
    SavedReply.objects.create(shortcut="bye", title="Bye", text="Bye")
    messenger = AccountFactory(platform="messenger")
    agent.teams.first().accounts.add(messenger)
    closed = ConversationFactory(
        account=messenger, last_inbound_at=timezone.now() - timedelta(days=9)
    )
    m = macro(
        agent,
        [
            {"type": "add_label", "value": "billing"},
            {"type": "send_saved_reply", "value": "bye"},
            {"type": "resolve"},
        ],
    )
    with pytest.raises(services.MacroRefused) as refused:
        services.run_macro(macro=m, conversation=closed, user=agent)
    [problem] = refused.value.problems
    assert problem.index == 1 and "no longer accepts a reply" in problem.detail
    closed.refresh_from_db()
    assert closed.status == Conversation.Status.OPEN
    assert not closed.labels.exists()
    assert not ConversationEvent.objects.filter(conversation=closed).exists()


def test_a_failure_after_the_checks_undoes_the_earlier_steps(
    conversation, agent, labels, monkeypatch
):
    from automation import actions

    m = macro(agent, [{"type": "add_label", "value": "billing"}, {"type": "resolve"}])
    real = actions.perform

    def perform(step, conversation, runner, *, now):
        if step["type"] == "resolve":
            raise actions.StepRefused("someone resolved it meanwhile")
        return real(step, conversation, runner, now=now)

    monkeypatch.setattr(actions, "perform", perform)
    with pytest.raises(services.MacroRefused, match="meanwhile"):
        services.run_macro(macro=m, conversation=conversation, user=agent)
    assert not conversation.labels.exists()
    assert not ConversationEvent.objects.filter(conversation=conversation).exists()


def test_agents_keep_personal_macros_and_only_managers_share(agent, teammate, manager, labels):
    mine = macro(agent, [{"type": "resolve"}])
    assert not mine.shared
    with pytest.raises(services.NotAllowed):
        macro(agent, [{"type": "resolve"}], shared=True)
    shared = macro(manager, [{"type": "resolve"}], shared=True, name="Close")
    assert list(services.macros_for(agent)) == [shared, mine]
    assert list(services.macros_for(teammate)) == [shared]
    with pytest.raises(services.NotAllowed):
        services.save_macro(
            actor=teammate, name="x", actions_raw=[{"type": "resolve"}], shared=False, macro=mine
        )


def test_macro_steps_are_validated(agent):
    with pytest.raises(spec.Invalid, match="No label"):
        macro(agent, [{"type": "add_label", "value": "ghost"}])


def test_webhook_steps_are_for_admins(conversation, agent, monkeypatch):
    from types import SimpleNamespace

    from automation import outlets

    monkeypatch.setattr(
        outlets, "outbound_webhooks", SimpleNamespace(send_to_subscription=lambda *a, **k: None)
    )
    m = macro(agent, [{"type": "webhook", "value": {"subscription": 1}}])
    problems = services.check_macro(macro=m, conversation=conversation, user=agent)
    assert [p.detail for p in problems] == ["Only admins may send outbound webhooks."]


def test_the_conversation_menu_runs_a_macro(client, conversation, agent, labels):
    m = macro(agent, [{"type": "add_label", "value": "vip"}], name="Make VIP")
    client.force_login(agent)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert 'id="macro-menu"' in page and "Make VIP" in page
    response = client.post(f"/conversations/{conversation.pk}/macros/{m.pk}/run/", follow=True)
    assert "Macro “Make VIP” ran." in response.content.decode()
    assert set(conversation.labels.values_list("name", flat=True)) == {"vip"}


def test_the_picker_lists_macros_with_what_cannot_run(
    client, conversation, agent, outsider, labels
):
    macro(agent, [{"type": "assign", "value": outsider.pk}], name="Give away")
    client.force_login(agent)
    [entry] = client.get(f"/conversations/{conversation.pk}/macros/").json()["results"]
    assert entry["name"] == "Give away"
    assert entry["problems"] == [f"assign {outsider.pk}: Charlie cannot see this conversation."]
    client.force_login(outsider)
    assert client.get(f"/conversations/{conversation.pk}/macros/").status_code == 404
