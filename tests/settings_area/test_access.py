"""Only admins reach the settings area's admin pages: agents and managers get 403 on every such
page and API, anonymous visitors are sent to the login page. (Managers' configuration pages:
tests/settings_area/test_config_pages.py.)"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from inbox.models import PlatformAccount
from inbox.settings_area.models import OAuthState
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(db):
    return UserFactory(username="mina", role="manager")


def settings_urls(account, team, user) -> list[tuple[str, str]]:
    """Every settings page and action, with the method it answers."""
    return [
        ("get", reverse("settings:accounts")),
        ("get", reverse("settings:connect")),
        ("post", reverse("settings:connect")),
        ("get", reverse("settings:account", args=[account.pk])),
        ("post", reverse("settings:account_check", args=[account.pk])),
        ("post", reverse("settings:account_test_event", args=[account.pk])),
        ("post", reverse("settings:account_credentials", args=[account.pk])),
        ("post", reverse("settings:account_disconnect", args=[account.pk])),
        ("get", reverse("settings:account_webhooks", args=[account.pk])),
        ("post", reverse("settings:account_webhooks", args=[account.pk])),
        ("post", reverse("settings:oauth_start", args=["facebook"])),
        ("get", reverse("settings:oauth_callback", args=["facebook"]) + "?state=x&code=y"),
        ("get", reverse("settings:oauth_choose", args=[1])),
        ("get", reverse("settings:users")),
        ("get", reverse("settings:user_create")),
        ("post", reverse("settings:user_create")),
        ("get", reverse("settings:user", args=[user.pk])),
        ("post", reverse("settings:user_active", args=[user.pk])),
        ("get", reverse("settings:teams")),
        ("post", reverse("settings:teams")),
        ("get", reverse("settings:team", args=[team.pk])),
        ("post", reverse("settings:team_delete", args=[team.pk])),
        ("get", reverse("settings:audit")),
        ("get", reverse("settings:audit_csv")),
    ]


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_non_admins_get_403_on_every_settings_page(client, request, who, account, team, teammate):
    user = request.getfixturevalue(who)
    client.force_login(user)
    for method, url in settings_urls(account, team, teammate):
        response = getattr(client, method)(url)
        assert response.status_code == 403, (method, url, response.status_code)
    # The settings home sends a manager to the pages they edit; an agent has none.
    expected = 302 if who == "manager" else 403
    assert client.get(reverse("settings:index")).status_code == expected
    # Nothing was changed by the refused POSTs.
    account.refresh_from_db()
    assert account.status == "connected" and account.credentials == {"secret": "s3cret"}
    assert team.pk and teammate.is_active
    assert not OAuthState.objects.exists()


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_non_admins_get_403_on_the_settings_api(client, request, who):
    user = request.getfixturevalue(who)
    token = Token.objects.create(user=user)
    for url in ("/api/v1/settings/accounts/", "/api/v1/settings/audit/"):
        assert client.get(url, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 403
    client.force_login(user)
    assert client.get("/api/v1/settings/accounts/").status_code == 403


def test_anonymous_visitors_are_sent_to_login(client, account):
    response = client.get(reverse("settings:accounts"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/api/v1/settings/accounts/").status_code in (401, 403)


def test_admin_reaches_every_page_and_the_api(client, admin_user, account, team, agent):
    client.force_login(admin_user)
    for url in (
        reverse("settings:accounts"),
        reverse("settings:connect"),
        reverse("settings:account", args=[account.pk]),
        reverse("settings:account_webhooks", args=[account.pk]),
        reverse("settings:users"),
        reverse("settings:user_create"),
        reverse("settings:user", args=[agent.pk]),
        reverse("settings:teams"),
        reverse("settings:team", args=[team.pk]),
        reverse("settings:audit"),
    ):
        assert client.get(url).status_code == 200, url
    body = client.get("/api/v1/settings/accounts/").json()
    assert [a["id"] for a in body["results"]] == [account.pk]


def test_settings_link_only_for_admins(client, admin_user, agent):
    client.force_login(agent)
    assert b'href="/settings/"' not in client.get("/").content
    client.force_login(admin_user)
    assert b'href="/settings/"' in client.get("/").content


def test_accounts_list_queries_grow_only_with_the_failing_sends_check(client, admin_user):
    """Pinned: a fixed set of queries, plus bounded index reads per account — last sends,
    recent deliveries and today's count for the list; last sends and recent deliveries for the
    banner."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import AccountFactory

    client.force_login(admin_user)
    counts = []
    for n in (2, 5):
        while PlatformAccount.objects.count() < n:
            AccountFactory()
        cache.clear()  # the banner's reads, not a cached banner
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("settings:accounts")).status_code == 200
        counts.append(len(queries))
    assert counts[1] - counts[0] == 3 * 5
    assert counts[0] <= 20
