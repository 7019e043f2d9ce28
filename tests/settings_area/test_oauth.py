"""Connecting accounts through the platforms' login, against the local OAuth provider
(tests/fakes/oauth.py): Facebook Login → Page (+ Instagram), X with PKCE, LinkedIn. The state is
single-use, expires, and belongs to the admin who started it; tokens never reach a page or URL."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from django.urls import reverse

from inbox.models import PlatformAccount
from inbox.settings_area.models import AuditLog, OAuthState
from tests.factories import UserFactory
from tests.fakes import linkedin as linkedin_fake
from tests.fakes import meta as meta_fake
from tests.fakes import x as x_fake
from tests.fakes.server import Reply

pytestmark = pytest.mark.django_db


def authorize(client, provider: str) -> str:
    """Start as the logged-in admin, follow the provider's consent redirect; return the
    callback path with its query (what the browser would open next)."""
    start = client.post(reverse("settings:oauth_start", args=[provider]))
    assert start.status_code == 302, start.content
    provider_url = start["Location"]
    assert provider_url.startswith("http://127.0.0.1:")
    consent = requests.get(provider_url, allow_redirects=False, timeout=5)
    assert consent.status_code == 302
    back = urlsplit(consent.headers["Location"])
    assert back.path == reverse("settings:oauth_callback", args=[provider])
    return f"{back.path}?{back.query}"


def test_facebook_login_connects_the_page_and_its_instagram_account(
    client, admin_user, fake_platforms, team, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    client.force_login(admin_user)
    callback = authorize(client, "facebook")
    response = client.get(callback)
    choose_url = response["Location"]
    assert choose_url.startswith("/settings/oauth/pending/")
    page = client.get(choose_url)
    assert meta_fake.PAGE_NAME in page.content.decode()
    assert "@" + meta_fake.IG_USERNAME in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            choose_url, {"choice": meta_fake.PAGE_ID, "instagram": "1", "teams": [team.pk]}
        )

    messenger = PlatformAccount.objects.get(platform="messenger", external_id=meta_fake.PAGE_ID)
    instagram = PlatformAccount.objects.get(platform="instagram", external_id=meta_fake.IG_ID)
    assert done["Location"] == reverse("settings:account", args=[messenger.pk])
    page_token = messenger.credentials["page_access_token"]
    assert page_token.startswith("fb-page-")
    assert instagram.credentials["access_token"] == page_token
    assert set(team.accounts.all()) == {messenger, instagram}
    # The app was subscribed to the Page's webhooks with the Page token.
    subscribed = fake_platforms.sent("POST", rf"/{meta_fake.PAGE_ID}/subscribed_apps$")
    assert subscribed and subscribed[0].headers["authorization"] == f"Bearer {page_token}"
    # The code was exchanged by POST: no secret or token in any URL Parley requested.
    exchange, long_lived = fake_platforms.sent("POST", r"/oauth/access_token$")
    assert "client_secret" not in str(exchange.query) and b"client_secret" in exchange.body
    # The short-lived user token was swapped for a long-lived one before listing the Pages.
    assert b"grant_type=fb_exchange_token" in long_lived.body
    # Tokens appear in no page, no log line and no audit entry; the state row keeps none.
    detail = client.get(done["Location"]).content.decode()
    assert page_token not in detail
    assert page_token not in caplog.text
    assert all(page_token not in str(e.changes) for e in AuditLog.objects.all())
    assert AuditLog.objects.filter(action="account.connected").count() == 2
    assert OAuthState.objects.get().secrets == {}


def test_reconnecting_the_same_page_updates_the_account_in_place(
    client, admin_user, fake_platforms
):
    client.force_login(admin_user)
    for _ in range(2):
        choose = client.get(authorize(client, "facebook"))["Location"]
        client.post(choose, {"choice": meta_fake.PAGE_ID})
    accounts = PlatformAccount.objects.filter(platform="messenger")
    assert accounts.count() == 1
    assert not PlatformAccount.objects.filter(platform="instagram").exists()
    assert AuditLog.objects.filter(action="account.reconnected").count() == 1


def test_a_replayed_state_is_refused(client, admin_user, fake_platforms):
    client.force_login(admin_user)
    callback = authorize(client, "facebook")
    assert client.get(callback)["Location"].startswith("/settings/oauth/pending/")
    again = client.get(callback, follow=True)
    assert "already used" in again.content.decode()
    assert OAuthState.objects.count() == 1


def test_an_expired_state_is_refused(client, admin_user, fake_platforms):
    client.force_login(admin_user)
    callback = authorize(client, "facebook")
    OAuthState.objects.update(expires_at=OAuthState.objects.get().created_at - timedelta(seconds=1))
    response = client.get(callback, follow=True)
    assert "expired" in response.content.decode()
    assert not fake_platforms.sent("POST", r"/oauth/access_token$")
    assert not PlatformAccount.objects.exists()


def test_a_state_started_by_another_admin_is_refused(client, admin_user, fake_platforms):
    client.force_login(admin_user)
    callback = authorize(client, "facebook")
    other = UserFactory(username="other-admin", role="admin")
    client.force_login(other)
    response = client.get(callback, follow=True)
    assert "someone else" in response.content.decode()
    assert not fake_platforms.sent("POST", r"/oauth/access_token$")
    # ...and it was not burnt for its owner by the attempt.
    client.force_login(admin_user)
    assert client.get(callback)["Location"].startswith("/settings/oauth/pending/")


def test_another_admin_cannot_finish_a_pending_choice(client, admin_user, fake_platforms):
    client.force_login(admin_user)
    choose = client.get(authorize(client, "facebook"))["Location"]
    client.force_login(UserFactory(username="other-admin", role="admin"))
    response = client.post(choose, {"choice": meta_fake.PAGE_ID}, follow=True)
    assert "no longer pending" in response.content.decode()
    assert not PlatformAccount.objects.exists()


def test_an_unknown_state_or_a_denied_consent_is_refused(client, admin_user, fake_platforms):
    client.force_login(admin_user)
    url = reverse("settings:oauth_callback", args=["facebook"])
    assert "not valid" in client.get(url + "?state=forged&code=c", follow=True).content.decode()
    callback = authorize(client, "facebook")
    state = callback.split("state=")[1]
    denied = client.get(f"{url}?state={state}&error=access_denied&error_description=User+denied")
    assert denied["Location"] == reverse("settings:connect")
    assert not PlatformAccount.objects.exists()


def test_x_oauth_uses_pkce_and_connects_the_signed_in_account(client, admin_user, fake_platforms):
    client.force_login(admin_user)
    start = client.post(reverse("settings:oauth_start", args=["x"]))
    assert "code_challenge_method=S256" in start["Location"]
    consent = requests.get(start["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(consent.headers["Location"])
    choose = client.get(f"{back.path}?{back.query}")["Location"]
    client.post(choose, {"choice": x_fake.ACCOUNT_ID})

    account = PlatformAccount.objects.get(platform="x")
    assert account.external_id == x_fake.ACCOUNT_ID
    assert account.name == "@" + x_fake.ACCOUNT_USERNAME
    assert account.credentials["access_token"].startswith("x-user-")
    assert account.credentials["refresh_token"].startswith("x-refresh-")
    assert account.credentials["expires_at"]  # the X connector refreshes before this
    token_request = fake_platforms.sent("POST", r"/x/2/oauth2/token$")[0]
    assert b"code_verifier=" in token_request.body


def test_linkedin_oauth_lists_the_organisations_the_member_administers(
    client, admin_user, fake_platforms, settings
):
    settings.LINKEDIN_CLIENT_SECRET = "fake-linkedin-secret"
    client.force_login(admin_user)
    choose = client.get(authorize(client, "linkedin"))["Location"]
    assert "Example Mugs" in client.get(choose).content.decode()
    urn = f"urn:li:organization:{linkedin_fake.ORGANIZATION_ID}"
    client.post(choose, {"choice": urn})
    account = PlatformAccount.objects.get(platform="linkedin")
    assert account.external_id == urn and account.credentials["access_token"].startswith("li-")


def test_unconfigured_provider_says_so(client, admin_user, settings):
    settings.META_APP_ID = ""
    client.force_login(admin_user)
    response = client.post(reverse("settings:oauth_start", args=["facebook"]), follow=True)
    assert "not configured" in response.content.decode()
    assert not OAuthState.objects.exists()


def test_a_page_that_cannot_be_subscribed_to_webhooks_says_so_on_its_account(
    client, admin_user, fake_platforms, django_capture_on_commit_callbacks
):
    fake_platforms.script(
        "POST",
        rf"/{meta_fake.PAGE_ID}/subscribed_apps$",
        Reply(403, {"error": {"message": "Missing pages_manage_metadata"}}),
    )
    client.force_login(admin_user)
    choose_url = client.get(authorize(client, "facebook"))["Location"]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(choose_url, {"choice": meta_fake.PAGE_ID})

    # Connected all the same; the admin reads why no webhook will come.
    messenger = PlatformAccount.objects.get(platform="messenger", external_id=meta_fake.PAGE_ID)
    assert messenger.last_error.startswith("Could not subscribe the Page to webhooks")
    assert "Missing pages_manage_metadata" in messenger.last_error
