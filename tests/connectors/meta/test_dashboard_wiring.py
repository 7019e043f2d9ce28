"""What agents do on the dashboard reaches Meta: "seen" when a conversation is opened, "typing"
while an agent types, and a comment answered publicly or with its one private reply."""

from __future__ import annotations

import pytest
from asgiref.testing import ApplicationCommunicator

from inbox.consumers import InboxConsumer
from inbox.models import Conversation, Message
from tests.connectors.meta import test_send
from tests.connectors.meta.conftest import PSID
from tests.factories import ConversationFactory
from tests.helpers import run_async

pytestmark = pytest.mark.django_db

_dm = test_send._dm
ig_comment = test_send.ig_comment  # the fixture: an Instagram comment posted an hour ago


def test_opening_a_messenger_conversation_marks_it_seen(
    client, agent, messenger_account, fake_platforms, django_capture_on_commit_callbacks
):
    conversation = _dm(messenger_account, PSID)
    client.force_login(agent)

    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(f"/conversations/{conversation.pk}/").status_code == 200

    (sent,) = fake_platforms.sent("POST", r"/messages$")
    assert sent.json() == {"recipient": {"id": PSID}, "sender_action": "mark_seen"}


def test_opening_a_sandbox_conversation_calls_no_platform(
    client, agent, account, fake_platforms, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(account=account)
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(f"/conversations/{conversation.pk}/").status_code == 200
    assert fake_platforms.requests == []


@pytest.mark.django_db(transaction=True)
def test_an_agent_typing_is_shown_to_the_customer_where_enabled(
    agent, messenger_account, fake_platforms, settings
):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    messenger_account.options = {"typing_indicators": True}
    messenger_account.save()
    conversation = _dm(messenger_account, PSID)

    async def type_twice():
        socket = ApplicationCommunicator(
            InboxConsumer.as_asgi(), {"type": "websocket", "user": agent, "path": "/ws/inbox/"}
        )
        await socket.send_input({"type": "websocket.connect"})
        await socket.receive_output(2)
        for _ in range(2):
            text = f'{{"type": "typing", "conversation": {conversation.pk}}}'
            await socket.send_input({"type": "websocket.receive", "text": text})
        await socket.send_input({"type": "websocket.disconnect", "code": 1000})
        await socket.wait(2)

    run_async(type_twice())

    # Typing twice within seconds tells the platform once.
    sent = fake_platforms.sent("POST", r"/messages$")
    assert [r.json()["sender_action"] for r in sent] == ["typing_on"]


@pytest.mark.django_db(transaction=True)
def test_typing_reaches_the_platform_once_per_conversation_across_sockets(
    agent, teammate, messenger_account, fake_platforms, settings
):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    messenger_account.options = {"typing_indicators": True}
    messenger_account.save()
    conversation = _dm(messenger_account, PSID)
    other = _dm(messenger_account, "other-psid")

    async def type_in_many_tabs():
        # Two agents, three tabs: each socket is a consumer of its own, as in separate processes.
        sockets = []
        for user in (agent, agent, teammate):
            socket = ApplicationCommunicator(
                InboxConsumer.as_asgi(), {"type": "websocket", "user": user, "path": "/ws/inbox/"}
            )
            await socket.send_input({"type": "websocket.connect"})
            await socket.receive_output(2)
            sockets.append(socket)
        for socket in sockets:
            for pk in (conversation.pk, other.pk):
                text = f'{{"type": "typing", "conversation": {pk}}}'
                await socket.send_input({"type": "websocket.receive", "text": text})
        for socket in sockets:
            await socket.send_input({"type": "websocket.disconnect", "code": 1000})
            await socket.wait(2)

    run_async(type_in_many_tabs())

    sent = fake_platforms.sent("POST", r"/messages$")
    assert sorted((r.json()["recipient"]["id"], r.json()["sender_action"]) for r in sent) == [
        (PSID, "typing_on"),
        ("other-psid", "typing_on"),
    ]


def test_comment_answered_publicly_from_the_composer(
    client, agent, ig_comment, fake_platforms, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    conversation = ig_comment.conversation
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Private reply (one DM to the author)" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/conversations/{conversation.pk}/reply/",
            {"text": "It's $24!", "reply_to_comment": "public"},
            headers={"HX-Request": "true"},
        )

    (sent,) = fake_platforms.sent("POST", r"/replies$")
    assert sent.json() == {"message": "It's $24!"}
    reply = Message.objects.get(text="It's $24!")
    assert reply.reply_to == ig_comment


def test_comment_taken_to_a_private_dm_once(
    client, agent, ig_comment, fake_platforms, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    url = f"/conversations/{ig_comment.conversation_id}/reply/"
    data = {"text": "Let's sort this out in DMs", "reply_to_comment": "private"}

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, data, headers={"HX-Request": "true"})
    second = client.post(url, {**data, "text": "Again"}, headers={"HX-Request": "true"})

    assert first["X-Parley-Result"] == "200"
    dm = Conversation.objects.get(origin=ig_comment.conversation)
    assert dm.kind == Conversation.Kind.DM
    assert dm.messages.get().text == "Let's sort this out in DMs"
    assert second["X-Parley-Result"] == "422"
    assert "already had its one private reply" in second.content.decode()
    assert not Message.objects.filter(text="Again").exists()
