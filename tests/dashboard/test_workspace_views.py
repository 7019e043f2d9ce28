"""The workspace around the thread, server side: the list beside the conversation, the next
conversation after resolving (a per-agent preference), rows that name their account, and the
favicon and web app manifest every browser asks for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from inbox.models import Conversation
from tests.factories import AccountFactory, ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def three(account):
    """Three open conversations, newest first: Ana, Ben, Cleo."""
    now = timezone.now()
    return [
        ConversationFactory(
            account=account,
            contact=ContactFactory(name=name),
            last_activity_at=now - timedelta(minutes=minutes),
        )
        for name, minutes in (("Ana", 1), ("Ben", 2), ("Cleo", 3))
    ]


def test_conversation_page_lists_the_agents_last_list_beside_the_thread(three, agent):
    client = login(agent)
    client.get("/?q=Cleo")  # the agent's list: a search
    page = client.get(f"/conversations/{three[0].pk}/").content.decode()
    pane = page.split('id="conversation-rows"')[1].split("</ul>")[0]
    assert "Cleo" in pane and "Ben" not in pane
    assert 'href="/?q=Cleo"' in page  # back to that list, not to a fresh one
    client.get("/")
    page = client.get(f"/conversations/{three[0].pk}/").content.decode()
    pane = page.split('id="conversation-rows"')[1].split("</ul>")[0]
    assert all(name in pane for name in ("Ana", "Ben", "Cleo"))


def test_resolving_opens_the_next_conversation_of_the_list(three, agent):
    client = login(agent)
    client.get("/")
    ana, ben, cleo = three
    response = client.post(
        f"/conversations/{ben.pk}/actions/",
        {"action": "status", "status": "resolved"},
        HTTP_HX_REQUEST="true",
    )
    assert response["HX-Redirect"] == f"/conversations/{cleo.pk}/"
    ben.refresh_from_db()
    assert ben.status == Conversation.Status.RESOLVED
    # The last row of the list: the one above it opens. Without htmx: a plain redirect.
    response = client.post(f"/conversations/{cleo.pk}/actions/", {"action": "resolve"})
    assert response.status_code == 302 and response["Location"] == f"/conversations/{ana.pk}/"
    # The last one left: nothing to open, the page stays.
    response = client.post(
        f"/conversations/{ana.pk}/actions/", {"action": "resolve"}, HTTP_HX_REQUEST="true"
    )
    assert "HX-Redirect" not in response and 'data-status="resolved"' in response.text


def test_resolving_from_the_list_stays_on_the_list_and_offers_the_undo(three, agent):
    # `e` on a list row posts stay=1: nothing opens, and the answer carries the undo offer.
    client = login(agent)
    client.get("/")
    ben = three[1]
    response = client.post(
        f"/conversations/{ben.pk}/actions/",
        {"action": "resolve", "stay": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "HX-Redirect" not in response
    assert "Undo" in response.text
    ben.refresh_from_db()
    assert ben.status == Conversation.Status.RESOLVED


def test_with_the_preference_off_resolving_stays_on_the_conversation(three, agent):
    client = login(agent)
    page = client.get(f"/conversations/{three[0].pk}/").content.decode()
    assert 'id="open-next" checked' in page  # on by default
    response = client.post("/preferences/", {"next": "/"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    agent.refresh_from_db()
    assert agent.open_next_after_resolve is False
    response = client.post(
        f"/conversations/{three[0].pk}/actions/", {"action": "resolve"}, HTTP_HX_REQUEST="true"
    )
    assert "HX-Redirect" not in response and 'data-status="resolved"' in response.text
    assert 'id="open-next" checked' not in response.text
    client.post("/preferences/", {"open_next_after_resolve": "1", "next": "/"})
    agent.refresh_from_db()
    assert agent.open_next_after_resolve is True


def test_a_failed_resolve_opens_nothing(three, agent, outsider):
    response = login(outsider).post(f"/conversations/{three[0].pk}/actions/", {"action": "resolve"})
    assert response.status_code == 404


def test_rows_and_header_say_which_brand_and_platform(team, agent):
    north = AccountFactory(platform="messenger", name="Northwind Outfitters")
    kestrel = AccountFactory(platform="instagram", name="Kestrel Coffee")
    team.accounts.add(north, kestrel)
    kenjis = [
        ConversationFactory(account=a, contact=ContactFactory(name="Kenji Watanabe"))
        for a in (north, kestrel)
    ]
    page = login(agent).get("/").content.decode()
    rows = {c.pk: page.split(f'id="row-{c.pk}"')[1].split("</li>")[0] for c in kenjis}
    assert "Messenger · Northwind Outfitters" in rows[kenjis[0].pk]
    assert "Instagram · Kestrel Coffee" in rows[kenjis[1].pk]
    header = login(agent).get(f"/conversations/{kenjis[1].pk}/").content.decode()
    assert (
        "Instagram · Kestrel Coffee" in header.split('class="conv-head"')[1].split("</header>")[0]
    )


def test_account_names_in_rows_are_escaped(team, agent):
    account = AccountFactory(platform="messenger", name="<b>Shop</b>")
    team.accounts.add(account)
    ConversationFactory(account=account)
    page = login(agent).get("/").content.decode()
    assert "&lt;b&gt;Shop&lt;/b&gt;" in page and "<b>Shop</b>" not in page


def test_favicon_and_manifest_are_served_without_a_login(client):
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon["Content-Type"] == "image/x-icon"
    assert b"".join(favicon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert client.head("/favicon.ico").status_code == 200  # link checkers and caches ask HEAD
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest["Content-Type"] == "application/manifest+json"
    data = manifest.json()
    assert data["start_url"] == "/" and data["display"] == "standalone"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in data["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200
        assert b"".join(image.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_page_links_the_icons_and_keeps_the_keyboard_from_covering_the_composer(client):
    page = client.get("/login/").content.decode()
    assert 'rel="icon" href="/favicon.ico"' in page
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    assert "interactive-widget=resizes-content" in page
