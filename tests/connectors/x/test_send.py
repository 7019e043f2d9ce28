"""Sending X DMs against the fake X: 1:1, groups, the 50-people limit, media, errors."""

from __future__ import annotations

import json
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from connectors.base import DeliveryError, IncomingAttachment, OutboundAttachment, OutboundMessage
from connectors.registry import get_connector
from inbox.media import upload_reader
from inbox.models import Conversation, Message, PlatformAccount
from inbox.policy import reply_policy
from inbox.services import queue_reply
from tests.connectors.x.conftest import ACCOUNT_ID, CUSTOMER_ID, fixture_bytes, post_x
from tests.fakes import x as fake_x
from tests.fakes.server import Reply
from tests.helpers import committed

pytestmark = pytest.mark.django_db

SEND_PATH = rf"^/x/2/dm_conversations/with/{CUSTOMER_ID}/messages$"


@pytest.fixture
def conversation(client, x_account, x_api):
    post_x(client, fixture_bytes("x_aaa_direct_message_event.json"))
    return Conversation.objects.select_related("account", "contact").get()


def outbound(**kwargs) -> OutboundMessage:
    return OutboundMessage(**{"text": "Hello", "client_ref": "ref", **kwargs})


def _by_url(url: str) -> OutboundAttachment:
    """An attachment as delivery hands it over: with the domain's reader of its bytes."""
    return OutboundAttachment(kind="image", url=url, read=upload_reader(url))


def test_reply_goes_to_the_participant_and_keeps_the_event_id(conversation, x_api):
    with committed():
        message = queue_reply(
            conversation=conversation, text="Thanks! Your replacement mug ships tomorrow."
        )

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    request = x_api.sent("POST", SEND_PATH)[0]
    assert request.json() == json.loads(fixture_bytes("x_dm_send_request_text.json"))
    assert request.headers["authorization"] == "Bearer x-token"
    assert message.external_id and message.external_id.isdigit()


def test_group_reply_goes_to_the_conversation_id(x_account, x_api):
    connector = get_connector("x")

    result = connector.send(
        x_account,
        outbound(thread_external_id="1582838213988016128", conversation_kind="group"),
    )

    assert x_api.sent("POST", r"^/x/2/dm_conversations/1582838213988016128/messages$")
    assert result.thread_external_id == "1582838213988016128"


def test_new_group_is_created_with_its_first_message(x_account, x_api):
    expected = json.loads(fixture_bytes("x_dm_create_group_request.json"))

    result = get_connector("x").send(
        x_account,
        outbound(
            text=expected["message"]["text"],
            conversation_kind="group",
            metadata={"group_participant_ids": expected["participant_ids"]},
        ),
    )

    assert x_api.sent("POST", r"^/x/2/dm_conversations$")[0].json() == expected
    assert result.thread_external_id


def test_a_new_group_above_50_people_is_refused_before_any_request(x_account, x_api):
    others = [str(1500000000000000000 + n) for n in range(50)]

    with pytest.raises(DeliveryError) as refused:
        get_connector("x").send(
            x_account,
            outbound(
                conversation_kind="group",
                metadata={"group_participant_ids": others},
                attachments=(_by_url(f"{x_api.url}/public/a.png"),),
            ),
        )

    assert refused.value.permanent and refused.value.code == "group_too_large"
    assert "at most 50 people" in refused.value.reason
    assert x_api.requests == []


def test_49_others_make_a_valid_group(x_account, x_api):
    others = [str(1500000000000000000 + n) for n in range(49)]
    get_connector("x").send(
        x_account, outbound(conversation_kind="group", metadata={"group_participant_ids": others})
    )
    assert len(x_api.sent("POST", r"^/x/2/dm_conversations$")[0].json()["participant_ids"]) == 49


def test_one_media_item_is_uploaded_then_attached(x_account, x_api):
    x_api.script(
        "GET", r"^/public/label\.png$", Reply(200, raw=fake_x.PNG, content_type="image/png")
    )
    expected = json.loads(fixture_bytes("x_dm_send_request_media.json"))

    get_connector("x").send(
        x_account,
        outbound(
            text=expected["text"],
            recipient_id=CUSTOMER_ID,
            attachments=(_by_url(f"{x_api.url}/public/label.png"),),
        ),
    )

    upload = x_api.sent("POST", r"^/x/2/media/upload$")[0]
    assert b'name="media_category"\r\n\r\ndm_image' in upload.body
    assert fake_x.PNG in upload.body
    sent = x_api.sent("POST", SEND_PATH)[0].json()
    assert sent["text"] == expected["text"]
    assert len(sent["attachments"]) == 1 and sent["attachments"][0]["media_id"].isdigit()


def test_two_media_items_are_refused(x_account, x_api):
    two = (IncomingAttachment(kind="image", url="https://a"),) * 2
    with pytest.raises(DeliveryError) as refused:
        get_connector("x").send(x_account, outbound(recipient_id=CUSTOMER_ID, attachments=two))
    assert refused.value.permanent
    assert x_api.requests == []


def test_429_is_retried_at_the_rate_limit_reset(conversation, x_api):
    reset = int(time.time()) + 120
    x_api.script(
        "POST",
        SEND_PATH,
        Reply(
            429,
            json.loads(fixture_bytes("x_error_429.json")),
            headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        ),
    )

    with committed():
        message = queue_reply(conversation=conversation, text="Hello again")

    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert message.error.startswith("Retrying: X rate limit reached")
    assert abs(message.next_attempt_at.timestamp() - reset) < 3


def test_legacy_rate_limit_body_is_understood(x_account, x_api):
    x_api.script(
        "POST", SEND_PATH, Reply(429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]})
    )
    with pytest.raises(DeliveryError) as error:
        get_connector("x").send(x_account, outbound(recipient_id=CUSTOMER_ID))
    assert not error.value.permanent and "Rate limit exceeded" in error.value.reason


def test_403_fails_readably_and_the_composer_remembers_it(conversation, x_api):
    x_api.script("POST", SEND_PATH, Reply(403, json.loads(fixture_bytes("x_error_403.json"))))

    with committed():
        message = queue_reply(conversation=conversation, text="Hello?")

    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert "recipient's settings may not accept messages" in message.error
    conversation.refresh_from_db()
    policy = reply_policy(conversation)
    assert policy.allowed and policy.code == "dm_refused"
    assert "settings may refuse DMs" in policy.detail

    # A later send that goes through clears the warning.
    with committed():
        queue_reply(conversation=conversation, text="Trying once more")
    conversation.refresh_from_db()
    assert "send_warning" not in conversation.metadata
    assert reply_policy(conversation).detail == "X has no reply window."


def test_legacy_403_code_says_what_x_said(conversation, x_api):
    x_api.script(
        "POST", SEND_PATH, Reply(403, json.loads(fixture_bytes("x_error_403__legacy_349.json")))
    )
    with committed():
        message = queue_reply(conversation=conversation, text="Hello?")
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.error == (
        "X refused this DM: the recipient does not accept messages from this account."
    )


def test_400_problem_details_reach_the_agent(x_account, x_api):
    x_api.script(
        "POST", SEND_PATH, Reply(400, json.loads(fixture_bytes("x_error_400_invalid_request.json")))
    )
    with pytest.raises(DeliveryError) as error:
        get_connector("x").send(x_account, outbound(recipient_id=CUSTOMER_ID))
    assert error.value.permanent
    assert "does not match ^[0-9]{1,19}$" in error.value.reason


def test_401_parks_the_message_until_the_account_is_reconnected(conversation, x_api):
    x_api.script("POST", SEND_PATH, Reply(401, {"title": "Unauthorized", "status": 401}))

    with committed():
        message = queue_reply(conversation=conversation, text="Hello?")

    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    conversation.account.refresh_from_db()
    assert conversation.account.status == PlatformAccount.Status.NEEDS_REAUTH


def test_check_connection_names_the_handle(x_account, x_api):
    assert get_connector("x").check_connection(x_account) == "@examplemugs_help"


def test_check_connection_refuses_a_token_of_another_user(x_account, x_api):
    x_account.external_id = "42"
    with pytest.raises(DeliveryError) as error:
        get_connector("x").check_connection(x_account)
    assert "@examplemugs_help" in error.value.reason and "42" in error.value.reason


def test_connect_account_keeps_mode_readable_and_tokens_encrypted(db, capsys):
    with committed():
        call_command(
            "connect_account",
            "x",
            "--external-id",
            ACCOUNT_ID,
            "--credential",
            "access_token=tok",
            "--credential",
            "consumer_secret=sec",
            "--credential",
            "mode=polling",
        )
    account = PlatformAccount.objects.get(platform="x")
    assert account.options == {"mode": "polling"}
    assert account.credentials == {"access_token": "tok", "consumer_secret": "sec"}
    assert get_connector("x").polls(account)
    assert capsys.readouterr().out.strip().endswith(str(account.pk))


def test_no_reply_window_on_x(conversation):
    Conversation.objects.filter(pk=conversation.pk).update(
        last_inbound_at=timezone.now() - timezone.timedelta(days=60)
    )
    conversation.refresh_from_db()
    assert reply_policy(conversation).allowed


# --- OAuth 2.0 token refresh ------------------------------------------------------------------

TOKEN_PATH = r"^/x/2/oauth2/token$"


def refreshed(access: str = "x-token-2", refresh: str = "r2") -> Reply:
    return Reply(
        200,
        {
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": access,
            "refresh_token": refresh,
            "scope": "dm.read dm.write tweet.read users.read offline.access",
        },
    )


def test_an_expiring_token_is_refreshed_before_the_call(x_account, x_api, settings):
    settings.X_CLIENT_ID = "fake-x-client"
    x_account.credentials = {
        **x_account.credentials,
        "refresh_token": "r1",
        "expires_at": (timezone.now() + timezone.timedelta(seconds=30)).isoformat(),
    }
    x_account.save()
    x_api.script("POST", TOKEN_PATH, refreshed())

    assert get_connector("x").check_connection(x_account) == "@examplemugs_help"

    form = x_api.sent("POST", TOKEN_PATH)[0].body.decode()
    assert "grant_type=refresh_token" in form and "refresh_token=r1" in form
    assert x_api.sent("GET", r"^/x/2/users/me$")[0].headers["authorization"] == "Bearer x-token-2"
    x_account.refresh_from_db()
    assert x_account.credentials["access_token"] == "x-token-2"
    assert x_account.credentials["refresh_token"] == "r2"
    assert x_account.credentials["expires_at"] > timezone.now().isoformat()


def test_a_token_x_no_longer_accepts_is_refreshed_once_and_the_call_retried(
    x_account, x_api, settings
):
    settings.X_CLIENT_ID = "fake-x-client"
    x_account.credentials = {**x_account.credentials, "refresh_token": "r1"}
    x_account.save()
    x_api.script("GET", r"^/x/2/users/me$", Reply(401, {"title": "Unauthorized", "status": 401}))
    x_api.script("POST", TOKEN_PATH, refreshed())

    assert get_connector("x").check_connection(x_account) == "@examplemugs_help"
    assert len(x_api.sent("GET", r"^/x/2/users/me$")) == 2


def test_a_refused_refresh_parks_replies_until_the_account_is_reconnected(
    conversation, x_api, settings
):
    settings.X_CLIENT_ID = "fake-x-client"
    account = conversation.account
    account.credentials = {**account.credentials, "refresh_token": "spent"}
    account.save()
    x_api.script("POST", SEND_PATH, Reply(401, {"title": "Unauthorized", "status": 401}))
    x_api.script("POST", TOKEN_PATH, Reply(400, {"error": "invalid_request"}))

    with committed():
        message = queue_reply(conversation=conversation, text="Hello?")

    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    account.refresh_from_db()
    assert account.status == PlatformAccount.Status.NEEDS_REAUTH
    assert "refresh" in account.last_error


def test_an_agents_file_from_the_composer_is_uploaded_from_storage(conversation, agent, x_api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inbox import composer

    upload = SimpleUploadedFile("label.png", fake_x.PNG, content_type="image/png")
    with committed():
        message = composer.send(
            conversation=conversation, author=agent, text="Your label", files=[upload]
        )

    message.refresh_from_db()
    assert message.status == Message.Status.SENT, message.error
    upload_request = x_api.sent("POST", r"^/x/2/media/upload$")[0]
    assert fake_x.PNG in upload_request.body
    assert b"image/png" in upload_request.body
    sent = x_api.sent("POST", SEND_PATH)[0].json()
    assert sent["text"] == "Your label" and len(sent["attachments"]) == 1
    # Read from Parley's storage: no request for Parley's own media link.
    assert not [r for r in x_api.requests if "/media/outbound/" in r.path]


def test_the_composer_refuses_a_second_file_for_x(conversation, agent):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inbox import composer
    from inbox.services import ReplyRefused

    files = [SimpleUploadedFile(f"{n}.png", fake_x.PNG, content_type="image/png") for n in "ab"]
    with pytest.raises(ReplyRefused) as refused:
        composer.send(conversation=conversation, author=agent, text="Two", files=files)
    assert refused.value.code == "too_many_attachments"


def test_the_conversation_page_warns_after_a_refused_dm(client, conversation, agent, x_api):
    x_api.script("POST", SEND_PATH, Reply(403, json.loads(fixture_bytes("x_error_403.json"))))
    with committed():
        queue_reply(conversation=conversation, text="Hello?")
    client.force_login(agent)

    page = client.get(f"/conversations/{conversation.pk}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "This contact&#x27;s settings may refuse DMs from this account" in html
    assert 'data-policy="dm_refused"' in html
