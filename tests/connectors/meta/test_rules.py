"""Meta's messaging rules with a controlled clock: 24-hour window, 7-day human-agent tag,
the bot outside 24 hours, Messenger cannot initiate, private replies, text limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import SendWindow
from inbox import engagement, services
from inbox.models import Conversation, Message
from inbox.policy import reply_policy
from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

LAST_INBOUND = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENT, BOT = Message.SenderKind.AGENT, Message.SenderKind.BOT


@pytest.fixture(params=["messenger_account", "instagram_account"])
def account(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def conversation(account):
    return ConversationFactory(account=account, last_inbound_at=LAST_INBOUND)


def _policy(conversation, elapsed, *, sender_kind=AGENT):
    return reply_policy(conversation, sender_kind=sender_kind, now=LAST_INBOUND + elapsed)


@pytest.mark.parametrize("sender_kind", [AGENT, BOT])
def test_inside_24_hours_is_a_response(conversation, sender_kind):
    policy = _policy(conversation, timedelta(hours=23, minutes=59), sender_kind=sender_kind)

    assert policy.allowed
    assert policy.window == SendWindow.WITHIN
    assert policy.window_closes_at == LAST_INBOUND + timedelta(hours=24)
    assert "closes in 1 min" in policy.detail


def test_between_24_hours_and_7_days_a_human_uses_the_tag_when_enabled(conversation, account):
    account.options = {"human_agent": True}
    account.save()

    policy = _policy(conversation, timedelta(days=3))

    assert policy.allowed
    assert policy.window == SendWindow.EXTENDED_AGENT
    assert policy.window_closes_at == LAST_INBOUND + timedelta(days=7)


def test_between_24_hours_and_7_days_without_the_feature_is_refused(conversation):
    policy = _policy(conversation, timedelta(hours=25))

    assert not policy.allowed
    assert policy.code == "window_closed"
    assert "human-agent" in policy.detail


def test_the_bot_cannot_answer_after_24_hours_even_with_the_tag(conversation, account):
    account.options = {"human_agent": True}
    account.save()

    policy = _policy(conversation, timedelta(hours=25), sender_kind=BOT)

    assert (policy.allowed, policy.code) == (False, "window_closed")
    assert "bot" in policy.detail


def test_after_7_days_nobody_may_reply(conversation, account):
    account.options = {"human_agent": True}
    account.save()

    policy = _policy(conversation, timedelta(days=7, seconds=1))

    assert (policy.allowed, policy.code) == (False, "window_closed")


def test_refused_reply_queues_nothing(conversation, agent):
    with pytest.raises(services.ReplyRefused) as refused:
        services.queue_reply(
            conversation=conversation,
            author=agent,
            text="Hello?",
            now=LAST_INBOUND + timedelta(days=2),
        )
    assert refused.value.code == "window_closed"
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_window_reopened_by_a_later_message_counts_from_then(conversation, agent):
    later = LAST_INBOUND + timedelta(days=5)
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=later)
    conversation.refresh_from_db()

    message = services.queue_reply(
        conversation=conversation, author=agent, text="Hi", now=later + timedelta(hours=1)
    )
    assert message.metadata["window"] == SendWindow.WITHIN


def test_a_business_cannot_start_the_conversation(account, agent):
    conversation = ConversationFactory(account=account, last_inbound_at=None)

    with pytest.raises(services.ReplyRefused) as refused:
        services.queue_reply(conversation=conversation, author=agent, text="Hi there")
    assert refused.value.code == "cannot_initiate"


def test_text_limits(conversation, account, agent):
    limit = 2000 if account.platform == "messenger" else 1000
    with pytest.raises(services.ReplyRefused) as refused:
        services.queue_reply(
            conversation=conversation,
            author=agent,
            text="x" * (limit + 1),
            now=LAST_INBOUND + timedelta(hours=1),
        )
    assert refused.value.code == "text_too_long"


def _comment(account, at):
    conversation = ConversationFactory(
        account=account,
        kind=Conversation.Kind.COMMENT,
        external_thread_id="c-1",
        last_inbound_at=at,
    )
    return MessageFactory(conversation=conversation, external_id="c-1", sent_at=at)


def test_private_reply_window_is_7_days_from_the_comment(account):
    comment = _comment(account, LAST_INBOUND)

    inside = engagement.private_reply_policy(
        comment, now=LAST_INBOUND + timedelta(days=6, hours=23)
    )
    outside = engagement.private_reply_policy(
        comment, now=LAST_INBOUND + timedelta(days=7, seconds=1)
    )

    assert inside.allowed and inside.closes_at == LAST_INBOUND + timedelta(days=7)
    assert (outside.allowed, outside.code) == (False, "private_reply_expired")


def test_one_private_reply_per_comment(account, agent):
    comment = _comment(account, LAST_INBOUND)
    now = LAST_INBOUND + timedelta(hours=2)

    engagement.queue_private_reply(comment=comment, text="Hi", author=agent, now=now)

    policy = engagement.private_reply_policy(comment, now=now)
    assert (policy.allowed, policy.code) == (False, "private_reply_used")


def test_private_reply_does_not_open_the_dm_window(account, agent):
    """After a private reply the business still waits for the customer to answer."""
    comment = _comment(account, LAST_INBOUND)
    now = LAST_INBOUND + timedelta(hours=2)
    message = engagement.queue_private_reply(comment=comment, text="Hi", author=agent, now=now)

    with pytest.raises(services.ReplyRefused) as refused:
        services.queue_reply(
            conversation=message.conversation, author=agent, text="Hello?", now=now
        )
    assert refused.value.code == "cannot_initiate"
