"""Passwords: Django's validators wherever a password is set, and a new password ends the
user's sessions, API tokens and open sockets, whoever set it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from inbox.models import User
from tests.factories import PASSWORD
from tests.live import ROOT, process_env
from tests.settings_area.test_people import SocketProbe

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "quiet-harbour-lamp-77"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Sh0rt-pw", "too short"),
        ("password123", "too common"),
        ("8305917264", "entirely numeric"),
        ("margaret.hopper", "too similar to the username"),
    ],
)
def test_add_user_refuses_a_weak_password_with_the_validators_message(password, message):
    with pytest.raises(CommandError, match=message):
        call_command("add_user", "margaret.hopper", "--role", "agent", "--password", password)
    assert not User.objects.filter(username="margaret.hopper").exists()


@pytest.mark.django_db(transaction=True)
def test_add_user_exits_non_zero_on_a_refused_password():
    result = subprocess.run(
        [sys.executable, "manage.py", "add_user", "sam", "--role", "agent", "--password", "123"],
        cwd=ROOT,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "too short" in result.stderr


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_settings_area_refuses_a_password_like_the_users_name(admin_client, agent):
    response = admin_client.post(
        reverse("settings:user_create"),
        {"username": "dana.whitfield", "role": "agent", "password": "dana.whitfield"},
    )
    assert "too similar to the username" in response.content.decode()
    assert not User.objects.filter(username="dana.whitfield").exists()

    response = admin_client.post(
        reverse("settings:user", args=[agent.pk]),
        {"role": "agent", "first_name": "Alice", "password": "12345678901"},
    )
    assert "entirely numeric" in response.content.decode()
    assert User.objects.get(pk=agent.pk).check_password(PASSWORD)


def signed_in_everywhere(user: User) -> tuple[Client, Token, SocketProbe]:
    browser = Client()
    browser.force_login(user)
    assert browser.get("/").status_code == 200
    return browser, Token.objects.create(user=user), SocketProbe(user)


def assert_signed_out_everywhere(user: User, browser: Client, token: Token, probe: SocketProbe):
    assert [m["type"] for m in probe.received()] == ["inbox.disconnect"]
    assert browser.get("/")["Location"].startswith("/login/")
    api = Client().get("/api/v1/conversations/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.status_code == 401
    assert not [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)
    ]


def test_an_admin_reset_ends_the_users_sessions_tokens_and_sockets(
    admin_client, agent, team, django_capture_on_commit_callbacks
):
    browser, token, probe = signed_in_everywhere(agent)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("settings:user", args=[agent.pk]),
            {"role": "agent", "first_name": "Alice", "password": NEW_PASSWORD, "teams": [team.pk]},
        )

    assert User.objects.get(pk=agent.pk).check_password(NEW_PASSWORD)
    assert_signed_out_everywhere(agent, browser, token, probe)


def test_add_user_resetting_a_password_ends_everything(agent, django_capture_on_commit_callbacks):
    browser, token, probe = signed_in_everywhere(agent)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("add_user", "alice", "--role", "agent", "--password", NEW_PASSWORD)

    assert_signed_out_everywhere(agent, browser, token, probe)


def test_add_user_with_the_same_password_signs_nobody_out(agent):
    call_command("add_user", "alice", "--role", "agent", "--password", PASSWORD)
    browser, token, probe = signed_in_everywhere(agent)

    call_command("add_user", "alice", "--role", "agent", "--password", PASSWORD)

    assert Token.objects.filter(key=token.key).exists()
    assert browser.get("/").status_code == 200
    assert probe.received() == []


def test_changepassword_command_ends_everything(
    agent, monkeypatch, django_capture_on_commit_callbacks
):
    browser, token, probe = signed_in_everywhere(agent)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("changepassword", "alice")

    assert_signed_out_everywhere(agent, browser, token, probe)


@pytest.mark.django_db(transaction=True)
def test_a_users_own_change_is_validated_and_signs_out_everywhere_else(agent):
    """Committed as in production: the sessions end at the save, then this one is renewed."""
    other_browser, token, probe = signed_in_everywhere(agent)
    me = Client()
    me.force_login(agent)

    refused = me.post(
        "/account/security/password/",
        {"old_password": PASSWORD, "new_password1": "alice1234", "new_password2": "alice1234"},
    )
    assert "too short" in refused.content.decode()
    assert "too similar to the username" in refused.content.decode()

    changed = me.post(
        "/account/security/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert changed["Location"] == "/account/security/"
    assert me.get("/").status_code == 200  # this session stays
    assert other_browser.get("/")["Location"].startswith("/login/")
    assert not Token.objects.filter(key=token.key).exists()
    assert "inbox.disconnect" in [m["type"] for m in probe.received()]
