"""The socket's collision-detection relay and presence bookkeeping: only people who may see a
conversation hear who is viewing or typing it."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from inbox import consumers, live
from inbox.access import account_group
from inbox.consumers import SOCKET_MESSAGES_PER_WINDOW, InboxConsumer
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


@pytest.mark.django_db(transaction=True)
def test_a_socket_flooding_messages_is_closed_and_logged(memory_layer, account, agent, caplog):
    async def scenario():
        socket = await connect(agent)
        for _ in range(SOCKET_MESSAGES_PER_WINDOW):
            await socket.send_json_to({"type": "not-a-thing"})
        within_limit = await socket.receive_nothing(0.3)
        await socket.send_json_to({"type": "not-a-thing"})
        closed = await socket.receive_output(2)
        await socket.close()
        return within_limit, closed

    within_limit, closed = run_async(scenario())

    assert within_limit is True  # a busy page is not cut off
    assert closed == {"type": "websocket.close", "code": 4429}
    assert f"over {SOCKET_MESSAGES_PER_WINDOW} messages" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_hostile_frames_are_ignored_and_the_socket_keeps_working(
    memory_layer, account, agent, teammate, caplog
):
    conversation = ConversationFactory(account=account)

    async def scenario():
        alice, bob = await connect(agent), await connect(teammate)
        await bob.send_json_to({"type": "viewing", "conversation": conversation.pk})
        for text in ("not json", "[[[[", "[" * 5000 + "]" * 5000, '"just a string"', "null"):
            await alice.send_input({"type": "websocket.receive", "text": text})
        await alice.send_input({"type": "websocket.receive", "bytes": b"\x00\x01"})
        await drain(bob)
        await alice.send_json_to({"type": "typing", "conversation": conversation.pk})
        heard = await drain(bob)
        for socket in (alice, bob):
            await socket.close()
        return heard

    heard = run_async(scenario())

    assert [(e["state"], e["name"]) for e in heard] == [("typing", "Alice")]
    assert "frame ignored (not JSON)" in caplog.text
    assert "frame ignored (binary, empty or too long)" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_socket_remembers_a_bounded_number_of_conversations(
    memory_layer, monkeypatch, account, other_account, agent, teammate
):
    """What a socket remembers of conversation access is bounded: a client naming thousands of
    conversations cannot grow it, and an old answer is looked up again once it is dropped."""
    monkeypatch.setattr(consumers, "SOCKET_MESSAGES_PER_WINDOW", 10_000)
    conversation = ConversationFactory(account=account)

    async def scenario():
        alice, bob = await connect(agent), await connect(teammate)
        await bob.send_json_to({"type": "viewing", "conversation": conversation.pk})
        await alice.send_json_to({"type": "viewing", "conversation": conversation.pk})
        await drain(bob)
        # The conversation moves to an account Alice's team does not see.
        await database_sync_to_async(
            lambda: (
                type(conversation).objects.filter(pk=conversation.pk).update(account=other_account)
            )
        )()
        for missing in range(10**6, 10**6 + consumers.SOCKET_REMEMBERED_CONVERSATIONS):
            await alice.send_json_to({"type": "viewing", "conversation": missing})
        await alice.send_json_to({"type": "typing", "conversation": conversation.pk})
        heard = await drain(bob)
        for socket in (alice, bob):
            await socket.close()
        return heard

    heard = run_async(scenario())

    assert [e for e in heard if e["state"] == "typing"] == []
