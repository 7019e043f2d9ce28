"""LinkedIn through the real view: challenge, the documented signature reading, notifications (deduped,
counted, comment conversations) and public replies through the fake comments API."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from connectors import webhooks
from connectors.base import DeliveryError, OutboundMessage
from connectors.models import LinkedInNotification, LinkedInPost
from connectors.registry import get_connector
from inbox.models import Conversation, Message, WebhookEvent
from inbox.services import queue_reply
from tests.factories import AccountFactory
from tests.helpers import committed

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
VECTORS = json.loads((FIXTURES / "signature_vectors.json").read_bytes())
SECRET = VECTORS["linkedin"][0]["client_secret"]
ORG = "urn:li:organization:96072893"
POST = "urn:li:activity:7412345678901234567"
COMMENT = "urn:li:comment:(urn:li:activity:7412345678901234567,7412399999999999999)"


def body_of(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sign(body: bytes, secret: str = SECRET) -> str:
    """The documented reading: hex HMAC-SHA256 over "hmacsha256=" + body."""
    return webhooks.hmac_sha256(secret, b"hmacsha256=" + body)


def post_li(client, body: bytes, signature: str | None = None):
    with committed():
        return client.post(
            "/webhooks/linkedin/",
            data=body,
            content_type="application/json",
            headers={"X-LI-Signature": signature if signature is not None else sign(body)},
        )


@pytest.fixture(autouse=True)
def li_settings(settings):
    settings.LINKEDIN_CLIENT_SECRET = ""


@pytest.fixture
def li_account(team):
    account = AccountFactory(
        platform="linkedin",
        name="Example Mugs",
        external_id=ORG,
        credentials={"access_token": "li-token", "client_secret": SECRET},
    )
    team.accounts.add(account)
    return account


# --- Challenge and signatures -----------------------------------------------------------------


def test_challenge_answers_the_vector_without_touching_the_database(
    client, settings, django_assert_num_queries
):
    vector = VECTORS["linkedin_challenge"]
    settings.LINKEDIN_CLIENT_SECRET = vector["client_secret"]
    code = vector["expected_response"]["body"]["challengeCode"]

    with django_assert_num_queries(0):
        response = client.get("/webhooks/linkedin/", {"challengeCode": code, "applicationId": "1"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == vector["expected_response"]["body"]
    assert response.json() == json.loads(body_of("linkedin_webhook_validation_response.json"))


def test_challenge_without_a_code_is_400(client, settings):
    settings.LINKEDIN_CLIENT_SECRET = SECRET
    assert client.get("/webhooks/linkedin/").status_code == 400


def test_documented_reading_of_the_signature_is_accepted(client, li_account):
    body = body_of(VECTORS["linkedin"][0]["body_file"])
    header = VECTORS["linkedin"][0]["headers"]["X-LI-Signature"]
    assert post_li(client, body, header).status_code == 200
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    "header",
    [
        VECTORS["linkedin"][0]["alternative_if_doc_misread"]["X-LI-Signature"],
        "hmacsha256=" + VECTORS["linkedin"][0]["headers"]["X-LI-Signature"],
        "hmacsha256=" + VECTORS["linkedin"][0]["alternative_if_doc_misread"]["X-LI-Signature"],
    ],
    ids=["body-only", "documented-prefixed", "body-only-prefixed"],
)
def test_undocumented_readings_of_the_signature_are_refused(client, li_account, header):
    # The body-only reading made the challenge answer, HMAC(secret, code), a valid signature
    # of a body equal to the code.
    body = body_of(VECTORS["linkedin"][0]["body_file"])
    assert post_li(client, body, header).status_code == 403
    assert Message.objects.count() == 0


def test_wrong_or_missing_signature_is_refused_and_archived(client, li_account):
    body = body_of("linkedin_org_social_action_comment.json")

    assert post_li(client, body, sign(body, "other-secret")).status_code == 403
    assert post_li(client, body, "").status_code == 403

    assert Message.objects.count() == 0
    assert WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.REJECTED).count() == 2


# --- Notifications ----------------------------------------------------------------------------


def test_comment_becomes_a_comment_conversation_for_its_post(client, li_account):
    assert post_li(client, body_of("linkedin_org_social_action_comment.json")).status_code == 200

    message = Message.objects.get()
    assert message.external_id == COMMENT
    assert message.text == "Do you ship to the UK?"
    assert message.metadata["post_text"] == "Our spring mug collection is live!"
    conversation = message.conversation
    assert conversation.kind == Conversation.Kind.COMMENT
    assert conversation.external_thread_id == POST
    assert conversation.participants.get().platform_user_id == "urn:li:person:AbCdEf1234"
    assert LinkedInPost.objects.get(post_urn=POST).comments == 1


def test_the_comment_conversation_shows_the_posts_counts(client, li_account):
    post_li(client, body_of("linkedin_org_social_action_comment.json"))
    post_li(client, body_of("linkedin_org_social_action__like_and_share.json"))

    activity = Conversation.objects.get().metadata["post_activity"]
    assert (activity["likes"], activity["shares"], activity["comments"]) == (2, 1, 1)
    assert activity["text"] == "Our spring mug collection is live!"


def test_redelivered_notification_is_applied_once(client, li_account):
    body = body_of("linkedin_org_social_action_comment.json")
    post_li(client, body)
    post_li(client, body)

    assert Message.objects.count() == 1
    assert LinkedInNotification.objects.count() == 1
    assert LinkedInPost.objects.get().comments == 1


def test_likes_and_shares_are_counted_on_the_post_not_conversations(client, li_account):
    body = body_of("linkedin_org_social_action__like_and_share.json")
    post_li(client, body)
    post_li(client, body)

    post = LinkedInPost.objects.get(post_urn=POST)
    assert (post.likes, post.shares, post.comments) == (2, 1, 0)
    assert post.text == "Our spring mug collection is live!"
    assert Conversation.objects.count() == 0


def test_comment_edit_and_delete_follow_the_comment(client, li_account):
    post_li(client, body_of("linkedin_org_social_action_comment.json"))

    post_li(client, body_of("linkedin_org_social_action__comment_edit.json"))
    message = Message.objects.get()
    assert message.text == "Do you ship to the UK and Ireland?"
    assert message.metadata["edits"][0]["text"] == "Do you ship to the UK?"

    post_li(client, body_of("linkedin_org_social_action__comment_delete.json"))
    message.refresh_from_db()
    assert message.is_deleted and message.visible_text == ""
    assert LinkedInPost.objects.get().comments == 0


def test_mention_in_a_members_post_is_a_conversation(client, li_account):
    post_li(client, body_of("linkedin_org_social_action__share_mention.json"))

    message = Message.objects.get()
    assert message.text == "Thanks @Example Mugs for the fast replacement!"
    assert message.conversation.kind == Conversation.Kind.COMMENT
    assert message.conversation.external_thread_id == "urn:li:activity:7412377777777777777"
    assert message.sender_identity.platform_user_id == "urn:li:person:Mn5Bv4Cx3Z"
    assert LinkedInPost.objects.get().mentions == 1


def test_page_comment_written_on_linkedin_shows_as_sent_outside_parley(client, li_account):
    post_li(client, body_of("linkedin_org_social_action_comment.json"))
    post_li(client, body_of("linkedin_org_social_action__admin_comment.json"))

    reply = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert reply.sent_outside_parley and reply.text == "Yes, we ship to the UK!"
    assert reply.conversation.external_thread_id == POST


def test_page_comment_on_a_post_without_customer_comments_is_only_counted(client, li_account):
    post_li(client, body_of("linkedin_org_social_action__admin_comment.json"))
    assert Message.objects.count() == 0
    assert LinkedInPost.objects.get().comments == 1


def test_unknown_action_is_acknowledged(client, li_account):
    body = body_of("linkedin_org_social_action_comment.json").replace(
        b'"COMMENT"', b'"NEW_KIND_OF_ACTION"'
    )
    assert post_li(client, body).status_code == 200
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.IGNORED


# --- Public replies ---------------------------------------------------------------------------


def test_agent_reply_is_a_public_nested_comment_with_version_headers(
    client, li_account, fake_platforms
):
    post_li(client, body_of("linkedin_org_social_action_comment.json"))
    conversation = Conversation.objects.select_related("account", "contact").get()

    with committed():
        message = queue_reply(conversation=conversation, text="Yes, we ship to the UK!")

    message.refresh_from_db()
    assert message.status == Message.Status.SENT, message.error
    request = fake_platforms.sent("POST", r"^/linkedin/rest/socialActions/")[0]
    assert unquote(request.path.split("/")[4]) == COMMENT
    assert request.headers["linkedin-version"]
    assert request.headers["x-restli-protocol-version"] == "2.0.0"
    assert request.headers["authorization"] == "Bearer li-token"
    assert request.json() == {
        "actor": ORG,
        "object": POST,
        "message": {"text": "Yes, we ship to the UK!"},
        "parentComment": COMMENT,
    }
    assert message.external_id.startswith(f"urn:li:comment:({POST},")

    # LinkedIn then notifies the Page's own comment: it is recognised, not shown twice.
    admin = body_of("linkedin_org_social_action__admin_comment.json").replace(
        b"urn:li:comment:(urn:li:activity:7412345678901234567,7412411111111111111)",
        message.external_id.encode(),
    )
    post_li(client, admin)
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1


def test_linkedin_offers_no_direct_messages(li_account, fake_platforms):
    with pytest.raises(DeliveryError) as refused:
        get_connector("linkedin").send(
            li_account, OutboundMessage(text="Hi", client_ref="r", recipient_id="urn:li:person:x")
        )
    assert refused.value.permanent and "no messaging API" in refused.value.reason
    assert fake_platforms.requests == []


def test_refused_comment_reads_clearly(client, li_account, fake_platforms):
    from tests.fakes.server import Reply

    post_li(client, body_of("linkedin_org_social_action_comment.json"))
    conversation = Conversation.objects.select_related("account", "contact").get()
    fake_platforms.script(
        "POST",
        r"^/linkedin/rest/socialActions/",
        Reply(
            403,
            {
                "status": 403,
                "serviceErrorCode": 100,
                "code": "ACCESS_DENIED",
                "message": "Not enough permissions to access: partnerApiSocialActions",
            },
        ),
    )

    with committed():
        message = queue_reply(conversation=conversation, text="Yes!")

    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert "w_organization_social" in message.error
    assert "Not enough permissions" in message.error


def test_check_connection_names_the_organisation(li_account, fake_platforms):
    assert get_connector("linkedin").check_connection(li_account) == (
        "LinkedIn organisation Example Mugs"
    )
    request = fake_platforms.sent("GET", r"^/linkedin/rest/organizations/96072893$")[0]
    assert request.headers["x-restli-protocol-version"] == "2.0.0"


def test_fixture_bytes_match_the_vectors():
    body = body_of(VECTORS["linkedin"][0]["body_file"])
    assert sign(body) == VECTORS["linkedin"][0]["headers"]["X-LI-Signature"]


def test_connect_account_for_an_organisation(db, capsys):
    from django.core.management import call_command

    from inbox.models import PlatformAccount

    call_command(
        "connect_account",
        "linkedin",
        "--external-id",
        ORG,
        "--credential",
        "access_token=tok",
        "--credential",
        "client_secret=sec",
        "--credential",
        "api_version=202601",
    )

    account = PlatformAccount.objects.get(platform="linkedin")
    assert account.credentials == {"access_token": "tok", "client_secret": "sec"}
    assert account.options == {"api_version": "202601"}
    assert get_connector("linkedin").headers(account)["LinkedIn-Version"] == "202601"


def test_a_reply_to_a_nested_comment_goes_under_its_top_level_parent(
    client, li_account, fake_platforms
):
    nested = "urn:li:comment:(urn:li:activity:7412345678901234567,7412455555555555555)"
    body = (
        body_of("linkedin_org_social_action_comment.json")
        .replace(b'"notificationId": 5603453321', b'"notificationId": 5603453999')
        .replace(
            b'"entity": "' + COMMENT.encode() + b'"',
            b'"entity": "' + nested.encode() + b'"',
        )
        .replace(
            b'"generatedActivity": "' + COMMENT.encode() + b'"',
            b'"generatedActivity": "' + nested.encode() + b'"',
        )
        .replace(
            b'"object": "urn:li:activity:7412345678901234567"',
            b'"object": "' + COMMENT.encode() + b'"',
        )
    )
    post_li(client, body)
    assert Message.objects.get().external_id == nested
    conversation = Conversation.objects.select_related("account", "contact").get()

    with committed():
        queue_reply(conversation=conversation, text="Replying in the thread")

    request = fake_platforms.sent("POST", r"^/linkedin/rest/socialActions/")[0]
    assert unquote(request.path.split("/")[4]) == COMMENT
    assert request.json()["parentComment"] == COMMENT


def test_malformed_push_is_400_and_kept(client, li_account, settings):
    settings.LINKEDIN_CLIENT_SECRET = SECRET
    body = b'{"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": ['

    assert post_li(client, body).status_code == 400
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.FAILED


def test_push_without_notifications_is_kept_as_failed(client, li_account, settings):
    settings.LINKEDIN_CLIENT_SECRET = SECRET
    body = b'{"type": "SOMETHING_ELSE"}'

    assert post_li(client, body).status_code == 200
    archived = WebhookEvent.objects.get()
    assert archived.outcome == WebhookEvent.Outcome.FAILED
    assert "notifications list" in archived.error
