"""X on the real stack: uvicorn receives the signed webhook, a real Celery worker ingests it and
delivers the reply to the fake X — retrying a rate-limited send at X's reset time."""

from __future__ import annotations

import json
import time

import pytest
import requests

from inbox.models import Conversation, Message
from inbox.services import queue_reply
from tests.connectors.x.conftest import CUSTOMER_ID, fixture_bytes, sign
from tests.fakes.server import Reply
from tests.helpers import wait_for

pytestmark = pytest.mark.live


def test_dm_in_and_rate_limited_reply_out_through_a_real_worker(
    live_server_process, celery_worker_process, x_account, x_api
):
    body = fixture_bytes("x_aaa_direct_message_event.json")
    response = requests.post(
        f"{live_server_process.url}/webhooks/x/",
        data=body,
        headers={"x-twitter-webhooks-signature": sign(body), "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200
    inbound = wait_for(lambda: Message.objects.filter(external_id="1879234567890123456").first())

    send_path = rf"^/x/2/dm_conversations/with/{CUSTOMER_ID}/messages$"
    reset = int(time.time()) + 2
    x_api.script(
        "POST",
        send_path,
        Reply(
            429,
            json.loads(fixture_bytes("x_error_429.json")),
            headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        ),
    )
    conversation = Conversation.objects.select_related("account", "contact").get(
        pk=inbound.conversation_id
    )
    reply = queue_reply(conversation=conversation, text="On its way!")

    sent = wait_for(
        lambda: Message.objects.filter(pk=reply.pk, status=Message.Status.SENT).first(),
        timeout=20,
    )
    assert time.time() >= reset
    assert len(x_api.sent("POST", send_path)) == 2
    assert sent.external_id and sent.attempts == 2


def test_the_agent_sees_the_customer_typing(
    live_server_process, celery_worker_process, chromium, x_account, agent
):
    from tests.factories import PASSWORD

    url = live_server_process.url

    def post(name: str) -> None:
        body = fixture_bytes(name)
        response = requests.post(
            f"{url}/webhooks/x/",
            data=body,
            headers={
                "x-twitter-webhooks-signature": sign(body),
                "Content-Type": "application/json",
            },
            timeout=10,
        )
        assert response.status_code == 200

    post("x_aaa_direct_message_event.json")
    conversation = wait_for(lambda: Conversation.objects.first())
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", agent.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{url}/conversations/{conversation.pk}/")
    page.wait_for_selector("#live-status[data-state=live]")

    post("x_aaa_direct_message_typing.json")

    page.locator("#collision", has_text="Dana Rivera is typing…").wait_for(timeout=10_000)
    context.close()
