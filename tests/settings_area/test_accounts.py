"""Account pages: manual (write-only) credentials, webhook set-up, test events through the real
webhook path, the webhook archive with search and replay, disconnect and reconnect."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inbox.models import Message, PlatformAccount, WebhookEvent
from inbox.settings_area.models import AuditLog
from tests.fakes import meta as meta_fake
from tests.helpers import post_sandbox, sandbox_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_manual_credentials_are_write_only_and_audited_by_name(admin_client, account):
    url = reverse("settings:account", args=[account.pk])
    assert "s3cret" not in admin_client.get(url).content.decode()

    admin_client.post(
        reverse("settings:account_credentials", args=[account.pk]), {"cred_secret": "n3w-secret"}
    )
    account.refresh_from_db()
    assert account.credentials["secret"] == "n3w-secret"
    page = admin_client.get(url).content.decode()
    assert "n3w-secret" not in page
    entry = AuditLog.objects.get(action="account.updated")
    assert entry.changes == {"credentials": ["secret"]}
    assert "n3w-secret" not in str(entry.changes)

    # Empty fields keep what is stored.
    admin_client.post(
        reverse("settings:account_credentials", args=[account.pk]), {"cred_secret": ""}
    )
    account.refresh_from_db()
    assert account.credentials["secret"] == "n3w-secret"


def test_connect_an_account_by_hand(admin_client, team):
    response = admin_client.post(
        reverse("settings:connect"),
        {
            "platform": "messenger",
            "external_id": "42",
            "name": "Hand Made",
            "teams": [team.pk],
            "cred_page_access_token": "typed-token",
        },
    )
    account = PlatformAccount.objects.get(platform="messenger", external_id="42")
    assert response["Location"] == reverse("settings:account", args=[account.pk])
    assert account.credentials == {"page_access_token": "typed-token"}
    assert list(team.accounts.all()) == [account]


def test_webhook_setup_shows_callback_url_verify_token_and_handshake(
    admin_client, settings, django_capture_on_commit_callbacks
):
    settings.META_VERIFY_TOKEN = "paste-me"
    from inbox.settings_area.health import record_handshake
    from tests.factories import AccountFactory

    account = AccountFactory(platform="messenger", external_id=meta_fake.PAGE_ID)
    page = admin_client.get(reverse("settings:account", args=[account.pk])).content.decode()
    assert "http://testserver/webhooks/meta/" in page
    assert "paste-me" in page and "data-copy" in page
    assert "Not seen yet" in page

    # The webhook entrance records it (GET /webhooks/meta/), once the request commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.get(
            "/webhooks/meta/",
            {"hub.mode": "subscribe", "hub.verify_token": "paste-me", "hub.challenge": "123"},
        )
    assert response.content == b"123"
    page = admin_client.get(reverse("settings:account", args=[account.pk])).content.decode()
    assert "Handshake seen 1 time(s)" in page
    # A refused handshake (wrong token) proves nothing and is not counted.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.get(
            "/webhooks/meta/",
            {"hub.mode": "subscribe", "hub.verify_token": "no", "hub.challenge": "1"},
        )
    record_handshake("instagram")  # the Instagram subscription shares the endpoint
    page = admin_client.get(reverse("settings:account", args=[account.pk])).content.decode()
    assert "Handshake seen 2 time(s)" in page


def test_sandbox_test_event_goes_through_the_webhook_into_the_inbox(
    admin_client, account, agent, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("settings:account_test_event", args=[account.pk]), follow=True
        )
    assert "Test event sent" in response.content.decode()
    archived = WebhookEvent.objects.get()
    assert archived.signature_valid and archived.outcome == WebhookEvent.Outcome.PROCESSED
    message = Message.objects.get()
    assert message.conversation.account == account and "Test event" in message.text


def test_messenger_test_event_is_signed_with_the_app_secret(
    admin_client, settings, django_capture_on_commit_callbacks, fake_platforms
):
    from tests.factories import AccountFactory

    settings.META_APP_SECRET = "meta-app-secret"
    account = AccountFactory(
        platform="messenger",
        external_id=meta_fake.PAGE_ID,
        credentials={"page_access_token": "page-token"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("settings:account_test_event", args=[account.pk]))
    archived = WebhookEvent.objects.get()
    assert archived.signature_valid is True
    assert archived.outcome == WebhookEvent.Outcome.PROCESSED, archived.error
    assert Message.objects.get().account == account


def test_test_event_without_a_secret_says_why(admin_client, settings):
    from tests.factories import AccountFactory

    settings.META_APP_SECRET = ""
    account = AccountFactory(platform="messenger", external_id="1", credentials={})
    response = admin_client.post(
        reverse("settings:account_test_event", args=[account.pk]), follow=True
    )
    assert "No Meta app secret" in response.content.decode()
    assert not WebhookEvent.objects.exists()


def test_archive_search_by_outcome_and_replay(admin_client, client, account):
    post_sandbox(client, account, b'{"not": "a sandbox event"}')
    post_sandbox(client, account, sandbox_body(text="fine"))
    post_sandbox(client, account, sandbox_body(), secret="forged")
    # Processing happens on commit; in this test it has not, so mark what a worker would have.
    failed, fine, rejected = WebhookEvent.objects.order_by("id")
    WebhookEvent.objects.filter(pk=failed.pk).update(outcome="failed", error="not a sandbox event")
    url = reverse("settings:account_webhooks", args=[account.pk])

    page = admin_client.get(url, {"outcome": "failed"}).content.decode()
    assert f'data-webhook="{failed.pk}"' in page and f'data-webhook="{fine.pk}"' not in page
    assert "{&quot;not&quot;: &quot;a sandbox event&quot;}" in page  # the body, readable
    page = admin_client.get(url, {"outcome": "rejected"}).content.decode()
    assert f'data-webhook="{rejected.pk}"' in page and "forged" not in page

    response = admin_client.post(url, {"ids": [fine.pk, rejected.pk]}, follow=True)
    assert "Replayed: 1 processed" in response.content.decode()
    assert Message.objects.filter(text="fine").count() == 1
    # Replaying again makes no second message.
    admin_client.post(url, {"ids": [fine.pk]})
    assert Message.objects.filter(text="fine").count() == 1
    assert WebhookEvent.objects.get(pk=rejected.pk).outcome == "rejected"
    assert AuditLog.objects.filter(action="account.webhooks_replayed").count() == 2


def test_archive_time_filter(admin_client, client, account):
    from datetime import timedelta

    from django.utils import timezone

    post_sandbox(client, account, sandbox_body())
    post_sandbox(client, account, sandbox_body())
    old, new = WebhookEvent.objects.order_by("id")
    WebhookEvent.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page = admin_client.get(
        reverse("settings:account_webhooks", args=[account.pk]), {"since": since}
    ).content.decode()
    assert f'data-webhook="{new.pk}"' in page and f'data-webhook="{old.pk}"' not in page


def test_replay_refuses_other_accounts_deliveries(admin_client, client, account, other_account):
    post_sandbox(client, other_account, sandbox_body())
    theirs = WebhookEvent.objects.get()
    response = admin_client.post(
        reverse("settings:account_webhooks", args=[account.pk]), {"ids": [theirs.pk]}, follow=True
    )
    assert "Nothing to replay" in response.content.decode()


def test_disconnect_keeps_history_and_reconnect_makes_no_duplicates(
    admin_client, client, account, django_capture_on_commit_callbacks
):
    body = sandbox_body(message_id="m-before", text="before")
    with django_capture_on_commit_callbacks(execute=True):
        post_sandbox(client, account, body)
    admin_client.post(reverse("settings:account_disconnect", args=[account.pk]))
    account.refresh_from_db()
    assert account.status == "disconnected" and account.credentials == {}
    assert Message.objects.filter(text="before").exists()
    # Disconnected: deliveries are refused (no secret any more).
    assert post_sandbox(client, account, sandbox_body(), secret="s3cret").status_code == 403

    admin_client.post(
        reverse("settings:connect"),
        {"platform": "sandbox", "external_id": "shop", "name": "Shop", "cred_secret": "s3cret"},
    )
    assert PlatformAccount.objects.filter(platform="sandbox", external_id="shop").count() == 1
    account.refresh_from_db()
    assert account.status == "connected" and account.disconnected_at is None
    with django_capture_on_commit_callbacks(execute=True):
        post_sandbox(client, account, body)  # the platform redelivers
    assert Message.objects.filter(text="before").count() == 1
    assert [e.action for e in AuditLog.objects.order_by("id")] == [
        "account.disconnected",
        "account.updated",
    ]
