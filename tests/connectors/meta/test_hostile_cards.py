"""A Messenger payload whose cards carry `javascript:` and `data:` URLs: stored as sent (nothing
a platform sends is lost), rendered in the conversation without a link."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from inbox.models import Message
from tests.connectors.meta.conftest import PSID
from tests.fakes.meta import PAGE_ID

pytestmark = pytest.mark.django_db


def test_fallback_and_share_cards_with_hostile_urls_render_no_link(
    post_meta, messenger_account, agent
):
    cards = [
        {
            "type": "fallback",
            "payload": {"url": "javascript:alert(document.cookie)", "title": "Sale"},
        },
        {"type": "fallback", "payload": {"url": "data:text/html,<script>alert(1)</script>"}},
        {"type": "share", "payload": {"url": " JavaScript:fetch('/api/v1/conversations/')"}},
    ]
    body = {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": 1767225720000,
                "messaging": [
                    {
                        "sender": {"id": PSID},
                        "recipient": {"id": PAGE_ID},
                        "timestamp": 1767225719000,
                        "message": {"mid": "m_hostile_cards", "text": "look", "attachments": cards},
                    }
                ],
            }
        ],
    }
    post_meta(json.dumps(body).encode())
    message = Message.objects.get(external_id="m_hostile_cards")
    client = Client()
    client.force_login(agent)

    html = client.get(f"/conversations/{message.conversation_id}/").content.decode()

    assert [a.url.strip()[:10].lower() for a in message.attachments.order_by("pk")] == [
        "javascript",
        "data:text/",
        "javascript",
    ]
    assert "[Sale]" in html
    links = re.findall(r'\b(?:href|src)="([^"]*)"', html)
    # "#main": the page's own "Skip to content" link.
    assert links and all(
        link == "#main" or link.startswith(("/", "?", "https://", "http://")) for link in links
    )
