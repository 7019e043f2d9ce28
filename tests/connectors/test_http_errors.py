"""One classifier for every platform's error responses (connectors.http.classify), with each
platform's rules as data: the documented error bodies, answered by the local fake server, go
through the real ``requests`` path and come back as the DeliveryError an agent reads."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.conf import settings

from connectors import http
from connectors.base import DeliveryError
from connectors.linkedin.errors import classify as linkedin_rules
from connectors.meta.errors import classify as meta_rules
from connectors.oauth import classify as oauth_rules
from connectors.x.client import classify as x_rules
from connectors.x.client import refresh_refused as x_refresh_rules
from tests.fakes.server import Reply

FIXTURES = Path(__file__).resolve().parent
META = FIXTURES / "meta" / "fixtures"
X = FIXTURES / "x" / "fixtures"
# LinkedIn's Rest.li error shape (no fixture of LinkedIn's own in the reference).
LINKEDIN_ERROR = {
    "status": 403,
    "serviceErrorCode": 100,
    "code": "ACCESS_DENIED",
    "message": "Not enough permissions to access: POST /socialActions",
}


def body(path: Path) -> dict:
    return json.loads(path.read_bytes())


def failure(fake_platforms, url: str, rules: http.ErrorRules, reply: Reply, method: str = "POST"):
    fake_platforms.script(method, r".", reply)
    with pytest.raises(DeliveryError) as raised:
        http.request(method, url, classify=rules, json={})
    return raised.value


def meta_url() -> str:
    return f"{settings.META_GRAPH_URL}/me/messages"


def x_dm_url() -> str:
    return f"{settings.X_API_URL}/2/dm_conversations/with/42/messages"


@pytest.mark.parametrize(
    ("fixture", "status", "code", "permanent", "auth"),
    [
        (META / "meta_error_outside_window.json", 400, "window_closed", True, False),
        (META / "instagram_error_outside_window.json", 403, "window_closed", True, False),
        (META / "meta_error_invalid_token.json", 400, "invalid_token", True, True),
        (META / "meta_error_rate_limit.json", 400, "rate_limited", False, False),
    ],
)
def test_meta_documented_errors(fake_platforms, fixture, status, code, permanent, auth):
    error = failure(fake_platforms, meta_url(), meta_rules, Reply(status, body(fixture)))

    assert (error.code, error.permanent, error.auth) == (code, permanent, auth)
    assert "Meta" in error.reason and str(body(fixture)["error"]["code"]) in error.reason


def test_meta_rate_limit_waits_for_retry_after_else_its_usage_estimate_else_a_minute(
    fake_platforms,
):
    rate_limit = body(META / "meta_error_rate_limit.json")
    usage = json.dumps({"1": [{"estimated_time_to_regain_access": 2}]})

    told = Reply(400, rate_limit, headers={"Retry-After": "7"})
    estimated = Reply(400, rate_limit, headers={"X-Business-Use-Case-Usage": usage})
    assert failure(fake_platforms, meta_url(), meta_rules, told).retry_after == 7
    assert failure(fake_platforms, meta_url(), meta_rules, estimated).retry_after == 120
    assert failure(fake_platforms, meta_url(), meta_rules, Reply(400, rate_limit)).retry_after == 60


@pytest.mark.parametrize(
    ("fixture", "status", "code", "permanent", "words"),
    [
        (X / "x_error_400_invalid_request.json", 400, "400", True, "does not match ^[0-9]{1,19}$"),
        (X / "x_error_403.json", 403, "dm_refused", True, "settings may not accept messages"),
        (
            X / "x_error_403__legacy_349.json",
            403,
            "dm_refused",
            True,
            "does not accept messages from this account",
        ),
        (X / "x_error_429.json", 429, "rate_limited", False, "Too Many Requests"),
    ],
)
def test_x_documented_errors(fake_platforms, fixture, status, code, permanent, words):
    error = failure(fake_platforms, x_dm_url(), x_rules, Reply(status, body(fixture)))

    assert (error.code, error.permanent, error.auth) == (code, permanent, False)
    assert words in error.reason


def test_x_403_outside_a_dm_send_is_about_the_tokens_permissions(fake_platforms):
    error = failure(
        fake_platforms,
        f"{settings.X_API_URL}/2/users/me",
        x_rules,
        Reply(403, body(X / "x_error_403.json")),
        method="GET",
    )
    assert error.code == "403" and "dm.read" in error.reason


def test_x_rate_limit_waits_for_the_reset_time_or_retry_after(fake_platforms):
    reset = int(time.time()) + 120
    limited = body(X / "x_error_429.json")

    by_reset = Reply(429, limited, headers={"x-rate-limit-reset": str(reset)})
    by_header = Reply(429, limited, headers={"Retry-After": "30"})
    assert abs(failure(fake_platforms, x_dm_url(), x_rules, by_reset).retry_after - 120) < 3
    assert failure(fake_platforms, x_dm_url(), x_rules, by_header).retry_after == 30


def test_x_refused_refresh_needs_a_reconnect_but_a_busy_one_is_retried(fake_platforms):
    url = f"{settings.X_API_URL}/2/oauth2/token"
    refused = failure(fake_platforms, url, x_refresh_rules, Reply(400, {"error": "invalid_grant"}))
    busy = failure(fake_platforms, url, x_refresh_rules, Reply(503, {"title": "Unavailable"}))

    assert (refused.code, refused.permanent, refused.auth) == ("refresh_refused", True, True)
    assert not busy.permanent and not busy.auth


@pytest.mark.parametrize(
    ("status", "code", "permanent", "auth"),
    [
        (401, "401", True, True),
        (403, "403", True, False),
        (404, "404", True, False),
        (422, "422", True, False),
        (429, "429", False, False),
        (503, "503", False, False),
    ],
)
def test_linkedin_errors_by_status(fake_platforms, status, code, permanent, auth):
    url = f"{settings.LINKEDIN_API_URL}/rest/socialActions/urn/comments"
    error = failure(
        fake_platforms, url, linkedin_rules, Reply(status, {**LINKEDIN_ERROR, "status": status})
    )

    assert (error.code, error.permanent, error.auth) == (code, permanent, auth)
    assert "LinkedIn" in error.reason


def test_linkedin_rate_limit_honours_retry_after(fake_platforms):
    url = f"{settings.LINKEDIN_API_URL}/rest/socialActions/urn/comments"
    reply = Reply(429, {"status": 429, "message": "Throttled"}, headers={"Retry-After": "12"})

    assert failure(fake_platforms, url, linkedin_rules, reply).retry_after == 12


def test_oauth_refusals_say_what_the_provider_said(fake_platforms):
    url = f"{settings.META_GRAPH_URL}/oauth/access_token"
    bad_code = Reply(400, {"error": "invalid_grant", "error_description": "Code was used."})
    graph = Reply(400, {"error": {"message": "Invalid verification code", "code": 100}})

    first = failure(fake_platforms, url, oauth_rules, bad_code)
    second = failure(fake_platforms, url, oauth_rules, graph)
    assert first.auth and "Code was used." in first.reason
    assert second.auth and "Invalid verification code" in second.reason


def test_a_body_that_is_not_json_falls_back_to_the_status(fake_platforms):
    html = Reply(503, raw=b"<html>busy</html>", content_type="text/html")
    error = failure(fake_platforms, meta_url(), meta_rules, html)

    assert not error.permanent and "<html>" not in error.reason
