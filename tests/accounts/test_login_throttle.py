"""Login throttling (django-axes): a username is locked out after repeated failures, so is a
source address trying many usernames; a clear page, an audit entry, and the lock-out is in the
database, so every web process refuses alike."""

from __future__ import annotations

import pytest
import requests
from django.test import Client

from inbox.settings_area.models import AuditLog
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def log_in(client: Client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_a_username_is_locked_out_after_repeated_failures_even_with_the_right_password(
    settings, agent
):
    settings.AXES_FAILURE_LIMIT = 3
    attacker = Client()
    for _ in range(2):
        assert log_in(attacker, "alice", "guess-number-one").status_code == 200

    locked = log_in(attacker, "alice", "guess-number-three")
    # Another address, the right password: the username itself is locked.
    owner = log_in(Client(), "alice", PASSWORD, address="198.51.100.20")

    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert owner.status_code == 429
    assert "_auth_user_id" not in owner.wsgi_request.session
    entry = AuditLog.objects.get(action="login.locked_out")
    assert entry.target_repr == "alice"
    assert entry.changes["address"] == "203.0.113.7"


def test_one_address_spraying_many_usernames_is_throttled(settings, agent, teammate):
    settings.AXES_FAILURE_LIMIT = 3
    sprayer = Client()
    for username in ("carol", "dave", "erin"):
        log_in(sprayer, username, "Winter2026!")

    # Bob's own password, from the sprayer's address: refused; from elsewhere: fine.
    assert log_in(sprayer, "bob", PASSWORD).status_code == 429
    assert log_in(Client(), "bob", PASSWORD, address="198.51.100.20").status_code == 302
    # One audit entry for the address, not one per refused attempt.
    assert AuditLog.objects.filter(action="login.locked_out").count() == 1


def test_django_admin_login_goes_through_the_same_throttled_login(settings, admin_user):
    settings.AXES_FAILURE_LIMIT = 2
    client = Client()

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "root-admin", "password": "wrong"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fadmin%2F"
    for _ in range(2):
        log_in(client, "root-admin", "wrong-again")
    assert log_in(client, "root-admin", PASSWORD).status_code == 429


def test_a_successful_login_clears_earlier_failures(settings, agent):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    log_in(client, "alice", "typo-one")
    log_in(client, "alice", "typo-two")
    assert log_in(client, "alice", PASSWORD).status_code == 302
    client.post("/logout/")

    log_in(client, "alice", "typo-three")
    log_in(client, "alice", "typo-four")
    assert log_in(client, "alice", PASSWORD).status_code == 302


@pytest.mark.live
def test_a_lock_out_made_in_one_process_holds_in_another(live_server_process, agent):
    """Failures against the uvicorn process lock the username here too (the database counts)."""
    session = requests.Session()
    login_url = f"{live_server_process.url}/login/"
    for attempt in range(10):  # LOGIN_FAILURE_LIMIT's default
        session.get(login_url, timeout=10)
        response = session.post(
            login_url,
            {
                "username": "alice",
                "password": f"wrong-{attempt}",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": login_url},
            timeout=10,
        )
    assert response.status_code == 429

    assert log_in(Client(), "alice", PASSWORD, address="198.51.100.20").status_code == 429
