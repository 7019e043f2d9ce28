"""Signed sample webhook deliveries, for the settings area's "send a test event".

Each builds what the platform itself would POST — the body in the platform's wire format and
its signature header computed with the account's (or the app's) secret — so the test goes
through the real webhook path: signature check, archive, ingest, inbox.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from django.conf import settings

from connectors import webhooks
from inbox.models import Platform, PlatformAccount

TEST_SENDER_ID = "parley-test-sender"
TEST_SENDER_NAME = "Parley test"


class TestEventUnavailable(Exception):
    """The platform has no test event, or the account lacks what signing one needs."""


@dataclass(frozen=True)
class SignedDelivery:
    path: str
    body: bytes
    headers: dict[str, str]


def build(account: PlatformAccount, *, text: str) -> SignedDelivery:
    builder = BUILDERS.get(account.platform)
    if builder is None:
        raise TestEventUnavailable(
            f"{account.get_platform_display()} sends no direct messages to Parley, so there is "
            "no test event for it."
        )
    return builder(account, text)


def _sandbox(account: PlatformAccount, text: str) -> SignedDelivery:
    secret = account.credentials.get("secret", "")
    if not secret:
        raise TestEventUnavailable("The account has no webhook secret: enter one first.")
    body = json.dumps(
        {
            "id": f"test-{uuid.uuid4().hex}",
            "sender": {"id": TEST_SENDER_ID, "name": TEST_SENDER_NAME},
            "text": text,
            "timestamp": int(time.time() * 1000),
        }
    ).encode()
    return SignedDelivery(
        path=f"/webhooks/sandbox/{account.pk}/",
        body=body,
        headers={"X-Sandbox-Signature": "sha256=" + webhooks.hmac_sha256(secret, body)},
    )


def _meta(account: PlatformAccount, text: str) -> SignedDelivery:
    secret = account.credentials.get("app_secret") or settings.META_APP_SECRET
    if not secret:
        raise TestEventUnavailable(
            "No Meta app secret is configured (META_APP_SECRET or the account's app_secret)."
        )
    now_ms = int(time.time() * 1000)
    instagram = account.platform == Platform.INSTAGRAM
    body = json.dumps(
        {
            "object": "instagram" if instagram else "page",
            "entry": [
                {
                    "id": account.external_id,
                    "time": now_ms,
                    "messaging": [
                        {
                            "sender": {"id": TEST_SENDER_ID},
                            "recipient": {"id": account.external_id},
                            "timestamp": now_ms,
                            "message": {"mid": f"m_parley-test-{uuid.uuid4().hex}", "text": text},
                        }
                    ],
                }
            ],
        }
    ).encode()
    return SignedDelivery(
        path="/webhooks/meta/",
        body=body,
        headers={"X-Hub-Signature-256": "sha256=" + webhooks.hmac_sha256(secret, body)},
    )


def _x(account: PlatformAccount, text: str) -> SignedDelivery:
    secret = account.credentials.get("consumer_secret") or settings.X_CONSUMER_SECRET
    if not secret:
        raise TestEventUnavailable(
            "No X consumer secret is configured (X_CONSUMER_SECRET or the account's "
            "consumer_secret)."
        )
    body = json.dumps(
        {
            "for_user_id": account.external_id,
            "direct_message_events": [
                {
                    "type": "message_create",
                    "id": str(uuid.uuid4().int)[:19],
                    "created_timestamp": str(int(time.time() * 1000)),
                    "message_create": {
                        "target": {"recipient_id": account.external_id},
                        "sender_id": TEST_SENDER_ID,
                        "message_data": {"text": text, "entities": {"urls": []}},
                    },
                }
            ],
            "users": {
                TEST_SENDER_ID: {
                    "id": TEST_SENDER_ID,
                    "name": TEST_SENDER_NAME,
                    "screen_name": "parley_test",
                }
            },
        }
    ).encode()
    return SignedDelivery(
        path="/webhooks/x/",
        body=body,
        headers={
            "x-twitter-webhooks-signature": "sha256="
            + webhooks.hmac_sha256(secret, body, encoding="base64")
        },
    )


BUILDERS = {
    Platform.SANDBOX: _sandbox,
    Platform.MESSENGER: _meta,
    Platform.INSTAGRAM: _meta,
    Platform.X: _x,
}
