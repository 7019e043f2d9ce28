"""One search serves the inbox list and the API: the same q finds the same conversations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inbox import selectors
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


@pytest.mark.parametrize("sort", ["activity", "waiting"])
@pytest.mark.parametrize(("window", "windows"), [(1, 4), (3, 1), (3, 4), (50, 4)])
def test_the_lists_search_pages_in_order_however_far_the_matches_are(
    agent, account, monkeypatch, sort, window, windows
):
    """The list's search probes windows of the list's rows first, then turns to the sets of
    what matches: walking the list when the windows found some, starting from the matches when
    they found none. Wherever the windows end, the pages give every match once, in order."""
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", window)
    monkeypatch.setattr(selectors, "SEARCH_WINDOWS", windows)
    now = timezone.now()
    made = [
        ConversationFactory(
            account=account,
            last_activity_at=now - timedelta(minutes=i),
            waiting_since=now - timedelta(hours=i),
        )
        for i in range(9)
    ]
    for c in made:
        MessageFactory(conversation=c, text="hello there")
    MessageFactory(conversation=made[2], text="the green coat")
    MessageFactory(conversation=made[3], text="green?")
    made[5].contact.name = "Greenaway Jones"
    made[5].contact.save()
    made[7].participants.add(IdentityFactory(account=account, username="greenfan"))
    MessageFactory(conversation=made[8], text="green", is_deleted=True)  # not found
    wanted = [made[i].pk for i in (2, 3, 5, 7)]
    if sort == "waiting":
        wanted.reverse()  # oldest waiting first

    pages, cursor = [], ""
    while True:
        filters = selectors.ListFilters.from_query(
            QueryDict(f"q=green&sort={sort}&cursor={cursor}")
        )
        result = selectors.conversation_page(agent, filters, page_size=2)
        pages.append([c.pk for c in result.rows])
        cursor = result.next_cursor
        if not cursor:
            break

    assert [pk for rows in pages for pk in rows] == wanted
    assert all(len(rows) == 2 for rows in pages[:-1])
