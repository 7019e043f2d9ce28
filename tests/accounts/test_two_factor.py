"""Two-factor authentication: enrolment by the user, a code at login (recovery codes once
each), an admin's reset, REQUIRE_ADMIN_2FA, and an audit entry for each."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from inbox.settings_area.models import AuditLog
from tests.accounts.twofactor_helpers import code_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

# django-otp makes a device wait after a wrong code (1 s, doubling with each further one).
WRONG_CODE_PAUSE = 1.1


def enrol(client: Client) -> tuple[str, list[str]]:
    """Turn two-factor on from /account/security/; the key and the recovery codes shown."""
    page = client.get("/account/security/").content.decode()
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    assert "<svg" in page  # the QR code, inline
    shown = client.post("/account/security/2fa/on/", {"code": code_for(secret)})
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", shown.content.decode())
    return secret, codes


@pytest.fixture
def enrolled(agent) -> tuple[str, list[str]]:
    client = Client()
    client.force_login(agent)
    return enrol(client)


def test_an_agent_turns_it_on_from_the_workspace(agent):
    client = Client()
    client.force_login(agent)
    assert 'href="/account/security/"' in client.get("/").content.decode()

    secret, codes = enrol(client)

    assert len(codes) == 10 and len(set(codes)) == 10
    assert "On: logging in asks for a code" in client.get("/account/security/").content.decode()
    assert AuditLog.objects.filter(action="2fa.enabled", target_id=str(agent.pk)).exists()


def test_a_wrong_code_does_not_turn_it_on(agent):
    client = Client()
    client.force_login(agent)
    client.get("/account/security/")
    client.post("/account/security/2fa/on/", {"code": "000000"})
    assert "Off." in client.get("/account/security/").content.decode()


def test_login_asks_for_the_code_and_a_password_alone_opens_nothing(agent, enrolled):
    secret, _ = enrolled
    client = Client()

    step_one = client.post("/login/", {"username": "alice", "password": PASSWORD})

    assert step_one["Location"] == "/login/code/"
    assert client.get("/")["Location"].startswith("/login/")
    assert client.get("/api/v1/conversations/").status_code in (401, 403)

    wrong = client.post("/login/code/", {"code": "123456"})
    assert "That code is not right" in wrong.content.decode()
    time.sleep(WRONG_CODE_PAUSE)

    step_two = client.post("/login/code/", {"code": code_for(secret, steps_ahead=1)})
    assert step_two["Location"] == "/"
    assert client.get("/").status_code == 200
    used = AuditLog.objects.get(action="2fa.used")
    assert used.changes["with"] == "authenticator app"


def test_a_recovery_code_lets_you_in_once(agent, enrolled):
    _, codes = enrolled

    first = Client()
    first.post("/login/", {"username": "alice", "password": PASSWORD})
    assert first.post("/login/code/", {"code": codes[0]})["Location"] == "/"

    second = Client()
    second.post("/login/", {"username": "alice", "password": PASSWORD})
    again = second.post("/login/code/", {"code": codes[0]})
    assert again.status_code == 200 and "already used" in again.content.decode()
    assert second.get("/")["Location"].startswith("/login/")
    assert AuditLog.objects.get(action="2fa.used").changes["with"] == "recovery code"


def test_wrong_codes_count_towards_the_login_lock_out(settings, agent, enrolled):
    settings.AXES_FAILURE_LIMIT = 3
    secret, _ = enrolled
    client = Client()
    client.post("/login/", {"username": "alice", "password": PASSWORD})
    for guess in ("111111", "222222"):
        client.post("/login/code/", {"code": guess})

    locked = client.post("/login/code/", {"code": "333333"})
    assert locked.status_code == 429
    late = client.post("/login/code/", {"code": code_for(secret, steps_ahead=1)})
    assert late.status_code == 429
    assert client.get("/")["Location"].startswith("/login/")


def test_an_admin_resets_a_users_two_factor_in_the_settings_area(admin_user, agent, enrolled):
    admin = Client()
    admin.force_login(admin_user)
    assert "Reset two-factor" in admin.get(f"/settings/users/{agent.pk}/").content.decode()

    admin.post(f"/settings/users/{agent.pk}/two-factor/reset/")

    client = Client()
    assert client.post("/login/", {"username": "alice", "password": PASSWORD})["Location"] == "/"
    entry = AuditLog.objects.get(action="2fa.reset")
    assert entry.actor == admin_user and entry.target_id == str(agent.pk)


def test_an_agent_cannot_reset_anyone(agent, teammate):
    client = Client()
    client.force_login(teammate)
    assert client.post(f"/settings/users/{agent.pk}/two-factor/reset/").status_code == 403


def test_turning_it_off_needs_a_current_code(agent, enrolled):
    secret, _ = enrolled
    client = Client()
    client.force_login(agent)

    client.post("/account/security/2fa/off/", {"code": "999999"})
    assert "On:" in client.get("/account/security/").content.decode()
    time.sleep(WRONG_CODE_PAUSE)

    client.post("/account/security/2fa/off/", {"code": code_for(secret, steps_ahead=1)})
    assert "Off." in client.get("/account/security/").content.decode()
    assert AuditLog.objects.filter(action="2fa.disabled").exists()


def test_with_require_admin_2fa_an_admin_must_set_it_up_before_anything(settings, admin_user):
    settings.REQUIRE_ADMIN_2FA = True
    client = Client()
    assert client.post("/login/", {"username": "root-admin", "password": PASSWORD}).status_code
    assert client.get("/")["Location"] == "/account/security/"
    assert client.get("/settings/")["Location"] == "/account/security/"
    assert client.get("/admin/")["Location"] == "/account/security/"
    assert client.get("/api/v1/conversations/").status_code == 403

    enrol(client)

    assert client.get("/").status_code == 200


def test_require_admin_2fa_leaves_agents_alone(settings, agent):
    settings.REQUIRE_ADMIN_2FA = True
    client = Client()
    client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert client.get("/").status_code == 200
