"""GET/POST /webhooks/meta/ through the real view: handshake, signatures, archive, routing."""

from __future__ import annotations

import hashlib
import json

import pytest

from inbox.models import Message, WebhookEvent
from tests.connectors.meta.conftest import APP_SECRET, VECTORS, fixture_bytes
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_handshake_echoes_the_challenge_as_plain_text(client):
    vector = VECTORS["meta_handshake"]
    response = client.get(
        vector["request"].split(" ")[1].replace("/webhooks/meta", "/webhooks/meta/")
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == vector["expected_response"]["body"]


def test_handshake_with_wrong_token_is_403(client):
    response = client.get(
        "/webhooks/meta/",
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "42"},
    )
    assert response.status_code == 403


def test_handshake_accepts_an_accounts_own_verify_token(client, settings, messenger_account):
    settings.META_VERIFY_TOKEN = ""
    messenger_account.credentials = {**messenger_account.credentials, "verify_token": "per-page"}
    messenger_account.save()
    response = client.get(
        "/webhooks/meta/",
        {"hub.mode": "subscribe", "hub.verify_token": "per-page", "hub.challenge": "9"},
    )
    assert (response.status_code, response.content) == (200, b"9")


def test_handshake_without_challenge_is_400(client):
    response = client.get("/webhooks/meta/", {"hub.mode": "subscribe", "hub.verify_token": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize("vector", VECTORS["meta"], ids=lambda v: v["body_file"])
def test_signature_vectors_are_accepted_over_the_exact_bytes(
    vector, post_meta, messenger_account, instagram_account
):
    body = fixture_bytes(vector["body_file"])
    assert hashlib.sha256(body).hexdigest() == vector["body_sha256"]

    response = post_meta(body, signature=vector["headers"]["X-Hub-Signature-256"])

    assert response.status_code == 200
    assert WebhookEvent.objects.get().signature_valid is True


def test_reserialised_body_does_not_verify(post_meta, messenger_account):
    """Meta signs its escaped bytes: re-encoding the JSON changes them and the signature."""
    raw = fixture_bytes("messenger_echo.json")
    reencoded = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    vector_signature = (
        "sha256=" + __import__("hmac").new(APP_SECRET.encode(), raw, "sha256").hexdigest()
    )

    response = post_meta(reencoded, signature=vector_signature)

    assert response.status_code == 403


def test_wrong_signature_is_403_archived_and_makes_no_message(post_meta, messenger_account):
    response = post_meta("messenger_text.json", secret="not-the-secret")

    assert response.status_code == 403
    assert Message.objects.count() == 0
    archived = WebhookEvent.objects.get()
    assert archived.signature_valid is False
    assert archived.outcome == WebhookEvent.Outcome.REJECTED


def test_missing_signature_is_403(post_meta, messenger_account):
    assert post_meta("messenger_text.json", secret=None).status_code == 403
    assert Message.objects.count() == 0


def test_legacy_sha1_header_alone_is_not_enough(client, messenger_account):
    body = fixture_bytes("messenger_text.json")
    response = client.post(
        "/webhooks/meta/",
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature": VECTORS["meta"][0]["headers"]["X-Hub-Signature"]},
    )
    assert response.status_code == 403


def test_per_account_app_secret_is_accepted(post_meta, settings, instagram_account):
    """Instagram-Login apps sign with the Instagram app secret, set on the account."""
    settings.META_APP_SECRET = ""
    instagram_account.credentials = {**instagram_account.credentials, "app_secret": "ig-secret"}
    instagram_account.save()

    assert post_meta("instagram_text.json", secret="ig-secret").status_code == 200
    assert Message.objects.get().text == "Do you ship to Canada?"


def test_a_changed_account_secret_applies_to_the_next_delivery(
    post_meta, settings, messenger_account
):
    """The entrance keeps each platform's accounts a few seconds per process; an edit made
    through the models is seen at once."""
    settings.META_APP_SECRET = ""
    messenger_account.credentials = {**messenger_account.credentials, "app_secret": "old-secret"}
    messenger_account.save()
    assert post_meta("messenger_text.json", secret="old-secret").status_code == 200

    messenger_account.credentials = {**messenger_account.credentials, "app_secret": "new-secret"}
    messenger_account.save()

    assert post_meta("messenger_text.json", secret="old-secret").status_code == 403
    assert post_meta("messenger_text.json", secret="new-secret").status_code == 200


def test_another_accounts_secret_does_not_sign_for_this_one(post_meta, settings, messenger_account):
    settings.META_APP_SECRET = ""
    AccountFactory(
        platform="messenger", external_id="999", credentials={"app_secret": "other-page-secret"}
    )
    assert post_meta("messenger_text.json", secret="other-page-secret").status_code == 403


def test_no_secret_configured_refuses_everything(post_meta, settings, messenger_account):
    settings.META_APP_SECRET = ""
    assert post_meta("messenger_text.json", secret="").status_code == 403


def test_malformed_json_is_400_and_archived(post_meta, messenger_account):
    body = b'{"object": "page", "entry": [unterminated'
    response = post_meta(body)

    assert response.status_code == 400
    archived = WebhookEvent.objects.get()
    assert bytes(archived.body) == body
    assert archived.outcome == WebhookEvent.Outcome.FAILED


def test_json_without_entries_is_kept_with_its_error(post_meta, messenger_account):
    response = post_meta(b'{"object": "page"}')

    assert response.status_code == 200
    archived = WebhookEvent.objects.get()
    assert archived.outcome == WebhookEvent.Outcome.FAILED
    assert "entry" in archived.error


def test_malformed_event_keeps_the_body_for_a_replay(post_meta, messenger_account):
    response = post_meta("messenger_text__malformed_event.json")

    assert response.status_code == 200
    archived = WebhookEvent.objects.get()
    assert archived.outcome == WebhookEvent.Outcome.FAILED
    assert "mid" in archived.error
    assert Message.objects.count() == 0


def test_unknown_account_is_archived_reported_and_200(post_meta):
    response = post_meta("messenger_text.json")

    assert response.status_code == 200
    archived = WebhookEvent.objects.get()
    assert archived.account is None
    assert archived.outcome == WebhookEvent.Outcome.IGNORED
    assert "unknown messenger account 106917238123456" in archived.error
    assert Message.objects.count() == 0


def test_unknown_object_is_acknowledged_and_ignored(post_meta, messenger_account):
    response = post_meta(b'{"object": "whatsapp_business_account", "entry": [{"id": "1"}]}')

    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.IGNORED


def test_oversized_body_is_413(post_meta, settings, messenger_account):
    settings.WEBHOOK_MAX_BODY_BYTES = 200
    assert post_meta("messenger_text.json").status_code == 413


def test_put_is_405(client):
    assert client.put("/webhooks/meta/").status_code == 405


def test_archive_points_at_the_account_and_source_is_the_platform(
    post_meta, messenger_account, instagram_account
):
    post_meta("messenger_text.json")
    post_meta("instagram_text.json")

    sources = dict(WebhookEvent.objects.values_list("source", "account__external_id"))
    assert sources == {
        "messenger": messenger_account.external_id,
        "instagram": instagram_account.external_id,
    }
