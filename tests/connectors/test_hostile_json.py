"""Deeply nested JSON (RecursionError in the parser) gets a clean answer on every webhook
entrance, and stays archived marked as a parse error."""

from __future__ import annotations

import pytest

from connectors import webhooks
from connectors.meta.webhook import sign as meta_sign
from inbox.models import Message, WebhookEvent
from tests.helpers import committed, post_sandbox

pytestmark = pytest.mark.django_db

DEPTH = 50_000
NESTED = b"[" * DEPTH + b"]" * DEPTH
NESTED_IN_OBJECT = b'{"object": "page", "entry": ' + NESTED + b"}"


def _signed(platform: str, body: bytes) -> dict[str, str]:
    if platform == "meta":
        return {"X-Hub-Signature-256": meta_sign("app-secret", body)}
    if platform == "x":
        return {
            "x-twitter-webhooks-signature": "sha256="
            + webhooks.hmac_sha256("app-secret", body, encoding="base64")
        }
    return {"X-LI-Signature": webhooks.hmac_sha256("app-secret", b"hmacsha256=" + body)}


@pytest.fixture
def app_secrets(settings):
    settings.META_APP_SECRET = "app-secret"
    settings.X_CONSUMER_SECRET = "app-secret"
    settings.LINKEDIN_CLIENT_SECRET = "app-secret"


@pytest.mark.parametrize("platform", ["meta", "x", "linkedin"])
@pytest.mark.parametrize("body", [NESTED, NESTED_IN_OBJECT], ids=["bare", "in-object"])
def test_signed_deep_nesting_is_400_and_archived_as_a_parse_error(
    client, app_secrets, platform, body
):
    with committed():
        response = client.post(
            f"/webhooks/{platform}/",
            data=body,
            content_type="application/json",
            headers=_signed(platform, body),
        )

    assert response.status_code == 400
    archived = WebhookEvent.objects.get()
    assert archived.outcome == WebhookEvent.Outcome.FAILED
    assert "nested too deeply" in archived.error
    assert bytes(archived.body) == body


@pytest.mark.parametrize("platform", ["meta", "x", "linkedin"])
def test_unsigned_deep_nesting_is_refused_not_a_500(client, app_secrets, platform):
    response = client.post(
        f"/webhooks/{platform}/", data=NESTED_IN_OBJECT, content_type="application/json"
    )
    assert response.status_code == 403
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.REJECTED


def test_sandbox_deep_nesting_is_400_and_archived(client, account):
    with committed():
        response = post_sandbox(client, account, NESTED)
    assert response.status_code == 400
    assert "nested too deeply" in WebhookEvent.objects.get().error


def test_stored_deep_nesting_replays_as_a_named_parse_error(account):
    """A body archived before this fix fails its replay with a reason an admin can read."""
    from inbox import ingest

    archived = WebhookEvent.objects.create(
        source="sandbox", account=account, body=NESTED, signature_valid=True
    )
    assert ingest.process_webhook(archived.pk) == WebhookEvent.Outcome.FAILED
    archived.refresh_from_db()
    assert "nested too deeply" in archived.error
    assert Message.objects.count() == 0


def test_a_json_value_that_is_not_an_object_is_400(client, app_secrets):
    """No platform sends a bare value: a signed ``123`` is not applied as a webhook."""
    body = b"123"
    response = client.post(
        "/webhooks/x/", data=body, content_type="application/json", headers=_signed("x", body)
    )
    assert response.status_code == 400
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.FAILED
