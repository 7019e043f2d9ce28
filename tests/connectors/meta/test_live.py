"""The production shape: signed Messenger webhooks to the uvicorn process, a real Celery worker
ingesting them from Redis and delivering the agent's reply through the fake Graph API."""

from __future__ import annotations

import json
import time

import pytest
import requests
from django.utils import timezone

from connectors.meta.webhook import SIGNATURE_HEADER, sign
from inbox import services
from inbox.models import ContactIdentity, Conversation, Message, WebhookEvent
from tests.connectors.meta.conftest import PSID, fixture_bytes
from tests.factories import AccountFactory
from tests.fakes.meta import PAGE_ID, error_body
from tests.fakes.server import Reply
from tests.helpers import wait_for

pytestmark = pytest.mark.live
SECRET = "live-page-secret"


def _post(url: str, body: bytes) -> requests.Response:
    return requests.post(
        f"{url}/webhooks/meta/",
        data=body,
        headers={SIGNATURE_HEADER: sign(SECRET, body), "Content-Type": "application/json"},
        timeout=10,
    )


def test_worker_ingests_retries_and_delivers_through_the_graph_api(
    live_server_process, celery_worker_process, fake_platforms, team, agent
):
    account = AccountFactory(
        platform="messenger",
        external_id=PAGE_ID,
        credentials={"page_access_token": "EAAG-live", "app_secret": SECRET},
    )
    team.accounts.add(account)

    response = _post(live_server_process.url, fixture_bytes("messenger_text.json"))
    assert response.status_code == 200
    assert _post(live_server_process.url, fixture_bytes("messenger_text.json")).status_code == 200

    inbound = wait_for(lambda: Message.objects.filter(account=account).first())
    # The worker fetched the profile in the background.
    wait_for(
        lambda: ContactIdentity.objects.filter(
            account=account, platform_user_id=PSID, name="Maya Thompson"
        ).exists()
    )
    # The fixture is from January: the customer writes again now.
    Conversation.objects.filter(pk=inbound.conversation_id).update(last_inbound_at=timezone.now())
    conversation = Conversation.objects.get(pk=inbound.conversation_id)

    # Meta's "temporary send failure" once, with a 1-second Retry-After: the worker retries.
    fake_platforms.script(
        "POST",
        r"/messages$",
        Reply(400, error_body(1200, 2018024), headers={"Retry-After": "1"}),
    )
    reply = services.queue_reply(conversation=conversation, author=agent, text="It shipped today")

    sent = wait_for(
        lambda: Message.objects.filter(pk=reply.pk, status=Message.Status.SENT).first(),
        timeout=20,
    )
    calls = fake_platforms.sent("POST", r"/messages$")
    assert len(calls) == 2
    assert calls[-1].json()["message"]["metadata"] == reply.client_ref

    # Meta echoes the send: recognised, no second message.
    echo = json.loads(fixture_bytes("messenger_echo.json"))
    echo["entry"][0]["messaging"][0]["message"].update(
        mid=sent.external_id, metadata=reply.client_ref, text=reply.text
    )
    echo["entry"][0]["messaging"][0]["timestamp"] = int(time.time() * 1000)
    assert _post(live_server_process.url, json.dumps(echo).encode()).status_code == 200
    wait_for(
        lambda: WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.PROCESSED).count() == 3
    )
    assert Message.objects.filter(account=account).count() == 2
    assert not Message.objects.filter(sent_outside_parley=True).exists()
