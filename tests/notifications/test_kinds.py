"""What notifies whom: each kind from the domain events, never the actor, never anyone who may
not see the conversation, once per event; pushed live to the recipient alone."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.utils import timezone

from connectors.base import MessageReceived as PlatformMessage
from connectors.base import Person
from inbox import events, listeners, services
from inbox.access import user_group
from inbox.models import ConversationEvent
from notifications import services as notifications
from notifications.mentions import MAX_MENTIONS, mentioned_usernames
from notifications.models import Notification
from tests.helpers import committed, customer_writes, online, run_async
from tests.notifications.conftest import sla_pass

pytestmark = pytest.mark.django_db


def kinds(user) -> list[tuple[str, str]]:
    return [(n.kind, n.text) for n in Notification.objects.filter(user=user).order_by("id")]


@pytest.fixture
def conversation(account):
    return customer_writes(account, "cust-maya", "m-1")


def test_a_teammate_assigning_you_notifies_you_and_not_them(conversation, agent, teammate):
    with committed():
        services.assign(conversation=conversation, actor=teammate, assignee=agent)
    assert kinds(agent) == [
        ("assigned", "Bob assigned you the conversation with Cust-Maya"),
    ]
    assert kinds(teammate) == []


def test_assigning_yourself_notifies_nobody(conversation, agent):
    with committed():
        services.assign(conversation=conversation, actor=agent, assignee=agent)
    assert Notification.objects.count() == 0


def test_auto_assignment_notifies_the_agent_it_chose(account, agent, team):
    team.auto_assign = True
    team.save()
    online(agent)
    conversation = customer_writes(account, "cust-new", "m-auto")
    assert conversation.assignee == agent
    # Assigned, and not also "replied": that message is what gave it to them.
    assert [k for k, _ in kinds(agent)] == ["assigned"]
    assert "was assigned to you" in kinds(agent)[0][1]


def test_a_mention_in_a_note_notifies_the_teammate_who_may_see_it(
    conversation, agent, teammate, outsider
):
    with committed():
        services.add_note(
            conversation=conversation,
            author=teammate,
            text="@alice can you check? (not @charlie, nor @bob, nor support@alice.com) @ALICE.",
        )
    assert kinds(agent) == [
        (
            "mention",
            "Bob mentioned you (conversation with Cust-Maya): “@alice can you check? (not "
            "@charlie, nor @bob, nor support@alice.com) @ALICE.”",
        )
    ]
    # The author mentioning themself, and an agent outside the account's teams: nothing.
    assert kinds(teammate) == [] and kinds(outsider) == []


def test_a_note_without_mentions_notifies_nobody(conversation, teammate):
    with committed():
        services.add_note(conversation=conversation, author=teammate, text="Refund sent.")
    assert Notification.objects.count() == 0


def test_sla_warning_and_breach_notify_the_assignee(late_conversation, agent, teammate):
    with committed():
        services.assign(conversation=late_conversation, actor=None, assignee=agent)
    Notification.objects.all().delete()
    sla_pass(49)
    sla_pass(61)
    assert [k for k, _ in kinds(agent)] == ["sla_warning", "sla_breached"]
    assert kinds(agent)[1][1] == "SLA breached: first response for Cust-Late"
    assert kinds(teammate) == []


def test_sla_breach_of_an_unassigned_conversation_notifies_its_team(
    late_conversation, agent, teammate, outsider
):
    sla_pass(61)
    breached = Notification.objects.filter(kind="sla_breached")
    assert sorted(n.user.username for n in breached) == ["alice", "bob"]
    assert not Notification.objects.filter(user=outsider).exists()


def test_a_new_conversation_notifies_those_who_watch_its_queue(account, agent, teammate, team):
    notifications.set_preferences(
        user=agent, browser=True, sound=True, email=True, watched_teams=[team]
    )
    customer_writes(account, "cust-queue", "m-queue")
    assert kinds(agent) == [("new_conversation", "New conversation from Cust-Queue in Support")]
    assert kinds(teammate) == []  # does not watch
    # The customer's next message is not a new conversation.
    customer_writes(account, "cust-queue", "m-queue-2")
    assert len(kinds(agent)) == 1


def test_a_batch_of_messages_opening_conversations_notifies_once_each(account, agent, team):
    notifications.set_preferences(
        user=agent, browser=True, sound=True, email=True, watched_teams=[team]
    )
    batch = [
        PlatformMessage(
            platform="sandbox",
            account_external_id=account.external_id,
            timestamp=timezone.now(),
            external_id=f"m-batch-{n}",
            sender=Person(platform_user_id=f"cust-{n % 2}", name=f"Batch {n % 2}"),
            text="hello",
        )
        for n in range(4)
    ]
    with committed():
        services.receive_messages(account, batch)
    assert sorted(text for _, text in kinds(agent)) == [
        "New conversation from Batch 0 in Support",
        "New conversation from Batch 1 in Support",
    ]


def test_watching_a_team_one_is_not_in_is_refused(account, outsider, team):
    notifications.set_preferences(
        user=outsider, browser=True, sound=True, email=True, watched_teams=[team]
    )
    customer_writes(account, "cust-queue", "m-queue")
    assert kinds(outsider) == []


def test_a_customer_reply_notifies_the_agent_who_owns_the_conversation(
    account, conversation, agent, teammate
):
    with committed():
        services.assign(conversation=conversation, actor=teammate, assignee=agent)
    Notification.objects.all().delete()
    customer_writes(account, "cust-maya", "m-2")
    assert kinds(agent) == [("customer_reply", "Cust-Maya replied: “hello”")]
    assert kinds(teammate) == []


def test_each_event_notifies_once_however_often_it_is_handled(conversation, agent, teammate):
    with committed():
        services.assign(conversation=conversation, actor=teammate, assignee=agent)
    row = ConversationEvent.objects.get(kind="assigned")
    # A receipt-less second handling (as a lost receipt would) still makes nothing new.
    listeners.NOTIFICATIONS.handle([events.from_row(row)])
    assert Notification.objects.filter(user=agent).count() == 1


def test_notify_for_automation_reaches_a_team_but_not_the_actor_nor_outsiders(
    conversation, agent, teammate, outsider, team
):
    made = notifications.notify(
        [*notifications.team_members(team), outsider],
        kind=Notification.Kind.AUTOMATION,
        conversation=conversation,
        text="VIP customer waiting",
        actor=teammate,
    )
    assert [n.user for n in made] == [agent]


def test_a_notification_is_pushed_live_to_its_recipient_only(conversation, agent, teammate):
    layer = get_channel_layer()

    async def listen(group: str) -> str:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        return channel

    alice_channel = run_async(listen(user_group(agent.pk)))
    bob_channel = run_async(listen(user_group(teammate.pk)))
    with committed():
        services.assign(conversation=conversation, actor=teammate, assignee=agent)
    message = run_async(layer.receive(alice_channel))
    payload = message["payloads"][0]
    assert payload["type"] == "inbox.notification"
    assert payload["data"]["kind"] == "assigned"
    assert payload["data"]["unread"] == 1
    assert payload["conversation"] == conversation.pk

    async def nothing_for_bob():
        try:
            await asyncio.wait_for(layer.receive(bob_channel), 0.2)
        except TimeoutError:
            return True
        return False

    assert run_async(nothing_for_bob())


def test_unread_count_is_bounded(agent):
    Notification.objects.bulk_create(
        Notification(user=agent, kind="test", text="x", created_at=timezone.now())
        for _ in range(notifications.UNREAD_COUNT_CAP + 5)
    )
    assert notifications.unread_count(agent.pk) == notifications.UNREAD_COUNT_CAP


def test_mentions_are_read_from_text_safely():
    assert mentioned_usernames("@alice, @Bob. mail support@shop.com or (@carol) @alice") == [
        "alice",
        "bob",
        "carol",
    ]
    # A hostile note full of @s: a bounded list, one bounded query.
    assert len(mentioned_usernames(" ".join(f"@user{n}" for n in range(5000)))) == MAX_MENTIONS
