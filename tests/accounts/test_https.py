"""Behind HTTPS: SECURE_COOKIES=1 brings HSTS and the SSL redirect, the proxy's scheme header is
a setting, and neither the webhooks nor the compose health check are bounced."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tests.helpers import SIGNATURE_HEADER, sandbox_body, sign
from tests.live import ROOT

PRINT_SECURITY = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
    "s.SECURE_HSTS_SECONDS, list(s.SECURE_PROXY_SSL_HEADER or [])]))"
)


def security_settings(**env: str) -> list:
    base = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "parley.settings",
        "PARLEY_TESTING": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SECURITY],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_secure_cookies_also_turns_on_hsts_and_the_ssl_redirect():
    assert security_settings() == [False, False, False, 0, []]
    assert security_settings(
        SECURE_COOKIES="1", SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https"
    ) == [True, True, True, 31536000, ["HTTP_X_FORWARDED_PROTO", "https"]]


HTTPS_BEHIND_PROXY = {
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
}


# Django's test client builds its middleware per client, so these settings apply to it.


@pytest.mark.django_db
def test_plain_http_pages_redirect_and_https_pages_carry_hsts(settings, client):
    for name, value in HTTPS_BEHIND_PROXY.items():
        setattr(settings, name, value)

    plain = client.get("/login/")
    proxied = client.get("/login/", headers={"X-Forwarded-Proto": "https"})

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/login/"
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"] == "max-age=31536000"


def test_webhooks_over_plain_http_are_not_redirected(settings, client, account):
    for name, value in HTTPS_BEHIND_PROXY.items():
        setattr(settings, name, value)
    body = sandbox_body(text="still delivered")

    # Through the whole middleware (the test client), not only the lean ASGI entrance.
    response = client.post(
        f"/webhooks/sandbox/{account.pk}/",
        body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: sign(account.credentials["secret"], body)},
    )

    assert response.status_code == 200


def test_compose_sets_https_settings_and_its_web_health_check_claims_https():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    environment = compose["x-parley"]["environment"]
    assert "SECURE_COOKIES" in environment
    assert "SECURE_PROXY_SSL_HEADER" in environment
    # The TLS terminator is part of the file; with the SSL redirect on, the web service's
    # health check (plain HTTP inside the container) must still reach a 200.
    assert "proxy" in compose["services"]
    assert "X-Forwarded-Proto" in " ".join(compose["services"]["web"]["healthcheck"]["test"])
