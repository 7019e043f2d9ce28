"""Outbound webhooks against a real local receiver: signed deliveries of the inbox's events,
retries with backoff, replay, the SSRF guard, pausing, and automation's direct send."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import services
from inbox.models import Label
from outbound_webhooks import sending
from outbound_webhooks import services as webhooks
from outbound_webhooks.models import Delivery, Subscription
from tests.factories import ConversationFactory
from tests.fakes.server import Reply
from tests.helpers import committed, customer_writes, token_client, wait_for

pytestmark = pytest.mark.django_db


def test_a_customer_message_reaches_the_subscriber_signed(account, subscribe, receiver):
    subscription = subscribe("message.created", "conversation.created")

    conversation = customer_writes(account, "cust-1", "m-1")

    posts = receiver.posts()
    assert [p.headers["x-parley-event"] for p in posts] == [
        "conversation.created",
        "message.created",
    ]
    assert all(receiver.verified(p) for p in posts)
    created, message = receiver.bodies()
    assert set(message) == {"id", "event", "created_at", "data"}
    assert posts[1].headers["x-parley-delivery"] == message["id"]
    assert posts[1].headers["content-type"] == "application/json"
    assert message["event"] == "message.created"
    assert message["data"]["conversation"]["id"] == conversation.pk
    assert message["data"]["message"]["text"] == "hello"
    assert message["data"]["message"]["direction"] == "inbound"
    assert created["data"]["conversation"]["status"] == "open"
    # Logged: the receiver's status, its answer and how long it took.
    delivery = Delivery.objects.get(uuid=message["id"])
    assert delivery.subscription_id == subscription["id"]
    assert delivery.status == "succeeded" and delivery.attempts == 1
    attempt = delivery.attempt_log.get()
    assert attempt.status_code == 200
    assert attempt.response_excerpt == "thanks"
    assert attempt.duration_ms < 5000


def test_a_delivery_is_stored_before_it_is_sent_and_survives_a_lost_task(
    account, subscribe, receiver, monkeypatch
):
    subscribe("message.created")
    # The first attempt's task is lost (Redis restarted): the delivery waits in PostgreSQL.
    monkeypatch.setattr(webhooks.tasks.send_delivery, "delay", lambda pk: None)
    customer_writes(account, "cust-1", "m-1")
    assert receiver.posts() == []
    assert Delivery.objects.get().status == "pending"

    assert sending.send_due() == 1  # the periodic pass

    assert len(receiver.posts()) == 1
    assert Delivery.objects.get().status == "succeeded"


def test_failures_are_retried_with_growing_waits_until_the_receiver_takes_it(
    account, subscribe, receiver, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.3
    settings.WEBHOOK_TIMEOUT = (1.0, 0.5)
    subscribe("message.created")
    receiver.script(
        "POST",
        r"^/hook",
        Reply(500, {"error": "down"}),
        Reply(200, {"late": True}, delay=1.5),  # answers after the client gave up
    )

    customer_writes(account, "cust-1", "m-1")
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.last_status_code == 500
    wait_for(lambda: sending.send_due() and Delivery.objects.get().attempts == 2, timeout=5)
    wait_for(lambda: sending.send_due() and Delivery.objects.get().attempts == 3, timeout=5)

    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    log = list(delivery.attempt_log.order_by("id"))
    assert [a.status_code for a in log] == [500, None, 200]
    assert "did not answer in time" in log[1].error
    assert log[0].response_excerpt == '{"error": "down"}'
    # Exponential: the first wait is the base, the second twice it (lower bounds are exact:
    # the attempt is not due before; upper ones loose for a busy machine).
    first_wait = (log[1].at - log[0].at).total_seconds()
    second_wait = (log[2].at - log[1].at).total_seconds() - 0.5  # minus the timed-out read
    assert 0.3 <= first_wait < 3
    assert 0.6 <= second_wait < 4
    assert delivery.retry_until - delivery.created_at == timedelta(hours=24)
    # The same delivery each time: one id, one body, each signed.
    posts = receiver.posts()
    assert len({p.headers["x-parley-delivery"] for p in posts}) == 1
    assert len({p.body for p in posts}) == 1
    assert all(receiver.verified(p) for p in posts)


def test_retries_stop_after_the_retry_window(account, subscribe, receiver, settings):
    subscribe("message.created")
    receiver.script("POST", r"^/hook", Reply(503), Reply(503))
    customer_writes(account, "cust-1", "m-1")
    assert Delivery.objects.get().status == "pending"
    # 24 hours later: the next failure is the last.
    Delivery.objects.update(
        next_attempt_at=timezone.now(), retry_until=timezone.now() + timedelta(seconds=5)
    )

    sending.send_due()

    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 2
    assert sending.send_due() == 0


def test_replay_sends_the_same_delivery_again(account, subscribe, receiver, admin_user):
    subscription = subscribe("message.created")
    customer_writes(account, "cust-1", "m-1")
    delivery = Delivery.objects.get()
    assert delivery.status == "succeeded"

    with committed():
        response = token_client(admin_user).post(
            f"/api/v1/webhooks/{subscription['id']}/deliveries/{delivery.uuid}/replay/"
        )

    assert response.status_code == 202
    first, again = receiver.posts()
    assert again.body == first.body
    assert again.headers["x-parley-delivery"] == str(delivery.uuid)
    assert receiver.verified(again)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.status == "succeeded"


def test_private_addresses_are_refused_without_the_allow_list(
    account, admin_user, receiver, settings
):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    client = token_client(admin_user)
    for url in (
        f"{receiver.url}/hook",  # 127.0.0.1
        "http://localhost:8080/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/hook",
    ):
        response = client.post(
            "/api/v1/webhooks/", {"url": url, "events": ["message.created"]}, format="json"
        )
        assert response.status_code == 422, url
        assert response.json()["code"] == "url_not_allowed"
    response = client.post(
        "/api/v1/webhooks/", {"url": "ftp://example.com/", "events": ["message.created"]}
    )
    assert response.status_code == 422
    assert not Subscription.objects.exists()


def test_a_url_that_became_private_is_refused_at_sending(account, subscribe, receiver, settings):
    subscribe("message.created")
    settings.WEBHOOK_ALLOWED_HOSTS = []  # allowed when subscribed, no longer

    customer_writes(account, "cust-1", "m-1")

    assert receiver.posts() == []
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"  # never worth retrying
    assert "non-public address" in delivery.last_error


def test_conversation_updates_say_what_changed(account, subscribe, receiver, agent, teammate):
    subscribe("conversation.updated", "conversation.resolved")
    conversation = ConversationFactory(account=account)
    Label.objects.create(name="vip")

    with committed():
        response = token_client(agent).patch(
            f"/api/v1/conversations/{conversation.pk}/",
            {"assignee": "bob", "labels": ["vip"], "priority": "urgent", "status": "resolved"},
            format="json",
        )
    assert response.status_code == 200

    bodies = receiver.bodies()
    assert [b["event"] for b in bodies] == [
        "conversation.updated",
        "conversation.updated",
        "conversation.updated",
        "conversation.updated",
        "conversation.resolved",
    ]
    changes = [b["data"]["changes"] for b in bodies[:4]]
    assert changes == [
        {"assignee": {"from": None, "to": teammate.pk}},
        {"labels": {"added": ["vip"], "removed": []}},
        {"priority": {"from": "normal", "to": "urgent"}},
        {"status": {"from": "open", "to": "resolved"}},
    ]
    assert bodies[-1]["data"]["conversation"]["status"] == "resolved"
    assert all(b["data"]["actor"] == agent.pk for b in bodies)


def test_sla_breach_is_delivered(account, subscribe, receiver):
    subscribe("sla.breached")
    conversation = ConversationFactory(account=account)
    with committed():
        services.domain_events.record(
            conversation, "sla_breached", data={"target": "first_response", "due_at": "x"}
        )
    (body,) = receiver.bodies()
    assert body["event"] == "sla.breached"
    assert body["data"]["sla"] == {"target": "first_response", "due_at": "x"}


def test_a_paused_subscription_gets_nothing_new_and_its_pending_wait(
    account, subscribe, receiver, admin_user
):
    subscription = subscribe("message.created")
    receiver.script("POST", r"^/hook", Reply(500))
    customer_writes(account, "cust-1", "m-1")  # fails, will be retried
    client = token_client(admin_user)
    with committed():
        client.patch(f"/api/v1/webhooks/{subscription['id']}/", {"active": False}, format="json")
    Delivery.objects.update(next_attempt_at=timezone.now())

    customer_writes(account, "cust-1", "m-2")
    assert sending.send_due() == 0
    assert len(receiver.posts()) == 1
    assert Delivery.objects.count() == 1  # nothing new while paused

    with committed():
        client.patch(f"/api/v1/webhooks/{subscription['id']}/", {"active": True}, format="json")
    assert len(receiver.posts()) == 2  # resuming sent what was waiting
    assert Delivery.objects.get().status == "succeeded"


def test_send_to_subscription_delivers_any_event_to_that_subscription(subscribe, receiver):
    subscription = subscribe("sla.breached")
    with committed():
        webhooks.send_to_subscription(
            subscription["id"], event="automation.rule_matched", data={"rule": 7}
        )
    (post,) = receiver.posts()
    assert post.headers["x-parley-event"] == "automation.rule_matched"
    assert receiver.verified(post)
    assert post.json()["data"] == {"rule": 7}
    webhooks.send_to_subscription(999_999, event="x", data={})  # gone: nothing, no error


def test_redirects_are_not_followed(account, subscribe, receiver):
    subscribe("message.created")
    receiver.script("POST", r"^/hook", Reply(302, headers={"Location": "http://10.0.0.1/"}))
    customer_writes(account, "cust-1", "m-1")
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.last_status_code == 302
    assert len(receiver.posts()) == 1


def test_a_huge_answer_is_cut_short(account, subscribe, receiver):
    subscribe("message.created")
    receiver.script("POST", r"^/hook", Reply(200, raw=b"x" * 5_000_000, content_type="text/plain"))
    started = time.monotonic()
    customer_writes(account, "cust-1", "m-1")
    attempt = Delivery.objects.get().attempt_log.get()
    assert len(attempt.response_excerpt) == sending.EXCERPT_CHARS
    assert time.monotonic() - started < 5


def test_deleting_a_subscription_drops_its_pending_deliveries(
    account, subscribe, receiver, admin_user, monkeypatch
):
    subscription = subscribe("message.created")
    monkeypatch.setattr(webhooks.tasks.send_delivery, "delay", lambda pk: None)  # not sent yet
    customer_writes(account, "cust-1", "m-1")
    pending = Delivery.objects.get().pk

    assert (
        token_client(admin_user).delete(f"/api/v1/webhooks/{subscription['id']}/").status_code
        == 204
    )

    assert sending.attempt(pending) is None  # its task comes later: nothing, no error
    assert sending.send_due() == 0
    assert receiver.posts() == []
