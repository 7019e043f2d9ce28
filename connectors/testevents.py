"""Signed webhook deliveries as the platforms send them: the settings area's "send a test
event" hands one to the webhook entrance (``inbox.webhooks.receive``: signature check, archive,
ingest, inbox) and ``manage.py send_webhook_fixture`` POSTs a fixture to a running server.

``ENDPOINTS`` is the one table of where each platform posts and how it signs.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from connectors import base, webhooks
from connectors.linkedin import connector as linkedin
from connectors.meta import webhook as meta
from connectors.sandbox import connector as sandbox
from connectors.x import connector as x
from inbox.models import Platform, PlatformAccount


@dataclass(frozen=True)
class Endpoint:
    path: str
    # The setting holding the app-wide signing secret.
    secret_setting: str
    # (secret, raw body) → the signature headers the platform sends.
    sign: Callable[[str, bytes], dict[str, str]]


ENDPOINTS: dict[str, Endpoint] = {
    "meta": Endpoint(
        "/webhooks/meta/",
        "META_APP_SECRET",
        lambda secret, body: {meta.SIGNATURE_HEADER: meta.sign(secret, body)},
    ),
    "x": Endpoint(
        "/webhooks/x/",
        "X_CONSUMER_SECRET",
        lambda secret, body: {
            x.SIGNATURE_HEADER: "sha256=" + webhooks.hmac_sha256(secret, body, encoding="base64")
        },
    ),
    # LinkedIn's documented reading: hex HMAC-SHA256 over "hmacsha256=" + the exact body.
    "linkedin": Endpoint(
        "/webhooks/linkedin/",
        "LINKEDIN_CLIENT_SECRET",
        lambda secret, body: {
            linkedin.SIGNATURE_HEADER: webhooks.hmac_sha256(
                secret, linkedin.SIGNATURE_PREFIX.encode() + body
            )
        },
    ),
}

TEST_SENDER_ID = "parley-test-sender"
# X user ids are numbers (its 1:1 thread ids sort them); no X user has id 0.
X_TEST_SENDER_ID = "0"
TEST_SENDER_NAME = "Parley test"


def is_test_event(event: base.Event) -> bool:
    """A customer message from the test sender: what ``build`` sends (no platform user has
    these ids: Meta's are numbers, no X user is 0; a sandbox delivery is signed by the admin)."""
    if not isinstance(event, base.MessageReceived):
        return False
    wanted = X_TEST_SENDER_ID if event.platform == Platform.X else TEST_SENDER_ID
    return event.sender.platform_user_id == wanted


class TestEventUnavailable(Exception):
    """The platform has no test event, or the account lacks what signing one needs."""


@dataclass(frozen=True)
class SignedDelivery:
    """A webhook request as the platform makes it, for the entrance's ``receive()``."""

    # The webhook endpoint (`/webhooks/<platform>/`) and, for the sandbox, its account.
    platform: str
    body: bytes
    headers: dict[str, str]
    account_id: int | None = None


def _delivery(
    platform: str, body: bytes, signature: dict[str, str], account_id: int | None = None
) -> SignedDelivery:
    headers = {
        **signature,
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "User-Agent": "Parley settings test event",
    }
    return SignedDelivery(platform, body, headers, account_id)


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
    return _delivery(
        "sandbox", body, {sandbox.SIGNATURE_HEADER: sandbox.sign(secret, body)}, account.pk
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
    return _delivery("meta", body, ENDPOINTS["meta"].sign(secret, body))


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
                        "sender_id": X_TEST_SENDER_ID,
                        "message_data": {"text": text, "entities": {"urls": []}},
                    },
                }
            ],
            "users": {
                X_TEST_SENDER_ID: {
                    "id": X_TEST_SENDER_ID,
                    "name": TEST_SENDER_NAME,
                    "screen_name": "parley_test",
                }
            },
        }
    ).encode()
    return _delivery("x", body, ENDPOINTS["x"].sign(secret, body))


BUILDERS = {
    Platform.SANDBOX: _sandbox,
    Platform.MESSENGER: _meta,
    Platform.INSTAGRAM: _meta,
    Platform.X: _x,
}
