"""The ASGI application's HTTP routing (what uvicorn serves): platform webhooks are answered by
their views alone, browser pages go through the whole middleware stack; a signed delivery whose
accounts the process knows is archived and acknowledged on the event loop."""

from __future__ import annotations

import json
import logging

import pytest
from asgiref.testing import ApplicationCommunicator
from django.db import connection

from connectors import webhooks
from connectors.meta.webhook import SIGNATURE_HEADER as META_HEADER
from connectors.meta.webhook import sign as meta_sign
from inbox.models import Message, PlatformAccount, WebhookEvent
from parley import aio
from parley.asgi import application
from tests.factories import AccountFactory
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
        # Connections the request took from the event loop's pool (parley.aio), which belongs
        # to this request's loop: closed with it, as the server's shutdown closes it.
        on_loop = (await aio.database()).get_stats().get("requests_num", 0)
        await aio.close()
        return {
            "status": start["status"],
            "headers": headers,
            "body": b"".join(body_parts),
            "on_loop": on_loop,
        }

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


# --- The common case on the event loop (inbox.webhooks.answer_on_loop) ------------------------

APP_SECRET = "meta-app-secret"
PAGE_ID = "1000001"


@pytest.fixture
def page(settings, fake_platforms):
    settings.META_APP_SECRET = APP_SECRET
    return AccountFactory(platform="messenger", external_id=PAGE_ID, credentials={})


def meta_delivery(text: str, *, page_id: str = PAGE_ID, secret: str = APP_SECRET, mid: str = ""):
    event = {
        "sender": {"id": "psid-1"},
        "recipient": {"id": page_id},
        "timestamp": 1767225600000,
        "message": {"mid": mid or f"m_{text.replace(' ', '_')}", "text": text},
    }
    body = json.dumps(
        {"object": "page", "entry": [{"id": page_id, "time": 1767225600000, "messaging": [event]}]}
    ).encode()
    headers = {META_HEADER: meta_sign(secret, body), "Content-Type": "application/json"}
    return body, headers


def deliver(body: bytes, headers: dict[str, str]) -> dict:
    return call("POST", "/webhooks/meta/", body, headers)


def test_a_signed_delivery_is_archived_on_the_loop_before_its_200_and_ingested(page):
    # The first delivery finds no accounts kept in the process: answered on a thread, which
    # keeps them for the next ones.
    first = deliver(*meta_delivery("Hello first"))
    body, headers = meta_delivery("Hello on the loop")

    second = deliver(body, headers)

    assert (first["status"], first["on_loop"]) == (200, 0)
    assert (second["status"], second["body"]) == (200, b"ok")
    assert second["on_loop"] == 1  # one connection from the loop's pool: the archive row
    archived = WebhookEvent.objects.get(body=body)
    assert archived.account == page
    assert archived.source == "messenger"
    assert archived.signature_valid is True
    assert archived.signed_for is None  # the app-wide secret signed it
    assert archived.body_size == len(body)
    assert archived.headers["x-hub-signature-256"] == headers[META_HEADER]
    # The ingest pass was requested (run in-process in tests) and took the body.
    assert archived.outcome == WebhookEvent.Outcome.PROCESSED, archived.error
    assert set(Message.objects.values_list("text", flat=True)) == {
        "Hello first",
        "Hello on the loop",
    }


def test_the_loop_writes_the_same_row_as_the_thread_path(page):
    on_thread = deliver(*meta_delivery("Same row", mid="m_same_1"))
    on_loop = deliver(*meta_delivery("Same row", mid="m_same_2"))

    assert (on_thread["on_loop"], on_loop["on_loop"]) == (0, 1)
    rows = list(WebhookEvent.objects.order_by("pk").values())
    fields = ("source", "account_id", "signature_valid", "signed_for", "body_sha256", "error")
    assert [{f: row[f] for f in fields} for row in rows] == [{f: rows[0][f] for f in fields}] * 2
    assert rows[0]["headers"].keys() == rows[1]["headers"].keys()


def test_a_bad_signature_is_refused_and_kept_by_the_thread_path_as_before(page):
    deliver(*meta_delivery("Warm the accounts"))
    body, _ = meta_delivery("Forged")

    refused = deliver(body, {META_HEADER: meta_sign("not-the-secret", body)})

    assert (refused["status"], refused["on_loop"]) == (403, 0)
    kept = WebhookEvent.objects.get(signature_valid=False)
    assert kept.outcome == WebhookEvent.Outcome.REJECTED
    assert bytes(kept.body) == body[:1024]


def test_a_malformed_signed_body_is_answered_by_the_thread_path(page):
    deliver(*meta_delivery("Warm the accounts"))
    body = b"[1, 2, 3]"

    answer = deliver(body, {META_HEADER: meta_sign(APP_SECRET, body)})

    assert (answer["status"], answer["on_loop"]) == (400, 0)
    assert WebhookEvent.objects.get(body=body).outcome == WebhookEvent.Outcome.FAILED


def _deleted_elsewhere(account: PlatformAccount) -> None:
    """Another process deletes the account: no signal reaches this one."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM inbox_platformaccount WHERE id = %s", [account.pk])


def _kept_in_process() -> None:
    """The process has read the Messenger accounts for a delivery (and keeps them a while)."""
    assert webhooks.named_accounts("messenger", [PAGE_ID])


def test_an_account_deleted_elsewhere_is_refused_by_the_rows_foreign_key(page):
    _kept_in_process()
    _deleted_elsewhere(page)
    body, headers = meta_delivery("After the delete")

    answer = deliver(body, headers)

    # The loop tried (its INSERT refused), then the thread path answered without the account.
    assert (answer["status"], answer["on_loop"]) == (200, 1)
    archived = WebhookEvent.objects.get(body=body)
    assert archived.account is None
    assert archived.signature_valid is True


def test_an_account_made_again_elsewhere_gets_its_rows(page):
    _kept_in_process()
    _deleted_elsewhere(page)
    (again,) = PlatformAccount.objects.bulk_create(  # no signal either
        [PlatformAccount(platform="messenger", external_id=PAGE_ID, credentials={})]
    )
    body, headers = meta_delivery("To the new page")

    answer = deliver(body, headers)

    assert answer["status"] == 200
    assert WebhookEvent.objects.get(body=body).account == again
    # The process forgot the old account: the next delivery is on the loop again, for the new.
    deliver(*meta_delivery("Keep the new one"))
    body, headers = meta_delivery("Back on the loop")
    assert deliver(body, headers)["on_loop"] == 1
    assert WebhookEvent.objects.get(body=body).account == again


def test_a_delivery_for_an_account_not_kept_here_goes_to_the_thread_path(page):
    deliver(*meta_delivery("Warm the accounts"))
    other = AccountFactory.build(platform="messenger", external_id="2000002", credentials={})
    PlatformAccount.objects.bulk_create([other])  # made in another process
    body, headers = meta_delivery("To the other page", page_id="2000002")

    answer = deliver(body, headers)

    assert (answer["status"], answer["on_loop"]) == (200, 0)
    assert WebhookEvent.objects.get(body=body).account.external_id == "2000002"


def test_an_error_on_the_loop_is_a_500_and_the_archived_body_is_kept(page, settings, caplog):
    deliver(*meta_delivery("Warm the accounts"))
    # Redis unreachable from the loop: the ingest pass cannot be requested after the INSERT.
    settings.CACHES = {
        **settings.CACHES,
        "shared": {**settings.CACHES["shared"], "LOCATION": "redis://127.0.0.1:9/0"},
    }
    body, headers = meta_delivery("Redis is down")

    with caplog.at_level(logging.ERROR, logger="inbox.webhook_views"):
        answer = deliver(body, headers)

    assert (answer["status"], answer["on_loop"]) == (500, 1)
    assert "error while answering on the event loop" in caplog.text
    # Kept: the platform's retry is a redelivery, and the sweep re-requests the ingest pass.
    assert WebhookEvent.objects.get(body=body).outcome == WebhookEvent.Outcome.RECEIVED


def test_the_servers_shutdown_closes_the_loops_pool():
    async def lifespan() -> bool:
        pool = await aio.database()
        communicator = ApplicationCommunicator(application, {"type": "lifespan"})
        await communicator.send_input({"type": "lifespan.startup"})
        await communicator.receive_output(timeout=10)
        await communicator.send_input({"type": "lifespan.shutdown"})
        await communicator.receive_output(timeout=10)
        return pool.closed

    assert run_async(lifespan()) is True
