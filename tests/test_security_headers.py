"""Every page carries a strict Content-Security-Policy and the other browser security headers;
no template puts script inline; violation reports are logged, and garbage sent to the report
endpoint is refused without a 500."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import ConversationFactory

ROOT = Path(__file__).resolve().parent.parent


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.django_db
def test_every_page_sends_a_strict_policy_and_security_headers(account, admin_user):
    conversation = ConversationFactory(account=account)
    client = Client()
    responses = {"/login/": client.get("/login/")}
    client.force_login(admin_user)
    for path in (
        "/",
        f"/conversations/{conversation.pk}/",
        "/reports/",
        "/settings/accounts/",
        "/settings/teams/",
        "/admin/",
    ):
        responses[path] = client.get(path)

    for path, response in responses.items():
        assert response.status_code == 200, path
        policy = directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], path
        assert policy["default-src"] == ["'self'"], path
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"], path
        assert policy["frame-ancestors"] == ["'none'"], path
        assert policy["report-uri"] == ["/csp-report/"], path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["X-Frame-Options"] == "DENY", path


INLINE_SCRIPT = re.compile(
    r"""<script(?![^>]*\bsrc=)(?![^>]*type="application/json")"""  # an inline script block
    r"""|\son[a-z]+\s*=\s*["']"""  # an inline event handler
    r"""|\bhx-on|javascript:""",
    re.IGNORECASE,
)


def test_no_template_has_inline_script_or_handlers():
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for match in INLINE_SCRIPT.finditer(path.read_text())
    ]
    assert found == []


def test_htmx_is_configured_not_to_eval_or_inject_styles(client, db):
    html = client.get("/login/").content.decode()
    (config,) = re.findall(r"""<meta name="htmx-config" content='([^']*)'>""", html)
    assert json.loads(config) == {
        "allowEval": False,
        "allowScriptTags": False,
        "includeIndicatorStyles": False,
    }


def test_a_violation_report_is_logged(client, caplog):
    report = {
        "csp-report": {
            "document-uri": "https://parley.example/conversations/7/",
            "violated-directive": "script-src-elem",
            "effective-directive": "script-src-elem",
            "blocked-uri": "inline",
            "line-number": 12,
        }
    }
    response = client.post(
        "/csp-report/", json.dumps(report), content_type="application/csp-report"
    )

    assert response.status_code == 204
    assert "CSP violation" in caplog.text and "script-src-elem" in caplog.text
    assert "https://parley.example/conversations/7/" in caplog.text


@pytest.mark.parametrize(
    "body, status",
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"csp-report": "a string"}', 400),
        (b"[" * 50_000 + b"]" * 50_000, 413),
        (b'{"csp-report": {"blocked-uri": "' + b"x" * 20_000 + b'"}}', 413),
    ],
)
def test_garbage_on_the_report_endpoint_is_refused_and_logged(client, caplog, body, status):
    response = client.post("/csp-report/", body, content_type="application/csp-report")

    assert response.status_code == status
    assert "CSP report" in caplog.text
