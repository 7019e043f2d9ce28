"""X webhooks through the real view: CRC, base64 signatures, AAA and X Activity API events."""

from __future__ import annotations

import hashlib
import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from inbox.access import account_group
from inbox.models import Attachment, Conversation, Message, PlatformAccount, WebhookEvent
from inbox.services import queue_reply
from tests.connectors.x.conftest import (
    ACCOUNT_ID,
    CUSTOMER_ID,
    SECRET,
    VECTORS,
    fixture_bytes,
    post_x,
    sign,
)
from tests.helpers import committed

pytestmark = pytest.mark.django_db


# --- CRC and signatures -----------------------------------------------------------------------


def test_crc_answers_the_vector_without_touching_the_database(
    client, settings, django_assert_num_queries
):
    vector = VECTORS["x_crc"]
    settings.X_CONSUMER_SECRET = vector["consumer_secret"]

    with django_assert_num_queries(0):
        response = client.get("/webhooks/x/", {"crc_token": vector["crc_token"], "nonce": "1"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == vector["expected_response"]["body"]


def test_crc_without_a_token_is_400(client, settings):
    settings.X_CONSUMER_SECRET = SECRET
    assert client.get("/webhooks/x/").status_code == 400


def test_crc_falls_back_to_the_accounts_shared_consumer_secret(client, x_account):
    vector = VECTORS["x_crc"]
    response = client.get("/webhooks/x/", {"crc_token": vector["crc_token"]})
    assert response.json() == vector["expected_response"]["body"]


def test_documented_signature_vector_is_accepted(client, x_account):
    vector = VECTORS["x"][0]
    body = fixture_bytes(vector["body_file"])
    assert hashlib.sha256(body).hexdigest() == vector["body_sha256"]

    response = post_x(client, body, signature=vector["headers"]["x-twitter-webhooks-signature"])

    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.PROCESSED


def test_wrong_signature_is_refused_and_archived(client, x_account):
    body = fixture_bytes("x_aaa_direct_message_event.json")

    response = post_x(client, body, signature=sign(body, "not-the-secret"))

    assert response.status_code == 403
    assert Message.objects.count() == 0
    archived = WebhookEvent.objects.get()
    assert archived.outcome == WebhookEvent.Outcome.REJECTED
    # Unsigned: the first KB, the size and the hash are kept, not the whole body.
    assert bytes(archived.body) == body[:1024]
    assert archived.body_size == len(body)
    assert archived.body_sha256 == hashlib.sha256(body).hexdigest()


def test_hex_signature_is_refused_because_x_signs_in_base64(client, x_account):
    from connectors.webhooks import hmac_sha256

    body = fixture_bytes("x_aaa_direct_message_event.json")
    response = post_x(client, body, signature="sha256=" + hmac_sha256(SECRET, body))
    assert response.status_code == 403


def test_global_consumer_secret_also_verifies(client, x_account, settings):
    settings.X_CONSUMER_SECRET = "app-wide-secret"
    x_account.credentials = {"access_token": "x-token"}
    x_account.save()
    body = fixture_bytes("x_aaa_direct_message_event.json")

    assert post_x(client, body, signature=sign(body, "app-wide-secret")).status_code == 200
    assert Message.objects.count() == 1


def test_malformed_json_is_400_and_kept(client, x_account, settings):
    # Unreadable JSON names no account: only the app-wide consumer secret can vouch for it.
    settings.X_CONSUMER_SECRET = SECRET
    body = b'{"for_user_id": "1366009876543210496", "direct_message_events": ['
    response = post_x(client, body)
    assert response.status_code == 400
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.FAILED


# --- Messages ---------------------------------------------------------------------------------


def test_incoming_dm_becomes_a_conversation_with_the_x_thread_id(client, x_account):
    response = post_x(client, fixture_bytes("x_aaa_direct_message_event.json"))

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.external_id == "1879234567890123456"
    assert message.text == "Hi! My mug arrived cracked, order #4521 #help"
    assert message.direction == Message.Direction.INBOUND
    conversation = message.conversation
    assert conversation.kind == Conversation.Kind.DM
    assert conversation.external_thread_id == f"{ACCOUNT_ID}-{CUSTOMER_ID}"
    assert conversation.contact.name == "Dana Rivera"
    identity = conversation.participants.get()
    assert identity.username == "danarivera_"
    assert identity.platform_user_id == CUSTOMER_ID


def test_redelivered_event_makes_one_message(client, x_account):
    body = fixture_bytes("x_aaa_direct_message_event.json")

    assert post_x(client, body).status_code == 200
    assert post_x(client, body).status_code == 200

    assert Message.objects.count() == 1
    assert WebhookEvent.objects.count() == 2


def test_dm_sent_from_elsewhere_shows_as_agent_message_sent_outside_parley(client, x_account):
    post_x(client, fixture_bytes("x_aaa_direct_message_event.json"))
    post_x(client, fixture_bytes("x_aaa_direct_message_event__echo.json"))

    echo = Message.objects.get(external_id="1879234611112223334")
    assert echo.direction == Message.Direction.OUTBOUND
    assert echo.sender_kind == Message.SenderKind.AGENT
    assert echo.sent_outside_parley is True
    assert echo.conversation == Message.objects.get(external_id="1879234567890123456").conversation


def test_copy_of_a_dm_parley_sent_makes_no_second_message(client, x_account, x_api):
    post_x(client, fixture_bytes("x_aaa_direct_message_event.json"))
    conversation = Conversation.objects.get()
    with committed():
        sent = queue_reply(
            conversation=conversation, text="Sorry about that! A new mug is on its way."
        )
    sent.refresh_from_db()
    assert sent.status == Message.Status.SENT
    # X delivers the account's own DM back with the id the send returned.
    body = fixture_bytes("x_aaa_direct_message_event__echo.json").replace(
        b"1879234611112223334", sent.external_id.encode()
    )

    assert post_x(client, body).status_code == 200
    assert post_x(client, body).status_code == 200

    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1
    assert not Message.objects.filter(sent_outside_parley=True).exists()


def test_copy_arriving_before_the_send_answered_is_matched_to_the_send(client, x_account):
    post_x(client, fixture_bytes("x_aaa_direct_message_event.json"))
    conversation = Conversation.objects.get()
    in_flight = Message.objects.create(
        conversation=conversation,
        account=x_account,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        client_ref="ref-1",
        text="Sorry about that! A new mug is on its way.",
        status=Message.Status.SENDING,
    )

    post_x(client, fixture_bytes("x_aaa_direct_message_event__echo.json"))

    in_flight.refresh_from_db()
    assert in_flight.external_id == "1879234611112223334"
    assert in_flight.status == Message.Status.SENT
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1


def test_media_dm_drops_its_t_co_link_expands_others_and_downloads_with_credentials(
    client, x_account, x_api
):
    media_url = f"{x_api.url}/x/media/box.jpg"
    body = fixture_bytes("x_aaa_direct_message_event__media.json").replace(
        b"https://ton.twitter.com/1.1/ton/data/dm/1879234622223334445/1879234600000000001/box.jpg",
        media_url.encode(),
    )

    assert post_x(client, body).status_code == 200

    message = Message.objects.get()
    assert message.text == "Box was crushed too, see https://www.example-courier.com/track/ZX81"
    attachment = Attachment.objects.get()
    assert attachment.kind == Attachment.Kind.IMAGE
    assert attachment.url == media_url
    assert attachment.fetch_error == ""
    assert attachment.file and attachment.content_type == "image/png"
    download = x_api.sent("GET", r"^/x/media/box\.jpg$")[0]
    assert download.headers["authorization"] == "Bearer x-token"


def test_x_activity_api_envelope_with_wrapped_users(client, x_account):
    assert post_x(client, fixture_bytes("x_xaa_dm_received.json")).status_code == 200

    message = Message.objects.get()
    assert message.text == "Do you sell gift cards?"
    identity = message.conversation.participants.get()
    assert (identity.name, identity.username) == ("Sam Okafor", "samokafor")
    assert identity.avatar_url.endswith("sam_normal.jpg")


def test_x_activity_api_dm_sent_is_an_echo(client, x_account):
    post_x(client, fixture_bytes("x_xaa_dm_received.json"))
    post_x(client, fixture_bytes("x_xaa_dm_sent.json"))

    echo = Message.objects.get(external_id="1879234644445556667")
    assert echo.direction == Message.Direction.OUTBOUND and echo.sent_outside_parley


def test_encrypted_chat_event_is_acknowledged_and_ignored(client, x_account):
    assert post_x(client, fixture_bytes("x_xaa_chat_received.json")).status_code == 200
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.IGNORED
    assert Message.objects.count() == 0


def test_event_for_an_unknown_account_is_archived_and_ignored(client, x_account, settings):
    settings.X_CONSUMER_SECRET = SECRET
    body = fixture_bytes("x_aaa_direct_message_event.json").replace(
        ACCOUNT_ID.encode(), b"999999999999"
    )

    assert post_x(client, body).status_code == 200

    assert Message.objects.count() == 0
    archived = WebhookEvent.objects.get()
    assert archived.outcome == WebhookEvent.Outcome.IGNORED
    assert "unknown x account" in archived.error


def test_event_for_an_unknown_account_without_an_app_secret_is_refused(client, x_account):
    body = fixture_bytes("x_aaa_direct_message_event.json").replace(
        ACCOUNT_ID.encode(), b"999999999999"
    )
    # Only the account's own secret vouched for its events, and this account is unknown.
    assert post_x(client, body).status_code == 403


# --- Receipts, typing, revocation -------------------------------------------------------------


def test_mark_read_marks_outbound_messages_up_to_the_last_read_event(client, x_account, x_api):
    post_x(client, fixture_bytes("x_aaa_direct_message_event.json"))
    conversation = Conversation.objects.get()
    send_response = json.loads(fixture_bytes("x_dm_send_response.json"))
    from tests.fakes.server import Reply

    x_api.script("POST", r"/messages$", Reply(201, send_response))
    with committed():
        read = queue_reply(
            conversation=conversation, text="Thanks! Your replacement mug ships tomorrow."
        )
    with committed():
        later = queue_reply(conversation=conversation, text="Anything else?")
    later.refresh_from_db()
    later_sent_at = read.sent_at.replace(year=read.sent_at.year + 1)
    Message.objects.filter(pk=later.pk).update(sent_at=later_sent_at)

    assert post_x(client, fixture_bytes("x_aaa_direct_message_mark_read.json")).status_code == 200

    read.refresh_from_db()
    later.refresh_from_db()
    assert read.external_id == "1879234599998887776"
    assert read.status == Message.Status.READ and read.read_at is not None
    assert later.status == Message.Status.SENT


def test_typing_updates_the_conversation_and_goes_live(client, x_account):
    post_x(client, fixture_bytes("x_aaa_direct_message_event.json"))
    conversation = Conversation.objects.get()
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(account_group(x_account.pk), channel)

    assert post_x(client, fixture_bytes("x_aaa_direct_message_typing.json")).status_code == 200

    conversation.refresh_from_db()
    assert conversation.metadata["contact_typing_at"].startswith("2026-01-01T10:19:05")
    assert Message.objects.count() == 1
    pushed = async_to_sync(layer.receive)(channel)
    assert pushed["payloads"][0]["type"] == "inbox.typing"
    assert pushed["payloads"][0]["conversation"] == conversation.pk
    async_to_sync(layer.group_discard)(account_group(x_account.pk), channel)


def test_user_revoke_disconnects_the_account(client, x_account):
    assert post_x(client, fixture_bytes("x_aaa_user_revoke.json")).status_code == 200

    x_account.refresh_from_db()
    assert x_account.status == PlatformAccount.Status.DISCONNECTED
    assert "revoked" in x_account.last_error


# --- Bad input --------------------------------------------------------------------------------


def test_oversized_body_is_413_before_anything_is_parsed(client, x_account, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1024
    body = fixture_bytes("x_aaa_direct_message_event.json")
    assert len(body) > 1024

    assert post_x(client, body).status_code == 413
    assert Message.objects.count() == 0


def test_signed_but_malformed_event_is_kept_with_its_error(client, x_account):
    body = json.dumps(
        {
            "for_user_id": ACCOUNT_ID,
            "direct_message_events": [
                {"type": "message_create", "id": "1", "message_create": {"target": {}}}
            ],
        }
    ).encode()

    assert post_x(client, body).status_code == 200

    archived = WebhookEvent.objects.get()
    assert archived.outcome == WebhookEvent.Outcome.FAILED
    assert "malformed X event" in archived.error
    assert bytes(archived.body) == body
    assert Message.objects.count() == 0


def test_tweet_events_are_acknowledged_and_ignored(client, x_account):
    body = json.dumps(
        {"for_user_id": ACCOUNT_ID, "favorite_events": [{"id": "1", "created_at": "x"}]}
    ).encode()
    assert post_x(client, body).status_code == 200
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.IGNORED


def test_copy_of_a_send_that_timed_out_stops_its_retry(client, x_account, x_api):
    post_x(client, fixture_bytes("x_aaa_direct_message_event.json"))
    conversation = Conversation.objects.get()
    waiting = Message.objects.create(
        conversation=conversation,
        account=x_account,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        client_ref="ref-timeout",
        text="Sorry about that! A new mug is on its way.",
        status=Message.Status.QUEUED,
        attempts=1,
        error="Retrying: X did not answer in time",
    )

    post_x(client, fixture_bytes("x_aaa_direct_message_event__echo.json"))

    waiting.refresh_from_db()
    assert waiting.status == Message.Status.SENT
    assert waiting.external_id == "1879234611112223334"
    assert waiting.error == ""
    from inbox.delivery import deliver

    assert deliver(waiting.pk) is None  # nothing left to send
    assert x_api.sent("POST", r"/messages$") == []
