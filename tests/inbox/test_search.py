"""One search serves the inbox list and the API: the same q finds the same conversations."""

from __future__ import annotations

import re

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inbox.models import Conversation
from tests.factories import ContactFactory, ConversationFactory, IdentityFactory, MessageFactory

pytestmark = pytest.mark.django_db

ROW = re.compile(r'id="row-(\d+)"')


@pytest.fixture
def cast(account, other_account):
    """Conversations a search could find, each by one thing, and some it must not find."""
    made = {
        "name": ConversationFactory(account=account, contact=ContactFactory(name="Priya Raman")),
        "resolved": ConversationFactory(
            account=account,
            status=Conversation.Status.RESOLVED,
            contact=ContactFactory(name="Kenji Watanabe"),
        ),
        "text": ConversationFactory(account=account),
        "deleted_text": ConversationFactory(account=account),
        "username": ConversationFactory(account=account, identity=None),
        "hidden": ConversationFactory(
            account=other_account, contact=ContactFactory(name="Priya Hidden")
        ),
    }
    MessageFactory(conversation=made["text"], text="Is the green coat in stock?")
    MessageFactory(conversation=made["deleted_text"], text="my parcel, green", is_deleted=True)
    made["username"].participants.set([IdentityFactory(account=account, username="coatlover99")])
    return made


def list_ids(client, q: str) -> set[int]:
    return {int(pk) for pk in ROW.findall(client.get("/", {"q": q}).content.decode())}


def api_ids(user, q: str) -> set[int]:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return {c["id"] for c in client.get("/api/v1/conversations/", {"q": q}).json()["results"]}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("priya", {"name"}),
        ("kenji", {"resolved"}),
        ("green coat", {"text"}),
        ("green", {"text"}),
        ("parcel", set()),  # only in a deleted message
        ("coatlover", {"username"}),
        ("hidden", set()),  # on an account the agent does not see
        ("' | & !:*", set()),  # operators in user text are only text
    ],
)
def test_the_list_and_the_api_find_the_same_conversations(client, agent, cast, q, expected):
    client.force_login(agent)
    want = {cast[name].pk for name in expected}

    assert list_ids(client, q) == want
    assert api_ids(agent, q) == want
