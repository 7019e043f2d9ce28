"""The ASGI application's HTTP routing (what uvicorn serves): platform webhooks are answered by
their views alone, browser pages go through the whole middleware stack."""

from __future__ import annotations

import pytest
from asgiref.testing import ApplicationCommunicator

from inbox.models import WebhookEvent
from parley.asgi import application
from tests.helpers import SIGNATURE_HEADER, run_async, sandbox_body, sign

pytestmark = pytest.mark.django_db(transaction=True)


def call(
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    chunks: list[bytes] | None = None,
    query: bytes = b"",
):
    """One HTTP request through the ASGI application: {"status", "headers"}."""
    pairs = [(b"host", b"localhost")]
    pairs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "scheme": "http",
        "query_string": query,
        "headers": pairs,
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }

    async def exchange() -> dict:
        communicator = ApplicationCommunicator(application, scope)
        parts = chunks if chunks is not None else [body]
        for index, part in enumerate(parts):
            more = index < len(parts) - 1
            await communicator.send_input({"type": "http.request", "body": part, "more_body": more})
        start = await communicator.receive_output(timeout=10)
        body_parts = []
        while True:
            message = await communicator.receive_output(timeout=10)
            body_parts.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await communicator.wait(timeout=10)  # the request's end: its connection is closed
        headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
        return {"status": start["status"], "headers": headers, "body": b"".join(body_parts)}

    return run_async(exchange())


def test_a_signed_webhook_is_archived_and_answered_without_browser_middleware(account):
    body = sandbox_body(text="Hello over ASGI")
    secret = account.credentials["secret"]

    response = call(
        "POST", f"/webhooks/sandbox/{account.pk}/", body, {SIGNATURE_HEADER: sign(secret, body)}
    )

    assert response["status"] == 200
    assert WebhookEvent.objects.get(account=account).body == body
    # No session cookie, no framing header: the middleware did not run for the platform.
    assert "set-cookie" not in response["headers"]
    assert "x-frame-options" not in response["headers"]


def test_webhook_errors_keep_their_meaning_on_the_lean_path(account):
    body = sandbox_body()

    bad = call("POST", f"/webhooks/sandbox/{account.pk}/", body, {SIGNATURE_HEADER: "nope"})
    missing = call("POST", "/webhooks/no-such-platform/", body)

    assert bad["status"] == 403
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.REJECTED
    assert missing["status"] == 404


def test_pages_still_get_the_middleware():
    response = call("GET", "/login/")

    assert response["status"] == 200
    assert response["headers"]["x-frame-options"] == "DENY"
    assert "csrftoken" in response["headers"].get("set-cookie", "")


def test_a_streamed_body_over_the_limit_is_refused_and_nothing_is_kept(account, settings):
    """No Content-Length to refuse it by: the entrance stops reading once the limit is passed."""
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    body = sandbox_body(text="x" * 2000)
    signature = sign(account.credentials["secret"], body)

    response = call(
        "POST",
        f"/webhooks/sandbox/{account.pk}/",
        headers={SIGNATURE_HEADER: signature},
        chunks=[body[:600], body[600:1200], body[1200:]],
    )

    assert response["status"] == 413
    assert not WebhookEvent.objects.exists()


def test_a_body_in_several_chunks_is_archived_whole(account):
    body = sandbox_body(text="Hello in parts")
    signature = sign(account.credentials["secret"], body)

    response = call(
        "POST",
        f"/webhooks/sandbox/{account.pk}/",
        headers={SIGNATURE_HEADER: signature},
        chunks=[body[:10], body[10:]],
    )

    assert response["status"] == 200
    assert WebhookEvent.objects.get().body == body


def test_a_platforms_handshake_is_answered_on_the_lean_path(settings):
    settings.META_VERIFY_TOKEN = "verify-me"
    query = b"hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444"

    answered = call("GET", "/webhooks/meta/", query=query)
    refused = call("GET", "/webhooks/meta/", query=query.replace(b"verify-me", b"guess"))

    assert answered["status"] == 200
    assert answered["headers"]["content-type"].startswith("text/plain")
    assert answered["body"] == b"1158201444"
    assert refused["status"] == 403
