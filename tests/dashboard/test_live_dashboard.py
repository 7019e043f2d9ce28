"""The dashboard end to end in headless Chromium, against uvicorn + PostgreSQL + Redis + a real
Celery worker: live rows, saved replies, delivery ticks, collision detection, catch-up after a
dropped socket, escaping, and an outsider who sees nothing."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from inbox.models import Label, Message, SavedReply
from tests.factories import PASSWORD, ContactFactory, ConversationFactory
from tests.helpers import sandbox_body, sandbox_headers, wait_for
from tests.live import ARTIFACTS

pytestmark = [pytest.mark.live, pytest.mark.browser]


def post(url: str, account, body: bytes) -> None:
    response = requests.post(
        f"{url}/webhooks/sandbox/{account.pk}/",
        data=body,
        headers=sandbox_headers(account.credentials["secret"], body),
        timeout=10,
    )
    assert response.status_code == 200


def delivery_body(message_ids: list[str]) -> bytes:
    return json.dumps(
        {
            "id": f"d-{uuid.uuid4().hex}",
            "type": "delivery",
            "recipient": {"id": "cust-priya"},
            "message_ids": message_ids,
            "timestamp": int(time.time() * 1000),
        }
    ).encode()


def populate_inbox(account, agent, teammate) -> None:
    """A few read conversations so the list (and its screenshot) looks lived in."""
    now = timezone.now()
    vip, refund = (
        Label.objects.create(name="vip", color="#7c3aed"),
        Label.objects.create(name="refund", color="#dc2626"),
    )
    rows = [
        ("Sam Lee", "Thanks, the parcel arrived!", agent, 1, None, [vip], 40),
        ("Noor Haddad", "Can I return the blue jacket?", teammate, 2, 95, [refund], 95),
        ("Ivan Novak", "Is the store open on Sunday?", None, 1, 180, [], 180),
        ("Ana Silva", "My order #4412 is late", None, 3, 300, [refund, vip], 300),
    ]
    for name, preview, assignee, priority, waiting, labels, minutes in rows:
        conversation = ConversationFactory(
            account=account,
            contact=ContactFactory(name=name),
            assignee=assignee,
            priority=priority,
            last_message_preview=preview,
            last_activity_at=now - timedelta(minutes=minutes),
            waiting_since=now - timedelta(minutes=waiting) if waiting else None,
        )
        conversation.labels.set(labels)


def log_in(chromium, url: str, user):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#live-status[data-state=live]")
    return context, page, alerts


def test_agent_triages_and_replies_live_while_others_see_only_what_they_may(
    live_server_process, celery_worker_process, chromium, account, agent, teammate, outsider
):
    url = live_server_process.url
    SavedReply.objects.create(
        shortcut="stock",
        title="In stock",
        text="Hi {{contact.first_name}}, {{agent.first_name}} here: yes, it is in stock!",
    )
    populate_inbox(account, agent, teammate)
    alice_ctx, alice, alice_alerts = log_in(chromium, url, agent)
    charlie_ctx, charlie, charlie_alerts = log_in(chromium, url, outsider)
    # Everything Charlie's socket delivers is recorded: it must stay empty.
    charlie.evaluate(
        "window.__heard = []; document.addEventListener('parley:event',"
        " (e) => window.__heard.push(e.detail))"
    )

    # A signed webhook: the conversation appears at the top of Alice's list, unread.
    post(url, account, sandbox_body(sender_id="cust-priya", name="Priya Raman", text="Green coat?"))
    row = alice.locator("#conversation-rows li.row", has_text="Priya Raman")
    row.wait_for(timeout=10_000)
    assert alice.locator("#conversation-rows li.row").first.get_attribute("data-unread") == "1"
    assert alice.title().startswith("(1) ")
    conversation_id = int(row.get_attribute("data-conversation"))

    # The socket drops; a message arrives meanwhile; the page reconnects and catches up.
    alice.evaluate("window.Parley.dropConnection()")
    post(url, account, sandbox_body(sender_id="cust-priya", name="Priya Raman", text="Size M?"))
    alice.locator("#live-status[data-state=live]").wait_for(timeout=10_000)
    alice.locator("#conversation-rows li.row", has_text="Size M?").wait_for(timeout=10_000)
    alice.screenshot(path=str(ARTIFACTS / "dashboard.png"))

    # Bob opens the same conversation: each sees the other, and Alice sees Bob typing.
    bob_ctx, bob, _ = log_in(chromium, url, teammate)
    # Search as you type (full-text on PostgreSQL); the box keeps the focus.
    alice.fill("#search", "noor ha")
    alice.wait_for_function(
        "() => document.querySelectorAll('#conversation-rows li.row').length === 1"
    )
    assert "Noor Haddad" in alice.locator("#conversation-rows").inner_text()
    assert alice.evaluate("document.activeElement.id") == "search"
    alice.fill("#search", "")
    row.wait_for()
    alice.keyboard.press("Escape")

    # Keyboard: j selects the top row (Priya's, the newest), Enter opens it.
    alice.keyboard.press("j")
    assert "selected" in row.get_attribute("class")
    alice.keyboard.press("Enter")
    alice.wait_for_url(f"**/conversations/{conversation_id}/")
    alice.wait_for_selector("#live-status[data-state=live]")
    bob.goto(f"{url}/conversations/{conversation_id}/")
    alice.locator("#collision", has_text="Bob is viewing").wait_for(timeout=10_000)
    bob.locator("#collision", has_text="Alice is viewing").wait_for(timeout=10_000)
    bob.fill("#composer-text", "")
    bob.type("#composer-text", "Let me check")
    alice.locator("#collision", has_text="Bob is typing a reply").wait_for(timeout=10_000)

    # Customer text is text, never markup.
    post(
        url,
        account,
        sandbox_body(
            sender_id="cust-priya", name="Priya Raman", text="<img src=x onerror=alert(1)>"
        ),
    )
    alice.locator("#thread", has_text="<img src=x onerror=alert(1)>").wait_for(timeout=10_000)
    assert alice.locator("#thread img[src=x]").count() == 0

    # Saved reply through the `/` picker, variables filled in, sent with Enter.
    alice.keyboard.press("/")  # the shortcut: focus the composer, open the picker
    alice.keyboard.type("sto")
    option = alice.locator("#saved-picker .saved", has_text="/stock")
    option.wait_for()
    alice.keyboard.press("Enter")
    expected = "Hi Priya, Alice here: yes, it is in stock!"
    assert alice.input_value("#composer-text") == expected
    alice.keyboard.press("Enter")
    sent = wait_for(
        lambda: (
            Message.objects.filter(text=expected, status="sent").exclude(external_id=None).first()
        )
    )
    mine = alice.locator(f"#message-{sent.pk} .tick")
    mine.and_(alice.locator("[data-status=sent]")).wait_for(timeout=10_000)

    # The platform's delivery receipt moves the tick, live.
    post(url, account, delivery_body([sent.external_id]))
    alice.locator(f"#message-{sent.pk} .tick[data-status=delivered]").wait_for(timeout=10_000)
    assert "✓✓" in mine.inner_text()
    alice.screenshot(path=str(ARTIFACTS / "dashboard-conversation.png"), full_page=True)

    # Charlie, in no team: nothing in his list, 404 on the URL, nothing over the socket.
    assert charlie.evaluate("window.__heard") == []
    charlie.reload()
    assert charlie.locator("#conversation-rows li.row").count() == 0
    response = charlie.goto(f"{url}/conversations/{conversation_id}/")
    assert response.status == 404
    assert alice_alerts == [] and charlie_alerts == []
    for context in (alice_ctx, bob_ctx, charlie_ctx):
        context.close()
