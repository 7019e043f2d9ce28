"""REST API v1: the public contract other tools drive Parley through."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Label, Message, Note
from tests.factories import ConversationFactory, IdentityFactory, MessageFactory
from tests.helpers import token_client

pytestmark = pytest.mark.django_db


def test_anonymous_is_refused(client):
    assert client.get("/api/v1/conversations/").status_code == 401


def test_list_shows_only_conversations_the_user_may_see(account, other_account, agent, outsider):
    mine = ConversationFactory(account=account)
    ConversationFactory(account=other_account)

    body = token_client(agent).get("/api/v1/conversations/").json()

    assert [c["id"] for c in body["results"]] == [mine.pk]
    assert body["next"] is None
    assert token_client(outsider).get("/api/v1/conversations/").json()["results"] == []


def test_conversation_fields(account, agent, team):
    identity = IdentityFactory(account=account, platform_user_id="psid-1", username="maya")
    conversation = ConversationFactory(
        account=account, contact=identity.contact, identity=identity, team=team, priority=2
    )
    conversation.labels.set(
        [Label.objects.create(name="vip"), Label.objects.create(name="billing")]
    )

    row = token_client(agent).get("/api/v1/conversations/").json()["results"][0]

    assert row == {
        "id": conversation.pk,
        "platform": "sandbox",
        "account": account.pk,
        "kind": "dm",
        "status": "open",
        "assignee": None,
        "team": "Support",
        "priority": "high",
        "labels": ["billing", "vip"],
        "snoozed_until": None,
        "contact": {
            "id": identity.contact.pk,
            "name": identity.contact.name,
            "username": "maya",
            "platform_user_id": "psid-1",
            "identities": [
                {
                    "platform": "sandbox",
                    "account": account.pk,
                    "platform_user_id": "psid-1",
                    "username": "maya",
                }
            ],
        },
        "last_message_at": None,
        "last_inbound_at": row["last_inbound_at"],
    }
    assert row["last_inbound_at"]


def test_filters_status_assignee_account_and_search(account, agent, teammate):
    open_mine = ConversationFactory(account=account, assignee=agent)
    resolved = ConversationFactory(account=account, status="resolved")
    theirs = ConversationFactory(account=account, assignee=teammate)
    MessageFactory(conversation=theirs, text="my parcel never arrived")
    client = token_client(agent)

    def ids(query):
        return {c["id"] for c in client.get(f"/api/v1/conversations/?{query}").json()["results"]}

    assert ids("status=resolved") == {resolved.pk}
    assert ids("assignee=me") == {open_mine.pk}
    assert ids("assignee=none") == {resolved.pk}
    assert ids(f"assignee={teammate.pk}") == {theirs.pk}
    assert ids(f"account={account.pk}") == {open_mine.pk, resolved.pk, theirs.pk}
    assert ids("q=parcel") == {theirs.pk}
    assert client.get("/api/v1/conversations/?account=abc").status_code == 400


def test_status_any_lists_every_status(account, agent):
    made = {
        ConversationFactory(account=account, status=status).pk
        for status in ("open", "pending", "snoozed", "resolved")
    }

    body = token_client(agent).get("/api/v1/conversations/?status=any").json()

    assert {c["id"] for c in body["results"]} == made


@pytest.mark.parametrize("query", ["status=bogus", "status=OPEN", "status=any,open"])
def test_a_status_that_is_not_a_choice_is_a_400_naming_the_field(account, agent, query):
    ConversationFactory(account=account)

    response = token_client(agent).get(f"/api/v1/conversations/?{query}")

    assert response.status_code == 400
    assert "status" in response.json()
    assert "not a valid choice" in response.json()["status"]


def test_search_text_is_capped_at_200_characters(account, agent):
    conversation = ConversationFactory(account=account)
    MessageFactory(conversation=conversation, text="a" * 200)
    client = token_client(agent)

    too_long = client.get("/api/v1/conversations/", {"q": "a" * 201})
    at_the_cap = client.get("/api/v1/conversations/", {"q": "a" * 200})

    assert too_long.status_code == 400 and "q" in too_long.json()
    assert at_the_cap.status_code == 200
    assert [c["id"] for c in at_the_cap.json()["results"]] == [conversation.pk]


def test_cursor_pagination_walks_every_conversation_once(account, agent):
    now = timezone.now()
    created = {
        ConversationFactory(account=account, last_activity_at=now - timedelta(minutes=i)).pk
        for i in range(7)
    }
    client = token_client(agent)
    seen, url = [], "/api/v1/conversations/?page_size=3"
    while url:
        body = client.get(url).json()
        seen += [c["id"] for c in body["results"]]
        url = body["next"]
    assert len(seen) == 7
    assert set(seen) == created


def test_messages_oldest_first_with_fields(account, agent):
    conversation = ConversationFactory(account=account)
    now = timezone.now()
    second = MessageFactory(conversation=conversation, text="second", sent_at=now)
    first = MessageFactory(
        conversation=conversation, text="first", sent_at=now - timedelta(minutes=1)
    )
    MessageFactory(
        conversation=conversation,
        text="secret",
        is_deleted=True,
        sent_at=now + timedelta(seconds=1),
    )

    body = token_client(agent).get(f"/api/v1/conversations/{conversation.pk}/messages/").json()

    assert [m["id"] for m in body["results"]][:2] == [first.pk, second.pk]
    message = body["results"][0]
    assert set(message) == {
        "id",
        "direction",
        "sender_kind",
        "text",
        "external_id",
        "status",
        "error",
        "attachments",
        "reactions",
        "reply_to",
        "is_deleted",
        "sent_at",
        "created_at",
    }
    assert message["direction"] == "inbound"
    assert message["status"] == "received"
    assert message["error"] is None
    assert body["results"][2]["text"] == ""  # unsent: hidden from agents
    assert body["results"][2]["is_deleted"] is True


def test_reply_is_queued_and_returned(account, agent):
    conversation = ConversationFactory(account=account)

    response = token_client(agent).post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"text": "We're on it!"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["direction"] == "outbound"
    assert response.json()["sender_kind"] == "agent"
    assert Message.objects.get(pk=response.json()["id"]).author == agent


def test_note_is_stored_and_never_sent(account, agent):
    conversation = ConversationFactory(account=account)

    response = token_client(agent).post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"text": "Customer is a VIP", "note": True},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["note"] is True
    assert Note.objects.get().text == "Customer is a VIP"
    assert Message.objects.count() == 0
    notes = token_client(agent).get(f"/api/v1/conversations/{conversation.pk}/notes/").json()
    assert [n["text"] for n in notes["results"]] == ["Customer is a VIP"]


def test_refused_reply_is_422_with_code_and_detail(account, agent):
    account.status = "disconnected"
    account.save()
    conversation = ConversationFactory(account=account)

    response = token_client(agent).post(
        f"/api/v1/conversations/{conversation.pk}/messages/", {"text": "Hello"}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["code"] == "account_disconnected"
    assert "disconnected" in response.json()["detail"]
    assert Message.objects.count() == 0


def test_conversation_of_another_account_is_404_everywhere(other_account, agent):
    conversation = ConversationFactory(account=other_account)
    client = token_client(agent)

    assert client.get(f"/api/v1/conversations/{conversation.pk}/").status_code == 404
    assert client.get(f"/api/v1/conversations/{conversation.pk}/messages/").status_code == 404
    response = client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/", {"text": "hi"}, format="json"
    )
    assert response.status_code == 404
    assert Message.objects.count() == 0


def test_events_catch_up_only_for_visible_accounts(account, other_account, agent, admin_user):
    from inbox import services

    visible = ConversationFactory(account=account)
    hidden = ConversationFactory(account=other_account)
    services.add_note(conversation=visible, author=admin_user, text="a")
    services.add_note(conversation=hidden, author=admin_user, text="b")

    events = token_client(agent).get("/api/v1/events/?after=0").json()["results"]

    assert {e["conversation"] for e in events} == {visible.pk}
    latest = token_client(admin_user).get("/api/v1/events/?latest=1").json()["latest"]
    assert latest == max(
        e["id"] for e in token_client(admin_user).get("/api/v1/events/?after=0").json()["results"]
    )


def test_inactive_users_token_stops_working(account, agent):
    client = token_client(agent)
    agent.is_active = False
    agent.save()
    assert client.get("/api/v1/conversations/").status_code == 401


def test_openapi_schema_is_served_to_a_signed_in_caller(agent):
    response = token_client(agent).get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/conversations/" in response.content


def test_openapi_schema_is_refused_to_anonymous_callers(client):
    response = client.get("/api/schema/")
    assert response.status_code in (401, 403)
    assert b"/api/v1/" not in response.content
