"""Hostile JSON in the REST API's bodies and the inbox list's cursor: a 400 or a first page,
never a 500."""

from __future__ import annotations

import base64

import pytest

from inbox.models import Note
from tests.factories import ConversationFactory
from tests.helpers import token_client as api

pytestmark = pytest.mark.django_db

NESTED = "[" * 50_000 + "]" * 50_000


def test_deeply_nested_json_body_is_400(account, agent):
    conversation = ConversationFactory(account=account)

    response = api(agent).post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        data='{"text": "hi", "note": true, "x": ' + NESTED + "}",
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert not Note.objects.exists()


def test_deeply_nested_inbox_cursor_shows_the_first_page(client, account, agent):
    conversation = ConversationFactory(account=account)
    cursor = base64.urlsafe_b64encode(("[" * 5000).encode()).decode().rstrip("=")
    client.force_login(agent)

    response = client.get("/", {"cursor": cursor})

    assert response.status_code == 200
    assert f"/conversations/{conversation.pk}/" in response.content.decode()
