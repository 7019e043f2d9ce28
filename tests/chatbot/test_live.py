"""The real path: a signed Messenger webhook to the uvicorn process, ingestion and the chatbot
on a real Celery worker over Redis, the bot's reply sent over HTTP to the fake Graph API; and
the SLA pass run by the worker."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from chatbot.models import BotReply, BotSettings, FaqEntry
from connectors.base import MessageReceived, Person
from connectors.meta.webhook import SIGNATURE_HEADER, sign
from inbox import services
from inbox.models import Conversation, ConversationEvent, Message, PlatformAccount, SlaPolicy
from tests.fakes.meta import PAGE_ID
from tests.helpers import wait_for

pytestmark = pytest.mark.live

APP_SECRET = "live-app-secret"
PSID = "6912345678901234"


def messenger_body(text: str, *, mid: str | None = None) -> bytes:
    now_ms = int(time.time() * 1000)
    return json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE_ID,
                    "time": now_ms,
                    "messaging": [
                        {
                            "sender": {"id": PSID},
                            "recipient": {"id": PAGE_ID},
                            "timestamp": now_ms,
                            "message": {"mid": mid or f"m_{uuid.uuid4().hex}", "text": text},
                        }
                    ],
                }
            ],
        }
    ).encode()


@pytest.fixture
def messenger(team, fake_platforms):
    account = PlatformAccount.objects.create(
        platform="messenger",
        name="Acme Mugs",
        external_id=PAGE_ID,
        # A per-account app secret: the live processes do not share this process's settings.
        credentials={"page_access_token": "EAAG-page-token", "app_secret": APP_SECRET},
    )
    team.accounts.add(account)
    BotSettings.objects.create(account=account)
    FaqEntry.objects.create(
        account=account,
        question="How long does shipping take?",
        answer="Orders ship within 2 working days.",
        quick_replies=["Track my order", "Talk to a person"],
    )
    return account


def bot_sends(fake_platforms) -> list[dict]:
    return [
        r.json()
        for r in fake_platforms.sent("POST", r"/messages$")
        if "message" in (r.json() or {})
    ]


def test_webhook_to_bot_reply_at_the_fake_graph_api_with_a_real_worker(
    live_server_process, celery_worker_process, messenger, fake_platforms
):
    body = messenger_body("how long does shipping take?", mid="m_live_once")
    for _ in range(2):  # Meta delivers at least once: the redelivery must change nothing
        response = requests.post(
            f"{live_server_process.url}/webhooks/meta/",
            data=body,
            headers={SIGNATURE_HEADER: sign(APP_SECRET, body), "Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 200

    (sent,) = wait_for(lambda: bot_sends(fake_platforms), timeout=20)
    assert sent["recipient"] == {"id": PSID}
    assert sent["message"]["text"] == "Orders ship within 2 working days."
    assert [q["title"] for q in sent["message"]["quick_replies"]] == [
        "Track my order",
        "Talk to a person",
    ]
    reply = wait_for(
        lambda: Message.objects.filter(sender_kind="bot", status="sent").first(), timeout=10
    )
    assert reply.external_id.startswith("m_fake_")
    assert BotReply.objects.get().action == "faq"
    time.sleep(0.5)  # anything sent twice would have arrived by now
    assert len(bot_sends(fake_platforms)) == 1


def test_the_worker_raises_an_sla_breach_that_fell_due_while_it_was_away(
    celery_worker_process, account
):
    from inbox.tasks import sla_check_timers

    SlaPolicy.objects.create(name="Fast", first_response_seconds=60)
    long_ago = timezone.now() - timedelta(hours=2)
    message = services.receive_message(
        account=account,
        event=MessageReceived(
            platform="sandbox",
            account_external_id=account.external_id,
            timestamp=long_ago,
            external_id="old-unanswered",
            sender=Person(platform_user_id="cust-1", name="Maya"),
            text="Hello?",
        ),
    )
    totals = sla_check_timers.delay().get(timeout=20)
    assert totals["breaches"] == 1
    breach = ConversationEvent.objects.get(
        conversation=message.conversation, kind=ConversationEvent.Kind.SLA_BREACHED
    )
    assert breach.data["late"] is True
    assert Conversation.objects.get(pk=message.conversation_id).sla_status == "breached"
    # A second pass (another beat, a restarted worker) records nothing again.
    assert sla_check_timers.delay().get(timeout=20)["breaches"] == 0
