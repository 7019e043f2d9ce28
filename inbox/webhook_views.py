"""The one webhook entrance: every platform's URL, answered by ``inbox.webhooks.receive``.

Under ASGI, ``parley.asgi`` hands ``/webhooks/`` to ``asgi_webhook``: platforms' servers
calling, not browsers, so no middleware, no session and no ``HttpRequest``. Django's own handler
cost the acknowledgement three thread hops, one of them into a thread created for each request
(its request signals run in a fresh ``ThreadSensitiveContext``): ``asgi_webhook`` reads the body
on the event loop and makes one hop into a pool of long-lived threads, each with its pooled
database connection, so concurrent webhooks do not queue behind one another while they wait on
PostgreSQL and Redis (Meta wants its 200 within 5 s, and bursts arrive in parallel).

The Django view ``webhook`` serves the same URLs to the test client and WSGI.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import Resolver404, resolve
from django.utils.datastructures import CaseInsensitiveMapping
from django.views.decorators.csrf import csrf_exempt

from connectors.base import WebhookRejected
from inbox.webhooks import Answer, receive, refuse_oversized

log = logging.getLogger(__name__)

# Long-lived threads for the synchronous part of an answer (database, Redis). As many as the
# database pool holds by default: more would only wait for a connection.
_THREADS = ThreadPoolExecutor(max_workers=10, thread_name_prefix="webhook")


@csrf_exempt
async def webhook(
    request: HttpRequest, platform: str, account_id: int | None = None
) -> HttpResponse:
    """The test client's and WSGI's way in: the caller's thread and connection (in tests, its
    transaction is the test's)."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    answer = await sync_to_async(_answer_request)(request, platform, account_id, declared)
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers.items():
        response[name] = value
    return response


def _answer_request(
    request: HttpRequest, platform: str, account_id: int | None, declared: str
) -> Answer:
    try:
        if request.method == "POST":
            # Refused by its declared size before a byte of it is read into memory.
            refuse_oversized(platform, int(declared) if declared.isdigit() else 0)
        body = request.body if request.method == "POST" else b""
    except WebhookRejected as exc:
        return Answer.refusal(exc)
    return _answer(
        platform,
        account_id,
        method=request.method or "",
        headers=request.headers,
        body=body,
        query=request.GET,
        remote_addr=request.META.get("REMOTE_ADDR") or "unknown",
    )


def _answer(
    platform: str,
    account_id: int | None,
    *,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    query: Mapping[str, str],
    remote_addr: str,
) -> Answer:
    try:
        return receive(
            platform,
            headers,
            body,
            method=method,
            query=query,
            account_id=account_id,
            # The client's address (behind a proxy, the server must put it there); an ASGI
            # server on a Unix socket names none.
            remote_addr=remote_addr,
        )
    except WebhookRejected as exc:
        return Answer.refusal(exc)


def _answer_on_thread(platform: str, account_id: int | None, **request: object) -> Answer:
    # What Django's request signals do around a request: a broken or expired connection is
    # replaced before, and the connection goes back to the pool after.
    close_old_connections()
    try:
        return _answer(platform, account_id, **request)
    except Exception:
        log.exception("webhook %s: error while answering", platform)
        return Answer(500, "server error")
    finally:
        close_old_connections()


async def asgi_webhook(scope: dict, receive_message, send) -> None:
    """``/webhooks/…`` under ASGI (see the module's docstring)."""
    path = scope["path"].removeprefix(scope.get("root_path", ""))
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if match is None or match.func is not webhook:
        await _send(send, Answer(404, "no such webhook"))
        return
    platform, account_id = match.kwargs["platform"], match.kwargs.get("account_id")
    method = scope["method"]
    headers = CaseInsensitiveMapping(
        {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    )
    body = b""
    if method == "POST":
        try:
            body = await _read_body(receive_message, platform, headers)
        except WebhookRejected as exc:
            await _send(send, Answer.refusal(exc))
            return
    client = scope.get("client")
    answer = await asyncio.get_running_loop().run_in_executor(
        _THREADS,
        lambda: _answer_on_thread(
            platform,
            account_id,
            method=method,
            headers=headers,
            body=body,
            query=QueryDict(scope.get("query_string", b"")),
            remote_addr=client[0] if client else "unknown",
        ),
    )
    await _send(send, answer)


async def _read_body(receive_message, platform: str, headers: Mapping[str, str]) -> bytes:
    """The body, refused (413) by its declared size before a byte is read and by what arrives
    as soon as it passes the limit."""
    declared = headers.get("content-length") or "0"
    refuse_oversized(platform, int(declared) if declared.isdigit() else 0)
    chunks, size = [], 0
    while True:
        message = await receive_message()
        if message["type"] == "http.disconnect":
            raise WebhookRejected(400, "client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        refuse_oversized(platform, size)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send, answer: Answer) -> None:
    headers = [(b"content-type", answer.content_type.encode())]
    headers += [(name.encode(), str(value).encode()) for name, value in answer.headers.items()]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body.encode()})
