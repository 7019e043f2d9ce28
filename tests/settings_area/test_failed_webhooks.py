"""Admins see every failed webhook delivery — including those linked to no account (a Meta batch
for several Pages, an unknown account) that no account's archive lists — and can replay them."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from inbox.models import Message, WebhookEvent
from inbox.settings_area.models import AuditLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/settings/webhooks/failed/"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _failed(account=None, body: bytes = b'{"entry": "broken"}', error="parser bug") -> WebhookEvent:
    return WebhookEvent.objects.create(
        source="sandbox",
        account=account,
        body=body,
        signature_valid=True,
        outcome=WebhookEvent.Outcome.FAILED,
        error=error,
    )


def test_failed_deliveries_of_no_account_are_listed_for_admins(admin_client, account):
    unlinked = _failed(error="malformed Meta batch: entry without id")
    linked = _failed(account)
    processed = WebhookEvent.objects.create(
        source="sandbox", account=account, body=b"{}", outcome=WebhookEvent.Outcome.PROCESSED
    )

    page = admin_client.get(URL).content.decode()

    assert f'data-webhook="{unlinked.pk}"' in page
    assert "malformed Meta batch: entry without id" in page
    assert f'data-webhook="{linked.pk}"' in page
    assert reverse("settings:account_webhooks", args=[account.pk]) in page
    assert f'data-webhook="{processed.pk}"' not in page
    assert "kept 90 days" in page
    # Reachable from the settings navigation.
    assert f'href="{URL}"' in admin_client.get(reverse("settings:accounts")).content.decode()


def test_failed_list_is_for_admins_only(client, agent):
    _failed()
    client.force_login(agent)
    assert client.get(URL).status_code == 403
    manager = UserFactory(username="mona", role="manager")
    client.force_login(manager)
    assert client.get(URL).status_code == 403


def test_replay_from_the_failed_list_applies_the_fixed_body_and_is_audited(admin_client, account):
    body = json.dumps({"id": "m-42", "sender": {"id": "cust-9"}, "text": "Fixed now"}).encode()
    webhook = _failed(account, body=body)

    response = admin_client.post(URL, {"ids": [webhook.pk]}, follow=True)

    assert "Replayed: 1 processed" in response.content.decode()
    assert Message.objects.get().text == "Fixed now"
    assert AuditLog.objects.filter(action="webhooks.failed_replayed").count() == 1
    # Only failed deliveries are replayed from here.
    response = admin_client.post(URL, {"ids": [webhook.pk]}, follow=True)
    assert "Nothing to replay" in response.content.decode()
