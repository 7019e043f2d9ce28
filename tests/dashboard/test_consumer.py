"""The socket's collision-detection relay and presence bookkeeping: only people who may see a
conversation hear who is viewing or typing it."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from inbox import live
from inbox.access import account_group
from inbox.consumers import InboxConsumer
from inbox.models import AgentPresence
from tests.factories import ConversationFactory
from tests.helpers import run_async


@pytest.fixture
def memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


class Socket(ApplicationCommunicator):
    """A websocket client for the consumer (channels.testing needs daphne, which we lack)."""

    def __init__(self, user):
        scope = {"type": "websocket", "path": "/ws/inbox/", "headers": [], "user": user}
        super().__init__(InboxConsumer.as_asgi(), scope)

    async def send_json_to(self, data) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def close(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(2)


async def connect(user) -> Socket:
    socket = Socket(user)
    await socket.send_input({"type": "websocket.connect"})
    assert (await socket.receive_output(2))["type"] == "websocket.accept"
    return socket


async def drain(socket: Socket, timeout: float = 0.3) -> list[dict]:
    received = []
    while not await socket.receive_nothing(timeout):
        received.append(json.loads((await socket.receive_output(1))["text"]))
    return received


@pytest.mark.django_db(transaction=True)
def test_viewing_and_typing_reach_teammates_but_not_outsiders(
    memory_layer, account, agent, teammate, outsider
):
    conversation = ConversationFactory(account=account)

    async def scenario():
        alice, bob, charlie = [await connect(u) for u in (agent, teammate, outsider)]
        # Bob has the conversation open; Charlie tries to listen in on it.
        await bob.send_json_to({"type": "viewing", "conversation": conversation.pk})
        await charlie.send_json_to({"type": "viewing", "conversation": conversation.pk})
        await drain(bob)
        await alice.send_json_to(
            {"type": "viewing", "conversation": conversation.pk, "hello": True}
        )
        await alice.send_json_to({"type": "typing", "conversation": conversation.pk})
        heard_by_bob = await drain(bob)
        heard_by_charlie = await drain(charlie)
        # Charlie cannot announce himself on a conversation he may not see either.
        await charlie.send_json_to({"type": "typing", "conversation": conversation.pk})
        await charlie.send_json_to({"type": "viewing", "conversation": "not-an-id"})
        after_charlie = await drain(bob)
        presence = await database_sync_to_async(
            lambda: dict(AgentPresence.objects.values_list("user__username", "connections"))
        )()
        await alice.close()
        left = await drain(bob)
        for communicator in (bob, charlie):
            await communicator.close()
        return heard_by_bob, heard_by_charlie, after_charlie, presence, left

    heard_by_bob, heard_by_charlie, after_charlie, presence, left = run_async(scenario())

    assert [(e["state"], e["name"], e["hello"]) for e in heard_by_bob] == [
        ("viewing", "Alice", True),
        ("typing", "Alice", False),
    ]
    assert heard_by_charlie == [] and after_charlie == []
    assert presence == {"alice": 1, "bob": 1, "charlie": 1}
    assert [e["state"] for e in left] == ["left"]
    assert AgentPresence.objects.get(user=agent).connections == 0


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_events_reaches_the_socket_in_order_in_few_layer_messages(
    memory_layer, account, agent
):
    group = account_group(account.pk)
    burst = [{"type": "inbox.message_received", "id": n} for n in range(450)]

    async def scenario():
        layer = get_channel_layer()
        listener = await layer.new_channel()
        await layer.group_add(group, listener)
        socket = await connect(agent)
        # An ingest batch's events, as the services publish them on commit.
        await sync_to_async(live.send_to_groups)([(group, payload) for payload in burst])
        carried = [(await layer.receive(listener))["payloads"] for _ in range(3)]
        frames = await drain(socket)
        await socket.close()
        return carried, frames

    carried, frames = run_async(scenario())

    assert [len(payloads) for payloads in carried] == [200, 200, 50]
    assert [p for payloads in carried for p in payloads] == burst
    assert frames == burst
