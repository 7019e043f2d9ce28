"""Public to private on X: mentions in as comment conversations, a public reply post out
(``POST /2/tweets``), and the move to a DM (a public invitation, then the customer's DM linked by
origin) — through the real webhook view, the dashboard and the fake X API."""

from __future__ import annotations

import json

import pytest

from inbox.models import Conversation, Message
from tests.connectors.x.conftest import ACCOUNT_ID, CUSTOMER_ID, fixture_bytes, post_x
from tests.helpers import committed

pytestmark = pytest.mark.django_db

MENTION = "x_aaa_tweet_create_events__mention.json"
MENTION_ID = "1879300000000000001"


def _mention_body(**changes) -> bytes:
    body = json.loads(fixture_bytes(MENTION))
    body["tweet_create_events"][0].update(changes)
    return json.dumps(body).encode()


@pytest.fixture
def mention(client, x_account, x_api) -> Conversation:
    assert post_x(client, fixture_bytes(MENTION)).status_code == 200
    return Conversation.objects.select_related("account", "contact").get()


def _reply(client, conversation: Conversation, text: str, choice: str):
    with committed():
        return client.post(
            f"/conversations/{conversation.pk}/reply/",
            {"text": text, "reply_to_comment": choice},
            headers={"HX-Request": "true"},
        )


def test_account_activity_mention_becomes_a_comment_conversation(client, x_account, x_api):
    assert post_x(client, fixture_bytes(MENTION)).status_code == 200
    post_x(client, fixture_bytes(MENTION))  # X may deliver twice

    conversation = Conversation.objects.get()
    assert conversation.kind == Conversation.Kind.COMMENT
    assert conversation.external_thread_id == f"post:{MENTION_ID}"
    message = conversation.messages.get()
    assert message.external_id == MENTION_ID
    assert message.text == (
        "@examplemugs_help my mug arrived cracked and nobody answers. Not happy "
        "https://example.com/order/1042"
    )
    assert message.metadata["post"]["url"] == f"https://x.com/danarivera/status/{MENTION_ID}"
    assert message.sender_identity.username == "danarivera"
    assert conversation.contact.name == "Dana Rivera"


def test_x_activity_mention_becomes_a_comment_conversation(client, x_account, x_api):
    assert post_x(client, fixture_bytes("x_xaa_post_mention_create.json")).status_code == 200

    conversation = Conversation.objects.get()
    assert conversation.kind == Conversation.Kind.COMMENT
    assert conversation.external_thread_id == "post:1879300000000000002"
    message = conversation.messages.get()
    assert message.text == "hey @examplemugs_help where is my order?"
    assert message.sender_identity.username == "samokafor"
    assert message.sender_identity.name == "Sam Okafor"


@pytest.mark.parametrize(
    "changes",
    [
        # The account's own post (Parley's public reply coming back).
        {"user": {"id_str": ACCOUNT_ID, "screen_name": "examplemugs_help"}},
        # A retweet of a mention is not someone writing to the account.
        {"retweeted_status": {"id_str": "1"}},
        # A post that neither mentions nor answers the account.
        {"entities": {"user_mentions": []}},
    ],
)
def test_posts_that_are_not_customers_writing_are_ignored(client, x_account, x_api, changes):
    assert post_x(client, _mention_body(**changes)).status_code == 200
    assert not Conversation.objects.exists()


def test_mention_from_a_blocked_user_is_ignored(client, x_account, x_api):
    body = json.loads(fixture_bytes(MENTION))
    body["user_has_blocked"] = "true"
    assert post_x(client, json.dumps(body).encode()).status_code == 200
    assert not Conversation.objects.exists()


def test_negative_mention_answered_publicly_with_a_reply_post(client, agent, mention, x_api):
    client.force_login(agent)
    page = client.get(f"/conversations/{mention.pk}/").content.decode()
    assert "A public reply under the customer" in page

    response = _reply(client, mention, "Sorry Dana! A new mug is on its way.", "public")

    assert response["X-Parley-Result"] == "200"
    (sent,) = x_api.sent("POST", r"^/x/2/tweets$")
    assert sent.json() == {
        "text": "Sorry Dana! A new mug is on its way.",
        "reply": {"in_reply_to_tweet_id": MENTION_ID},
    }
    assert sent.headers["authorization"] == "Bearer x-token"
    reply = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert reply.status == Message.Status.SENT
    assert reply.external_id and reply.external_id.isdigit()
    assert reply.reply_to.external_id == MENTION_ID
    assert not x_api.sent("POST", r"dm_conversations")


def test_a_public_reply_longer_than_a_post_is_refused_before_sending(client, agent, mention, x_api):
    client.force_login(agent)

    response = _reply(client, mention, "x" * 281, "public")

    assert response["X-Parley-Result"] == "422"
    assert "at most 280 characters" in response.content.decode()
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()
    assert not x_api.sent("POST", r"^/x/2/tweets$")


def test_our_reply_post_coming_back_makes_no_message(client, agent, mention, x_api):
    client.force_login(agent)
    _reply(client, mention, "On it!", "public")
    reply = Message.objects.get(direction=Message.Direction.OUTBOUND)

    echo = _mention_body(
        id_str=reply.external_id,
        user={"id_str": ACCOUNT_ID, "screen_name": "examplemugs_help"},
        in_reply_to_status_id_str=MENTION_ID,
    )
    post_x(client, echo)

    assert mention.messages.count() == 2


def test_move_to_dm_invites_publicly_then_links_the_customers_dm(client, agent, mention, x_api):
    client.force_login(agent)

    response = _reply(
        client, mention, "We're sorry! Please send us a DM with your order number.", "invite_dm"
    )

    assert response["X-Parley-Result"] == "200"
    (sent,) = x_api.sent("POST", r"^/x/2/tweets$")
    assert sent.json()["reply"] == {"in_reply_to_tweet_id": MENTION_ID}
    mention.refresh_from_db()
    assert mention.metadata["dm_invite"]["pending"] is True
    page = client.get(f"/conversations/{mention.pk}/").content.decode()
    assert "Invited to write a DM" in page
    # Nothing private is sent before the customer writes.
    assert not x_api.sent("POST", r"dm_conversations")

    # The customer writes a DM (same X user as the mention).
    post_x(client, fixture_bytes("x_aaa_direct_message_event.json"))

    dm = Conversation.objects.get(kind=Conversation.Kind.DM)
    assert dm.origin_id == mention.pk
    assert dm.contact_id == mention.contact_id
    mention.refresh_from_db()
    assert mention.metadata["dm_invite"] == {**mention.metadata["dm_invite"], "pending": False}
    assert mention.metadata["dm_invite"]["dm"] == dm.pk
    page = client.get(f"/conversations/{dm.pk}/").content.decode()
    assert f"/conversations/{mention.pk}/" in page  # "Started from a public comment"

    # The agent answers in the DM: a DM, not a post.
    with committed():
        client.post(
            f"/conversations/{dm.pk}/reply/",
            {"text": "Got it, replacement sent."},
            headers={"HX-Request": "true"},
        )
    assert x_api.sent("POST", rf"^/x/2/dm_conversations/with/{CUSTOMER_ID}/messages$")
    assert len(x_api.sent("POST", r"^/x/2/tweets$")) == 1


def test_a_dm_without_an_invitation_is_not_linked(client, x_account, x_api):
    post_x(client, fixture_bytes(MENTION))
    post_x(client, fixture_bytes("x_aaa_direct_message_event.json"))

    assert Conversation.objects.get(kind=Conversation.Kind.DM).origin_id is None


def test_an_agent_without_access_cannot_answer_a_mention(client, outsider, mention, x_api):
    client.force_login(outsider)

    response = _reply(client, mention, "Hello", "invite_dm")

    assert response.status_code == 404
    assert not x_api.sent("POST", r"^/x/2/tweets$")
    mention.refresh_from_db()
    assert "dm_invite" not in mention.metadata


def test_an_existing_dm_thread_is_linked_when_the_invited_customer_writes_again(
    client, agent, x_account, x_api
):
    post_x(client, fixture_bytes("x_aaa_direct_message_event.json"))  # an older DM thread
    post_x(client, fixture_bytes(MENTION))
    mention = Conversation.objects.get(kind=Conversation.Kind.COMMENT)
    client.force_login(agent)
    _reply(client, mention, "Please DM us!", "invite_dm")

    body = json.loads(fixture_bytes("x_aaa_direct_message_event.json"))
    body["direct_message_events"][0]["id"] = "1879234567890999999"
    post_x(client, json.dumps(body).encode())

    dm = Conversation.objects.get(kind=Conversation.Kind.DM)
    assert dm.origin_id == mention.pk
    assert dm.messages.count() == 2


def test_an_invitation_older_than_30_days_links_nothing(client, agent, mention, x_api):
    client.force_login(agent)
    _reply(client, mention, "Please DM us!", "invite_dm")
    mention.refresh_from_db()
    invitation = {**mention.metadata["dm_invite"], "at": "2020-01-01T00:00:00+00:00"}
    Conversation.objects.filter(pk=mention.pk).update(
        metadata={**mention.metadata, "dm_invite": invitation}
    )

    post_x(client, fixture_bytes("x_aaa_direct_message_event.json"))

    assert Conversation.objects.get(kind=Conversation.Kind.DM).origin_id is None
