"""Account health from real failures: a 190 from the fake Graph server, polling refused by the
fake X API, sends failing in a row, and a webhook gone silent (controlled clock)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox import services
from inbox.models import PlatformAccount, WebhookEvent
from inbox.polling import poll_accounts
from inbox.settings_area import health
from inbox.settings_area import tasks as settings_tasks
from inbox.settings_area.accounts import check_connection
from inbox.settings_area.models import WebhookHandshake
from tests.factories import AccountFactory, ConversationFactory, MessageFactory
from tests.fakes import meta as meta_fake
from tests.fakes import x as x_fake
from tests.fakes.server import Reply
from tests.helpers import post_sandbox, sandbox_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def messenger(team):
    account = AccountFactory(
        platform="messenger",
        external_id=meta_fake.PAGE_ID,
        name=meta_fake.PAGE_NAME,
        credentials={"page_access_token": "page-token"},
    )
    team.accounts.add(account)
    return account


def test_a_190_on_send_marks_the_account_needs_reauth_and_shows_a_banner(
    client, messenger, admin_user, agent, fake_platforms, django_capture_on_commit_callbacks
):
    fake_platforms.script(
        "POST",
        r"/meta/.*/messages$",
        Reply(400, meta_fake.error_body(190, 463, "Error validating access token: expired")),
    )
    conversation = ConversationFactory(account=messenger)
    MessageFactory(conversation=conversation, external_id="m_in_1")
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_reply(conversation=conversation, author=agent, text="We are on it")

    messenger.refresh_from_db()
    state = health.account_health(messenger)
    assert state.state == health.State.NEEDS_REAUTH
    assert "expired" in state.problem

    from django.core.cache import cache

    cache.clear()  # the banner keeps its reads for a few seconds
    client.force_login(admin_user)
    page = client.get(reverse("inbox:list")).content.decode()
    assert 'id="health-banner"' in page and "Needs re-authorisation" in page
    client.force_login(agent)
    assert 'id="health-banner"' not in client.get(reverse("inbox:list")).content.decode()


def test_check_connection_says_what_it_found_or_what_is_wrong(
    messenger, admin_user, fake_platforms
):
    result = check_connection(actor=admin_user, account=messenger)
    assert result.ok and meta_fake.PAGE_NAME in result.message

    fake_platforms.script(
        "GET", r"/meta/.*/me$", Reply(400, meta_fake.error_body(190, 460, "Session invalid"))
    )
    result = check_connection(actor=admin_user, account=messenger)
    messenger.refresh_from_db()
    assert not result.ok and messenger.status == PlatformAccount.Status.NEEDS_REAUTH
    assert messenger.last_check_ok is False

    # A token that works again clears the state.
    result = check_connection(actor=admin_user, account=messenger)
    messenger.refresh_from_db()
    assert result.ok and messenger.status == PlatformAccount.Status.CONNECTED


def test_check_connection_page_shows_the_result(client, admin_user, messenger, fake_platforms):
    client.force_login(admin_user)
    response = client.post(reverse("settings:account_check", args=[messenger.pk]), follow=True)
    assert f"Page {meta_fake.PAGE_NAME}" in response.content.decode()


def test_polling_failures_show_as_polling_failing(fake_platforms):
    account = AccountFactory(
        platform="x",
        external_id=x_fake.ACCOUNT_ID,
        credentials={"access_token": "x-token"},
        options={"mode": "polling"},
    )
    fake_platforms.script(
        "GET",
        r"^/x/2/dm_events$",
        *[Reply(503, {"title": "Service Unavailable", "status": 503})] * 5,
    )
    outcome = poll_accounts(account_id=account.pk)
    assert outcome[account.pk].startswith("failed")
    account.refresh_from_db()

    state = health.account_health(account)
    assert state.state == health.State.POLLING_FAILING
    assert "Polling fails" in state.problem


def test_sends_failing_in_a_row(account, agent, django_capture_on_commit_callbacks):
    account.options = {"simulate_failure": "permanent"}
    account.save()
    conversation = ConversationFactory(account=account)
    for text in ("one", "two"):
        with django_capture_on_commit_callbacks(execute=True):
            services.queue_reply(conversation=conversation, author=agent, text=text)
    assert health.account_health(account).state == health.State.CONNECTED
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_reply(conversation=conversation, author=agent, text="three")

    state = health.account_health(account)
    assert state.state == health.State.SENDS_FAILING
    assert "refused" in state.problem


def test_a_webhook_silent_for_much_longer_than_usual_is_reported(client, account):
    for n in range(6):
        assert post_sandbox(client, account, sandbox_body(message_id=f"m{n}")).status_code == 200
    # Those deliveries arrived every 10 minutes, the last one at `last`.
    last = timezone.now().replace(microsecond=0)
    for n, webhook in enumerate(WebhookEvent.objects.order_by("id")):
        WebhookEvent.objects.filter(pk=webhook.pk).update(
            received_at=last - timedelta(minutes=10 * (5 - n))
        )
    PlatformAccount.objects.filter(pk=account.pk).update(last_event_at=last)
    account.refresh_from_db()

    quiet = health.account_health(account, now=last + timedelta(minutes=45))
    assert quiet.state == health.State.CONNECTED
    assert quiet.usual_gap == timedelta(minutes=10)

    silent = health.account_health(account, now=last + timedelta(hours=2))
    assert silent.state == health.State.WEBHOOK_SILENT
    assert "No webhook for 2.0 h" in silent.problem and "every 10 min" in silent.problem


def test_accounts_list_shows_health_last_event_and_events_today(client, admin_user, account):
    post_sandbox(client, account, sandbox_body())
    post_sandbox(client, account, sandbox_body(), secret="wrong")  # rejected: still arrived
    client.force_login(admin_user)
    page = client.get(reverse("settings:accounts")).content.decode()
    row = page.split(f'data-account="{account.pk}"')[1].split("</tr>")[0]
    assert 'data-state="connected"' in page
    assert "<td>2</td>" in row
    assert "ago" in row


def test_disconnected_accounts_are_not_in_the_banner(account, admin_user):
    from inbox.settings_area.accounts import disconnect

    disconnect(actor=admin_user, account=account)
    assert health.account_health(account).state == health.State.DISCONNECTED
    assert health.unhealthy_accounts() == []


def test_record_handshake_counts_and_never_raises(account):
    health.record_handshake("messenger")
    health.record_handshake("instagram")
    health.record_handshake("sandbox", account=account)
    meta = health.handshake_for(AccountFactory(platform="instagram", external_id="ig"))
    assert meta.platform == "meta" and meta.count == 2
    health.record_handshake("x", account=object())  # not an account: logged, not raised


def test_record_handshake_later_records_after_commit_without_a_broker(
    account, django_capture_on_commit_callbacks
):
    """No query on the CRC's path: without a broker the handshake is recorded once the request's
    work commits (the live test checks the real worker records it)."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        settings_tasks.record_handshake_later("x")
    assert not WebhookHandshake.objects.exists()
    for callback in callbacks:
        callback()
    assert WebhookHandshake.objects.filter(platform="x").exists()


def test_an_x_revoke_webhook_shows_as_needs_reauth_in_the_banner(
    client, settings, django_capture_on_commit_callbacks
):
    import json

    from connectors import webhooks

    settings.X_CONSUMER_SECRET = "x-consumer-secret"
    account = AccountFactory(
        platform="x", external_id=x_fake.ACCOUNT_ID, credentials={"access_token": "x-token"}
    )
    body = json.dumps(
        {
            "for_user_id": x_fake.ACCOUNT_ID,
            "user_event": {
                "revoke": {
                    "date_time": "2026-01-01T11:02:03+00:00",
                    "target": {"app_id": "27123456"},
                    "source": {"user_id": x_fake.ACCOUNT_ID},
                }
            },
        }
    ).encode()
    signature = "sha256=" + webhooks.hmac_sha256("x-consumer-secret", body, encoding="base64")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/webhooks/x/",
            data=body,
            content_type="application/json",
            headers={"x-twitter-webhooks-signature": signature},
        )
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.status == PlatformAccount.Status.DISCONNECTED

    state = health.account_health(account)
    assert state.state == health.State.NEEDS_REAUTH
    assert [h.account for h in health.unhealthy_accounts()] == [account]


def test_the_banner_forgets_an_account_as_soon_as_an_admin_fixes_it(
    client, admin_user, account, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    cache.clear()
    PlatformAccount.objects.filter(pk=account.pk).update(
        status=PlatformAccount.Status.NEEDS_REAUTH, last_error="refused"
    )
    client.force_login(admin_user)
    assert 'id="health-banner"' in client.get(reverse("inbox:list")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("settings:account_check", args=[account.pk]))  # the check works
    assert 'id="health-banner"' not in client.get(reverse("inbox:list")).content.decode()
