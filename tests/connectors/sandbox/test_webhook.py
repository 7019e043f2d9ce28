"""The sandbox webhook through the real view: signatures, bad input, idempotency."""

import pytest

from inbox.models import Conversation, Message, WebhookEvent
from tests.helpers import post_sandbox, sandbox_body

# Real commits: processing runs on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def test_signed_message_becomes_a_conversation(client, account):
    response = post_sandbox(client, account, sandbox_body(text="Where is my order #4821?"))

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.text == "Where is my order #4821?"
    assert message.direction == Message.Direction.INBOUND
    assert message.conversation.contact.name == "Maya Thompson"
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.PROCESSED


def test_redelivered_webhook_makes_one_message(client, account):
    body = sandbox_body(message_id="m-1")

    assert post_sandbox(client, account, body).status_code == 200
    assert post_sandbox(client, account, body).status_code == 200

    assert Message.objects.count() == 1
    assert WebhookEvent.objects.count() == 2


def test_wrong_signature_is_refused_and_stores_no_message(client, account):
    response = post_sandbox(client, account, sandbox_body(), secret="not-the-secret")

    assert response.status_code == 403
    assert Message.objects.count() == 0
    archived = WebhookEvent.objects.get()
    assert archived.signature_valid is False
    assert archived.outcome == WebhookEvent.Outcome.REJECTED


def test_missing_signature_is_refused(client, account):
    response = client.post(
        f"/webhooks/sandbox/{account.pk}/", data=sandbox_body(), content_type="application/json"
    )
    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_malformed_json_is_400_and_the_raw_body_is_archived(client, account):
    body = b'{"id": "m-1", "text": "unterminated'

    response = post_sandbox(client, account, body)

    assert response.status_code == 400
    archived = WebhookEvent.objects.get()
    assert bytes(archived.body) == body
    assert archived.outcome == WebhookEvent.Outcome.FAILED
    assert "malformed JSON" in archived.error


def test_json_that_is_not_a_sandbox_event_is_kept_with_its_error(client, account):
    response = post_sandbox(client, account, b'{"unexpected": true}')

    assert response.status_code == 200
    archived = WebhookEvent.objects.get()
    assert archived.outcome == WebhookEvent.Outcome.FAILED
    assert archived.error
    assert Message.objects.count() == 0


def test_oversized_body_is_413(client, account, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    body = sandbox_body(text="x" * 2000)

    response = post_sandbox(client, account, body)

    assert response.status_code == 413
    assert Message.objects.count() == 0


def test_unknown_account_is_404(client, account):
    body = sandbox_body()
    response = client.post("/webhooks/sandbox/999999/", data=body, content_type="application/json")
    assert response.status_code == 404
    assert Message.objects.count() == 0


def test_hostile_text_is_stored_as_sent(client, account):
    hostile = "<script>alert(1)</script> ' OR 1=1; -- \u202e"
    post_sandbox(client, account, sandbox_body(text=hostile))
    assert Message.objects.get().text == hostile


def test_failed_payload_can_be_replayed_after_fix(client, account):
    from inbox import ingest

    body = sandbox_body(message_id="m-replay")
    post_sandbox(client, account, body)
    webhook = WebhookEvent.objects.get()
    Message.objects.all().delete()
    Conversation.objects.all().delete()

    assert ingest.replay([webhook.pk]) == {webhook.pk: WebhookEvent.Outcome.PROCESSED}
    assert Message.objects.filter(external_id="m-replay").count() == 1
