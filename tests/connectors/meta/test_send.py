"""Outbound through the Send API of the fake Graph server: bodies, echoes, errors, retries,
re-authorisation, comment replies, private replies, sender actions and identity checks."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from connectors.base import DeliveryError, IncomingAttachment, OutboundMessage
from connectors.meta import graph
from connectors.registry import get_connector
from inbox import delivery, engagement, services
from inbox.models import Conversation, Message, PlatformAccount
from tests.connectors.meta.conftest import IGSID, PSID
from tests.factories import ConversationFactory, IdentityFactory, MessageFactory
from tests.fakes.meta import PAGE_ID, error_body, error_fixture
from tests.fakes.server import Reply

pytestmark = pytest.mark.django_db

SEND = r"/meta/v[0-9.]+/[^/]+/messages$"


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    """Run a write and what its commit schedules (the eager delivery task)."""

    def run(write, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return write(*args, **kwargs)

    return run


def _dm(account, user_id, *, inbound_ago=timedelta(minutes=5)):
    identity = IdentityFactory(account=account, platform_user_id=user_id)
    return ConversationFactory(
        account=account,
        contact=identity.contact,
        identity=identity,
        last_inbound_at=timezone.now() - inbound_ago if inbound_ago is not None else None,
    )


@pytest.fixture
def dm(messenger_account):
    return _dm(messenger_account, PSID)


@pytest.fixture
def ig_dm(instagram_account):
    return _dm(instagram_account, IGSID)


def test_reply_inside_the_window_goes_as_response_with_our_ref(
    run_commits, dm, agent, fake_platforms
):
    message = run_commits(services.queue_reply, conversation=dm, author=agent, text="On its way!")

    (sent,) = fake_platforms.sent("POST", SEND)
    assert sent.path.endswith(f"/{PAGE_ID}/messages")
    assert sent.query["access_token"] == ["EAAG-page-token"]
    assert sent.json() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "On its way!", "metadata": message.client_ref},
    }
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.external_id.startswith("m_fake_")


def _echo_body(account, message, mid):
    return json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": account.external_id,
                    "time": int(time.time() * 1000),
                    "messaging": [
                        {
                            "sender": {"id": account.external_id},
                            "recipient": {"id": PSID},
                            "timestamp": int(time.time() * 1000),
                            "message": {
                                "mid": mid,
                                "is_echo": True,
                                "app_id": 2098765432109876,
                                "metadata": message.client_ref,
                                "text": message.text,
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def test_echo_of_our_send_makes_no_second_message(
    run_commits, post_meta, messenger_account, dm, agent
):
    message = run_commits(services.queue_reply, conversation=dm, author=agent, text="Hello")
    message.refresh_from_db()

    post_meta(_echo_body(messenger_account, message, message.external_id))

    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1
    assert not Message.objects.filter(sent_outside_parley=True).exists()


def test_echo_arriving_before_the_send_api_answers_is_recognised(
    post_meta, messenger_account, dm, agent
):
    message = services.queue_reply(conversation=dm, author=agent, text="Hello")  # not delivered yet
    Message.objects.filter(pk=message.pk).update(status=Message.Status.SENDING)

    post_meta(_echo_body(messenger_account, message, "m_echo_first"))

    message.refresh_from_db()
    assert (message.status, message.external_id) == (Message.Status.SENT, "m_echo_first")
    assert Message.objects.count() == 1


def test_human_agent_tag_between_24_hours_and_7_days(
    run_commits, messenger_account, agent, fake_platforms
):
    messenger_account.options = {"human_agent": True}
    messenger_account.save()
    conversation = _dm(messenger_account, PSID, inbound_ago=timedelta(days=3))

    run_commits(services.queue_reply, conversation=conversation, author=agent, text="Sorry!")

    body = fake_platforms.sent("POST", SEND)[0].json()
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_quick_replies_for_the_chatbot(run_commits, dm, fake_platforms):
    run_commits(
        services.queue_reply,
        conversation=dm,
        text="What can I help you with?",
        sender_kind=Message.SenderKind.BOT,
        quick_replies=["Track my order", "Returns"],
    )

    message = fake_platforms.sent("POST", SEND)[0].json()["message"]
    assert message["quick_replies"] == [
        {"content_type": "text", "title": "Track my order", "payload": "Track my order"},
        {"content_type": "text", "title": "Returns", "payload": "Returns"},
    ]


def test_attachments_go_one_per_call_before_the_text(messenger_account, fake_platforms):
    ref = f"ref-{time.time_ns()}"
    result = get_connector("messenger").send(
        messenger_account,
        OutboundMessage(
            text="Here is the label",
            client_ref=ref,
            recipient_id=PSID,
            attachments=(
                IncomingAttachment(kind="image", url="https://files.example/label.png"),
                IncomingAttachment(kind="file", url="https://files.example/label.pdf"),
            ),
        ),
    )

    bodies = [r.json()["message"] for r in fake_platforms.sent("POST", SEND)]
    assert bodies[0]["attachment"] == {
        "type": "image",
        "payload": {"url": "https://files.example/label.png", "is_reusable": True},
    }
    assert bodies[1]["attachment"]["type"] == "file"
    assert [b["metadata"] for b in bodies] == [f"{ref}#1", f"{ref}#2", ref]
    assert bodies[2]["text"] == "Here is the label"
    assert result.external_id.startswith("m_fake_")


def test_instagram_sends_through_me_messages(run_commits, ig_dm, agent, fake_platforms):
    run_commits(services.queue_reply, conversation=ig_dm, author=agent, text="Yes we do")

    (sent,) = fake_platforms.sent("POST", SEND)
    assert sent.path.endswith("/me/messages")
    assert sent.query["access_token"] == ["IGQ-token"]
    assert sent.json()["recipient"] == {"id": IGSID}


# --- Error classification ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "code", "permanent", "auth"),
    [
        (400, error_fixture("meta_error_outside_window.json"), "window_closed", True, False),
        (403, error_fixture("instagram_error_outside_window.json"), "window_closed", True, False),
        (400, error_fixture("meta_error_invalid_token.json"), "invalid_token", True, True),
        (400, error_fixture("meta_error_rate_limit.json"), "rate_limited", False, False),
        (400, error_body(551, 1545041), "recipient_unavailable", True, False),
        (400, error_body(200, 1545041), "recipient_unavailable", True, False),
        (400, error_body(10, 2018108), "recipient_unavailable", True, False),
        (400, error_body(100, 2018001), "bad_recipient", True, False),
        (400, error_body(100, 2534014), "bad_recipient", True, False),
        (400, error_body(1200, 2018024), "temporary", False, False),
        (400, error_body(4), "rate_limited", False, False),
        (400, error_body(32), "rate_limited", False, False),
        (400, error_body(80006), "rate_limited", False, False),
        (400, error_body(100, 2018047), "bad_media", True, False),
        (400, error_body(10, 1893063), "policy_blocked", True, False),
        (400, error_body(10, 2018300), "thread_controlled", True, False),
        (400, error_body(200, 2018028), "permission", True, False),
        (500, error_body(100, 33), "temporary", False, False),
        (400, error_body(100, 33), "refused", True, False),
    ],
)
def test_errors_are_classified_by_code_and_subcode(
    messenger_account, fake_platforms, status, body, code, permanent, auth
):
    fake_platforms.script("POST", SEND, Reply(status, body))

    with pytest.raises(DeliveryError) as raised:
        get_connector("messenger").send(
            messenger_account, OutboundMessage(text="hi", client_ref="r", recipient_id=PSID)
        )

    error = raised.value
    assert (error.code, error.permanent, error.auth) == (code, permanent, auth)
    assert error.reason


def test_http_error_without_a_graph_body_falls_back_to_the_status(
    messenger_account, fake_platforms
):
    fake_platforms.script(
        "POST", SEND, Reply(503, raw=b"<html>busy</html>", content_type="text/html")
    )

    with pytest.raises(DeliveryError) as raised:
        get_connector("messenger").send(
            messenger_account, OutboundMessage(text="hi", client_ref="r", recipient_id=PSID)
        )
    assert raised.value.permanent is False


def test_rate_limit_waits_for_metas_estimate(messenger_account, fake_platforms):
    usage = {"123": [{"type": "messenger", "estimated_time_to_regain_access": 3}]}
    fake_platforms.script(
        "POST",
        SEND,
        Reply(400, error_body(80006), headers={"X-Business-Use-Case-Usage": json.dumps(usage)}),
    )
    with pytest.raises(DeliveryError) as raised:
        get_connector("messenger").send(
            messenger_account, OutboundMessage(text="hi", client_ref="r", recipient_id=PSID)
        )
    assert raised.value.retry_after == 180


def test_window_closed_fails_with_a_reason_and_is_not_retried(
    run_commits, dm, agent, fake_platforms
):
    fake_platforms.script("POST", SEND, Reply(400, error_fixture("meta_error_outside_window.json")))

    message = run_commits(services.queue_reply, conversation=dm, author=agent, text="Hi")

    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert "window" in message.error
    assert delivery.deliver(message.pk) is None
    assert len(fake_platforms.sent("POST", SEND)) == 1


def test_temporary_failure_is_retried_then_sent(run_commits, dm, agent, fake_platforms):
    fake_platforms.script("POST", SEND, Reply(400, error_body(1200, 2018024)))

    message = run_commits(services.queue_reply, conversation=dm, author=agent, text="Hi")
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert message.next_attempt_at > timezone.now()
    assert "Retrying" in message.error

    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert delivery.deliver(message.pk) == Message.Status.SENT
    assert len(fake_platforms.sent("POST", SEND)) == 2


def test_rate_limit_schedules_the_retry_a_minute_later(run_commits, dm, agent, fake_platforms):
    fake_platforms.script("POST", SEND, Reply(400, error_fixture("meta_error_rate_limit.json")))

    message = run_commits(services.queue_reply, conversation=dm, author=agent, text="Hi")

    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert message.next_attempt_at - timezone.now() > timedelta(seconds=50)


def test_invalid_token_parks_messages_until_the_account_is_reconnected(
    run_commits, messenger_account, dm, agent, fake_platforms
):
    fake_platforms.script("POST", SEND, Reply(400, error_fixture("meta_error_invalid_token.json")))

    first = run_commits(services.queue_reply, conversation=dm, author=agent, text="One")
    second = run_commits(services.queue_reply, conversation=dm, author=agent, text="Two")

    messenger_account.refresh_from_db()
    assert messenger_account.status == PlatformAccount.Status.NEEDS_REAUTH
    assert "reconnect" in messenger_account.last_error
    for message in (first, second):
        message.refresh_from_db()
        assert message.status == Message.Status.QUEUED
        assert message.error.startswith("Waiting")
    assert len(fake_platforms.sent("POST", SEND)) == 1
    assert delivery.due_messages() == []

    run_commits(
        call_command,
        "connect_account",
        "messenger",
        "--external-id",
        PAGE_ID,
        "--name",
        "Acme Mugs",
        "--credential",
        "page_access_token=EAAG-new-token",
    )
    due = set(delivery.due_messages(now=timezone.now() + timedelta(minutes=1)))
    assert {first.pk, second.pk} <= due
    for pk in (first.pk, second.pk):
        assert delivery.deliver(pk) == Message.Status.SENT
    assert fake_platforms.sent("POST", SEND)[-1].query["access_token"] == ["EAAG-new-token"]


def test_account_without_token_needs_reauthorisation(run_commits, messenger_account, dm, agent):
    messenger_account.credentials = {}
    messenger_account.save()

    message = run_commits(services.queue_reply, conversation=dm, author=agent, text="Hi")

    messenger_account.refresh_from_db()
    assert messenger_account.status == PlatformAccount.Status.NEEDS_REAUTH
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED


def test_send_rate_is_capped_per_account(messenger_account):
    returned = []
    for _ in range(7):
        graph.throttle(messenger_account, 3, bucket="test")
        returned.append(int(time.time()))
    per_second = {second: returned.count(second) for second in returned}
    assert max(per_second.values()) <= 3
    assert len(per_second) >= 3


# --- Comments: public and private replies -----------------------------------------------------


@pytest.fixture
def ig_comment(post_meta, instagram_account):
    post_meta("instagram_comment.json")
    # The fixture's comment is from January; here it was written an hour ago.
    Message.objects.filter(external_id="18078901234567890").update(
        sent_at=timezone.now() - timedelta(hours=1)
    )
    return Message.objects.get(external_id="18078901234567890")


def test_public_reply_under_an_instagram_comment(run_commits, ig_comment, agent, fake_platforms):
    reply = run_commits(
        engagement.queue_comment_reply, comment=ig_comment, text="It's $24!", author=agent
    )

    (sent,) = fake_platforms.sent("POST", r"/replies$")
    assert sent.path.endswith("/18078901234567890/replies")
    assert sent.json() == {"message": "It's $24!"}
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT
    assert reply.conversation == ig_comment.conversation


def test_public_reply_is_allowed_long_after_the_comment(run_commits, ig_comment, agent):
    Conversation.objects.filter(pk=ig_comment.conversation_id).update(
        last_inbound_at=timezone.now() - timedelta(days=30)
    )
    ig_comment.conversation.refresh_from_db()
    reply = run_commits(
        engagement.queue_comment_reply, comment=ig_comment, text="Late answer", author=agent
    )
    assert reply.pk


def test_public_reply_under_a_page_post_comment(
    run_commits, post_meta, messenger_account, agent, fake_platforms
):
    post_meta("messenger_feed__comment.json")
    comment = Message.objects.get()

    run_commits(engagement.queue_comment_reply, comment=comment, text="Sorry!", author=agent)

    (sent,) = fake_platforms.sent("POST", r"/comments$")
    assert sent.path.endswith("/122145678901234999_998877665544/comments")


def test_private_reply_opens_a_linked_dm_once(run_commits, ig_comment, agent, fake_platforms):
    dm_message = run_commits(
        engagement.queue_private_reply,
        comment=ig_comment,
        text="Let's sort it out here",
        author=agent,
    )

    (sent,) = fake_platforms.sent("POST", SEND)
    assert sent.json() == {
        "recipient": {"comment_id": "18078901234567890"},
        "message": {"text": "Let's sort it out here", "metadata": dm_message.client_ref},
    }
    dm_message.refresh_from_db()
    assert dm_message.status == Message.Status.SENT
    dm = dm_message.conversation
    assert dm.kind == Conversation.Kind.DM
    assert dm.origin == ig_comment.conversation
    assert dm.contact == ig_comment.conversation.contact

    with pytest.raises(services.ReplyRefused) as refused:
        engagement.queue_private_reply(comment=ig_comment, text="Again", author=agent)
    assert refused.value.code == "private_reply_used"


def test_customers_dm_after_a_private_reply_joins_the_linked_conversation(
    run_commits, post_meta, ig_comment, agent
):
    dm_message = run_commits(
        engagement.queue_private_reply, comment=ig_comment, text="DM me", author=agent
    )
    post_meta("instagram_text.json")

    answer = Message.objects.get(text="Do you ship to Canada?")
    assert answer.conversation == dm_message.conversation
    assert answer.conversation.origin == ig_comment.conversation


def test_private_reply_after_7_days_is_refused(ig_comment, agent):
    later = ig_comment.sent_at + timedelta(days=7, minutes=1)
    with pytest.raises(services.ReplyRefused) as refused:
        engagement.queue_private_reply(comment=ig_comment, text="Hi", author=agent, now=later)
    assert refused.value.code == "private_reply_expired"
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_failed_private_reply_may_be_tried_again(run_commits, ig_comment, agent, fake_platforms):
    fake_platforms.script("POST", SEND, Reply(400, error_body(100, 2534014)))
    first = run_commits(engagement.queue_private_reply, comment=ig_comment, text="Hi", author=agent)
    first.refresh_from_db()
    assert first.status == Message.Status.FAILED

    second = run_commits(
        engagement.queue_private_reply, comment=ig_comment, text="Hi", author=agent
    )
    second.refresh_from_db()
    assert second.status == Message.Status.SENT


def test_private_reply_only_answers_comments(dm, agent):
    message = MessageFactory(conversation=dm)
    with pytest.raises(services.ReplyRefused) as refused:
        engagement.queue_private_reply(comment=message, text="Hi", author=agent)
    assert refused.value.code == "not_a_comment"


# --- Sender actions, identity checks ----------------------------------------------------------


def test_mark_seen_is_sent_in_the_background(run_commits, dm, fake_platforms):
    assert run_commits(engagement.mark_seen, dm) is True

    (sent,) = fake_platforms.sent("POST", SEND)
    assert sent.json() == {"recipient": {"id": PSID}, "sender_action": "mark_seen"}


def test_no_sender_action_once_the_window_closed(run_commits, messenger_account, fake_platforms):
    conversation = _dm(messenger_account, PSID, inbound_ago=timedelta(days=2))
    assert run_commits(engagement.mark_seen, conversation) is False
    assert fake_platforms.sent("POST", SEND) == []


def test_typing_indicator_only_where_the_account_enables_it(
    run_commits, messenger_account, dm, fake_platforms
):
    assert run_commits(engagement.set_typing, dm, True) is False
    messenger_account.options = {"typing_indicators": True}
    messenger_account.save()
    dm.account.refresh_from_db()

    assert run_commits(engagement.set_typing, dm, True) is True
    assert fake_platforms.sent("POST", SEND)[0].json()["sender_action"] == "typing_on"


def test_check_connection_names_the_page(messenger_account):
    assert get_connector("messenger").check_connection(messenger_account) == (
        f"Page Acme Mugs ({PAGE_ID})"
    )


def test_check_connection_spots_a_token_of_another_page(messenger_account):
    messenger_account.external_id = "555"
    with pytest.raises(DeliveryError) as raised:
        get_connector("messenger").check_connection(messenger_account)
    assert "Acme Mugs" in raised.value.reason


def test_check_connection_with_an_expired_token(messenger_account, fake_platforms):
    fake_platforms.script(
        "GET", r"/me$", Reply(400, error_fixture("meta_error_invalid_token.json"))
    )
    with pytest.raises(DeliveryError) as raised:
        get_connector("messenger").check_connection(messenger_account)
    assert raised.value.auth is True


def test_check_connection_names_the_instagram_account(instagram_account):
    assert get_connector("instagram").check_connection(instagram_account) == "@examplemugs"


def test_connect_account_forms(capsys, team):
    call_command(
        "connect_account",
        "messenger",
        "--external-id",
        PAGE_ID,
        "--name",
        "Acme Mugs",
        "--credential",
        "page_access_token=EAAG",
        "--credential",
        "app_secret=s",
        "--credential",
        "human_agent=true",
        "--team",
        "Support",
    )
    account_id = int(capsys.readouterr().out.strip().splitlines()[-1])
    account = PlatformAccount.objects.get(pk=account_id)
    assert account.credentials == {"page_access_token": "EAAG", "app_secret": "s"}
    assert account.options == {"human_agent": True}
    assert team in account.teams.all()

    call_command(
        "connect_account",
        "instagram",
        "--external-id",
        "178",
        "--name",
        "ig",
        "--credential",
        "access_token=IGQ",
        "--credential",
        "human_agent=true",
    )
    ig = PlatformAccount.objects.get(platform="instagram")
    assert (ig.credentials, ig.options) == ({"access_token": "IGQ"}, {"human_agent": True})


def test_retry_after_a_failed_part_does_not_resend_the_parts_accepted(
    messenger_account, fake_platforms
):
    outbound = OutboundMessage(
        text="And the label",
        client_ref=f"ref-{time.time_ns()}",
        recipient_id=PSID,
        attachments=(IncomingAttachment(kind="image", url="https://files.example/a.png"),),
    )
    connector = get_connector("messenger")
    fake_platforms.script(
        "POST", SEND, Reply(200, {"recipient_id": PSID, "message_id": "m_part_1"})
    )
    fake_platforms.script("POST", SEND, Reply(400, error_body(1200, 2018024)))
    with pytest.raises(DeliveryError):
        connector.send(messenger_account, outbound)

    result = connector.send(messenger_account, outbound)

    bodies = [r.json()["message"] for r in fake_platforms.sent("POST", SEND)]
    assert [("attachment" in b, "text" in b) for b in bodies] == [
        (True, False),
        (False, True),
        (False, True),
    ]
    assert result.external_id.startswith("m_fake_")


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "in-process"])
def test_a_rolling_window_cap_counts_calls_and_says_when_the_next_fits(
    shared, settings, monkeypatch, messenger_account
):
    if not shared:
        settings.REDIS_URL = ""
        monkeypatch.setattr(graph, "_redis", None)
    claims = [graph.claim_in_window(messenger_account, "test", 2, 1.0) for _ in range(3)]

    assert claims[:2] == [0.0, 0.0]
    assert 0 < claims[2] <= 1.0
    time.sleep(claims[2] + 0.05)
    assert graph.claim_in_window(messenger_account, "test", 2, 1.0) == 0.0


def test_private_replies_over_metas_hourly_cap_wait_instead_of_failing(
    run_commits, ig_comment, agent, fake_platforms, monkeypatch
):
    from connectors.meta import connector

    monkeypatch.setattr(connector, "PRIVATE_REPLIES_PER_HOUR", 1)
    # The account's one private reply of the hour went out a moment ago (another comment).
    assert graph.claim_in_window(ig_comment.account, "private-replies", 1, 3600) == 0.0

    message = run_commits(
        engagement.queue_private_reply, comment=ig_comment, text="Hi there", author=agent
    )

    assert fake_platforms.sent("POST", SEND) == []
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert "1 private replies an hour" in message.error
    wait = (message.next_attempt_at - timezone.now()).total_seconds()
    assert 3500 < wait <= 3600
