"""The scripted set-up commands (a public contract)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from inbox.models import PlatformAccount, Team, User

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_add_user_with_role_and_teams():
    run(
        "add_user",
        "sam",
        "--role",
        "agent",
        "--password",
        "tidal-lantern-42",
        "--team",
        "Support",
        "--team",
        "VIP",
    )

    user = User.objects.get(username="sam")
    assert user.role == "agent"
    assert user.check_password("tidal-lantern-42")
    assert set(user.teams.values_list("name", flat=True)) == {"Support", "VIP"}


def test_add_user_again_updates():
    run("add_user", "sam", "--role", "agent", "--password", "one-password")
    run("add_user", "sam", "--role", "admin", "--password", "two-password")

    user = User.objects.get(username="sam")
    assert user.is_admin and user.check_password("two-password")


def test_api_token_prints_the_key_last_and_is_stable():
    run("add_user", "sam", "--role", "agent", "--password", "tidal-lantern-42")

    first = run("api_token", "sam")[-1]
    second = run("api_token", "sam")[-1]

    assert first == second == Token.objects.get(user__username="sam").key


def test_connect_account_prints_id_and_encrypts_credentials():
    lines = run(
        "connect_account",
        "sandbox",
        "--external-id",
        "shop-1",
        "--name",
        "Acme",
        "--credential",
        "secret=hunter2",
        "--team",
        "Support",
    )

    account = PlatformAccount.objects.get(pk=int(lines[-1]))
    assert account.name == "Acme"
    assert account.credentials == {"secret": "hunter2"}
    assert Team.objects.get(name="Support").accounts.filter(pk=account.pk).exists()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("select credentials from inbox_platformaccount where id = %s", [account.pk])
        assert "hunter2" not in cursor.fetchone()[0]


def test_connect_account_again_updates_the_same_account():
    first = run(
        "connect_account", "sandbox", "--external-id", "shop-1", "--credential", "secret=a"
    )[-1]
    second = run("connect_account", "sandbox", "--external-id", "shop-1", "--name", "Renamed")[-1]

    assert first == second
    account = PlatformAccount.objects.get()
    assert account.name == "Renamed"
    assert account.credentials == {"secret": "a"}


def test_poll_accounts_runs_with_nothing_to_poll():
    run("connect_account", "sandbox", "--external-id", "shop-1", "--credential", "secret=a")
    assert run("poll_accounts") == ["No account polls."]
