"""What agents see and do: the SLA badge, the consent state, stopping and giving back the bot."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from chatbot import engine
from inbox.models import Contact, Conversation, ConversationEvent
from sla.models import SlaPolicy
from tests.factories import ConversationFactory


def test_conversation_page_shows_sla_due_time_consent_and_bot_state(client, agent, account):
    conversation = ConversationFactory(account=account)
    due = timezone.now() + timedelta(minutes=12, seconds=30)
    Conversation.objects.filter(pk=conversation.pk).update(
        sla_policy=SlaPolicy.objects.create(name="Std", first_response_seconds=3600),
        sla_status="ok",
        sla_due_at=due,
        bot_enabled=False,
    )
    Contact.objects.filter(pk=conversation.contact_id).update(
        marketing_consent="opted_out", marketing_consent_source="keyword “stop”"
    )
    client.force_login(agent)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert 'id="sla-badge"' in page and "due in 12" in page
    assert "Promotions: opted out" in page
    assert 'id="bot-on"' in page and "bot off" in page

    Conversation.objects.filter(pk=conversation.pk).update(sla_status="breached")
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert "SLA breached" in page


def test_agent_gives_the_conversation_back_to_the_bot_and_takes_it_again(client, agent, account):
    conversation = ConversationFactory(account=account)
    engine.hand_off(conversation, reason={"by": "bot"})
    client.force_login(agent)
    url = f"/conversations/{conversation.pk}/actions/"

    client.post(url, {"action": "bot", "enabled": "1"})
    assert Conversation.objects.get(pk=conversation.pk).bot_enabled is True
    resumed = ConversationEvent.objects.get(
        conversation=conversation, kind=ConversationEvent.Kind.BOT_RESUMED
    )
    assert resumed.actor == agent

    client.post(url, {"action": "bot", "enabled": "0"})
    assert Conversation.objects.get(pk=conversation.pk).bot_enabled is False
    assert (
        ConversationEvent.objects.filter(
            conversation=conversation, kind=ConversationEvent.Kind.BOT_HANDOFF
        ).count()
        == 2
    )


def test_an_outsider_cannot_touch_the_bot_of_a_conversation(client, outsider, account):
    conversation = ConversationFactory(account=account, bot_enabled=False)
    client.force_login(outsider)
    response = client.post(
        f"/conversations/{conversation.pk}/actions/", {"action": "bot", "enabled": "1"}
    )
    assert response.status_code == 404
    assert Conversation.objects.get(pk=conversation.pk).bot_enabled is False
