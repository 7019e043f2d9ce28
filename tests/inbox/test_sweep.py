"""Redis keeps nothing on disk: work whose task was lost is found in PostgreSQL and redone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Message, WebhookEvent
from inbox.tasks import requeue_stalled_work
from tests.factories import ConversationFactory, MessageFactory
from tests.helpers import sandbox_body

pytestmark = pytest.mark.django_db(transaction=True)


def test_archived_webhook_whose_task_was_lost_is_processed(account):
    lost = WebhookEvent.objects.create(
        source="sandbox",
        account=account,
        body=sandbox_body(message_id="lost-1", text="still here"),
        signature_valid=True,
        received_at=timezone.now() - timedelta(minutes=5),
    )

    assert requeue_stalled_work() == {"messages": 0, "webhooks": 1}

    lost.refresh_from_db()
    assert lost.outcome == WebhookEvent.Outcome.PROCESSED
    assert Message.objects.get(external_id="lost-1").text == "still here"


def test_queued_reply_whose_task_was_lost_is_sent(account):
    message = MessageFactory(
        conversation=ConversationFactory(account=account),
        direction="outbound",
        sender_kind="agent",
        status="queued",
        external_id=None,
        client_ref="lost-ref",
        created_at=timezone.now() - timedelta(minutes=2),
    )

    assert requeue_stalled_work()["messages"] == 1

    message.refresh_from_db()
    assert message.status == Message.Status.SENT


def test_send_interrupted_by_a_dead_worker_is_retried_after_its_lease(account):
    message = MessageFactory(
        conversation=ConversationFactory(account=account),
        direction="outbound",
        sender_kind="agent",
        status="sending",
        external_id=None,
        client_ref="stuck-ref",
        next_attempt_at=timezone.now() - timedelta(seconds=1),
    )

    requeue_stalled_work()

    message.refresh_from_db()
    assert message.status == Message.Status.SENT


def test_recent_unprocessed_webhooks_are_left_to_their_task(account):
    WebhookEvent.objects.create(
        source="sandbox", account=account, body=sandbox_body(), signature_valid=True
    )
    assert requeue_stalled_work()["webhooks"] == 0
