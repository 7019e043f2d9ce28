"""``/settings/webhooks/``: admins add, pause, delete, read deliveries and replay; the secret
is shown once; every change is audited; nobody else gets in."""

from __future__ import annotations

import pytest

from inbox.settings_area.models import AuditLog
from outbound_webhooks.models import Delivery, Subscription
from tests.helpers import committed, customer_writes, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(admin_client, receiver, account):
    response = admin_client.post(
        "/settings/webhooks/",
        {"url": f"{receiver.url}/hook", "events": ["message.created", "conversation.resolved"]},
    )

    assert response.status_code == 200
    subscription = Subscription.objects.get()
    assert subscription.events == ["message.created", "conversation.resolved"]
    page = response.content.decode()
    assert subscription.secret in page
    # Never again: not on the next visit, not in the API.
    assert subscription.secret not in admin_client.get("/settings/webhooks/").content.decode()
    assert (
        "secret"
        not in token_client(subscription.created_by).get("/api/v1/webhooks/").json()["results"][0]
    )
    entry = AuditLog.objects.get(action="webhook.subscribed")
    assert subscription.secret not in str(entry.changes)
    # The secret signs what the receiver gets.
    receiver.secret = subscription.secret
    customer_writes(account, "cust-1", "m-1")
    assert receiver.verified(receiver.posts()[0])


def test_a_private_url_is_refused_on_the_page(admin_client, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    response = admin_client.post(
        "/settings/webhooks/", {"url": "http://127.0.0.1:9/hook", "events": ["sla.breached"]}
    )
    assert response.status_code == 422
    assert "does not send webhooks to this address" in response.content.decode()
    assert not Subscription.objects.exists()


def test_pause_resume_delete_and_replay_are_audited(admin_client, subscribe, receiver, account):
    subscription = subscribe("message.created")
    pk = subscription["id"]
    customer_writes(account, "cust-1", "m-1")
    delivery = Delivery.objects.get()

    admin_client.post(f"/settings/webhooks/{pk}/active/", {"active": "0"})
    assert not Subscription.objects.get(pk=pk).active
    with committed():
        admin_client.post(f"/settings/webhooks/{pk}/active/", {"active": "1"})
    page = admin_client.get(f"/settings/webhooks/{pk}/").content.decode()
    assert str(delivery.uuid) in page and "HTTP 200" in page
    with committed():
        admin_client.post(f"/settings/webhooks/{pk}/deliveries/{delivery.uuid}/replay/")
    assert len(receiver.posts()) == 2
    admin_client.post(f"/settings/webhooks/{pk}/delete/")
    assert not Subscription.objects.exists()

    assert list(
        AuditLog.objects.filter(target_type="webhook")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "webhook.subscribed",
        "webhook.paused",
        "webhook.resumed",
        "webhook.replayed",
        "webhook.deleted",
    ]


def test_only_admins_see_webhooks(client, agent, subscribe):
    subscription = subscribe("message.created")
    client.force_login(agent)
    assert client.get("/settings/webhooks/").status_code == 403
    assert client.post(f"/settings/webhooks/{subscription['id']}/delete/").status_code == 403
    assert token_client(agent).get("/api/v1/webhooks/").status_code == 403
    assert (
        token_client(agent)
        .post("/api/v1/webhooks/", {"url": "https://example.com", "events": ["sla.breached"]})
        .status_code
        == 403
    )
    assert (
        token_client(agent).get(f"/api/v1/webhooks/{subscription['id']}/deliveries/").status_code
        == 403
    )
    assert Subscription.objects.count() == 1


def test_the_deliveries_api_lists_attempts(subscribe, receiver, account, admin_user):
    subscription = subscribe("message.created", "conversation.created")
    customer_writes(account, "cust-1", "m-1")

    body = token_client(admin_user).get(f"/api/v1/webhooks/{subscription['id']}/deliveries/").json()

    assert [d["event"] for d in body["results"]] == ["message.created", "conversation.created"]
    newest = body["results"][0]
    assert newest["status"] == "succeeded"
    assert newest["attempt_log"][0]["status_code"] == 200
    assert newest["attempt_log"][0]["response_excerpt"] == "thanks"
    assert body["next"] is None
    listed = token_client(admin_user).get("/api/v1/webhooks/").json()["results"]
    assert listed == [
        {
            "id": subscription["id"],
            "url": f"{receiver.url}/hook",
            "events": ["message.created", "conversation.created"],
            "active": True,
            "created_at": listed[0]["created_at"],
        }
    ]
    assert subscription["secret"] and len(subscription["secret"]) == 64
