"""The real stack end to end: a Celery worker on Redis, websockets through channels-redis, and
an agent's browser — the foundation every later feature stands on."""

from __future__ import annotations

import asyncio
import json

import pytest
import requests
import websockets
from django.test import Client

from inbox.models import Message, WebhookEvent
from tests.factories import PASSWORD
from tests.helpers import run_async, sandbox_body, sandbox_headers, wait_for

pytestmark = pytest.mark.live


def post_live(url: str, account, body: bytes) -> requests.Response:
    return requests.post(
        f"{url}/webhooks/sandbox/{account.pk}/",
        data=body,
        headers=sandbox_headers(account.credentials["secret"], body),
        timeout=10,
    )


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def receive_events(url: str, cookie: str | None, trigger, timeout: float) -> list[dict]:
    return run_async(_receive(url, cookie, trigger, timeout))


async def _receive(url: str, cookie: str | None, trigger, timeout: float) -> list[dict]:
    """Open a socket (as the cookie's user), run ``trigger``, collect events for ``timeout``."""
    ws_url = url.replace("http://", "ws://") + "/ws/inbox/"
    headers = {"Origin": url}
    if cookie:
        headers["Cookie"] = f"sessionid={cookie}"
    received: list[dict] = []
    try:
        async with websockets.connect(ws_url, additional_headers=headers) as socket:
            await asyncio.to_thread(trigger)
            try:
                while True:
                    received.append(json.loads(await asyncio.wait_for(socket.recv(), timeout)))
            except TimeoutError:
                pass
    except websockets.exceptions.InvalidStatus:
        return [{"refused": True}]
    except websockets.exceptions.ConnectionClosed as closed:
        received.append({"closed": closed.rcvd.code if closed.rcvd else None})
    return received


def test_real_celery_worker_processes_a_webhook_through_redis(
    live_server_process, celery_worker_process, account
):
    response = post_live(live_server_process.url, account, sandbox_body(text="via the worker"))

    assert response.status_code == 200
    message = wait_for(lambda: Message.objects.filter(text="via the worker").first())
    assert message.conversation.account == account
    # The outcome is written just after the message's transaction commits.
    wait_for(lambda: WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.PROCESSED).exists())


def test_websocket_receives_the_event_of_a_sandbox_webhook(
    live_server_process, celery_worker_process, account, agent
):
    url = live_server_process.url
    events = receive_events(
        url, session_cookie(agent), lambda: post_live(url, account, sandbox_body()), 3
    )

    kinds = [e.get("type") for e in events]
    assert "inbox.message_received" in kinds
    received = next(e for e in events if e.get("type") == "inbox.message_received")
    assert received["account"] == account.pk
    assert Message.objects.filter(pk=received["data"]["message"]).exists()


def test_socket_survives_being_idle_longer_than_redis_timeouts(
    live_server_process, celery_worker_process, account, agent
):
    """channels-redis with redis-py's 5 s socket timeout drops idle sockets (STACK-NOTES)."""
    url = live_server_process.url

    def idle_then_post():
        import time

        time.sleep(6.5)
        post_live(url, account, sandbox_body(text="after a quiet spell"))

    events = receive_events(url, session_cookie(agent), idle_then_post, 3)
    assert "inbox.message_received" in [e.get("type") for e in events]


def test_anonymous_socket_is_refused(live_server_process, celery_worker_process, account):
    url = live_server_process.url
    events = receive_events(url, None, lambda: post_live(url, account, sandbox_body()), 2)
    assert not [e for e in events if e.get("type")]


def test_user_without_access_receives_nothing(
    live_server_process, celery_worker_process, account, outsider
):
    url = live_server_process.url
    events = receive_events(
        url, session_cookie(outsider), lambda: post_live(url, account, sandbox_body()), 3
    )
    assert not [e for e in events if e.get("type")]
    assert Message.objects.count() == 1  # it did arrive, just not for this user


@pytest.mark.browser
def test_agent_sees_a_new_dm_appear_without_reload(
    live_server_process, celery_worker_process, chromium, account, agent
):
    url = live_server_process.url
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", agent.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#live-status[data-state=live]")

    post_live(url, account, sandbox_body(name="Priya Raman", text="Is the green coat in stock?"))

    row = page.locator("#conversation-rows li", has_text="Is the green coat in stock?")
    row.wait_for(timeout=10_000)
    assert "Priya Raman" in row.inner_text()
    page.screenshot(path="test-artifacts/inbox-live.png")

    row.locator("a").click()
    page.wait_for_selector("#live-status[data-state=live]")
    post_live(
        url,
        account,
        sandbox_body(name="Priya Raman", text="Size M please", sender_id="cust-1"),
    )
    page.locator("#thread", has_text="Size M please").wait_for(timeout=10_000)
    context.close()
