"""The one webhook entrance: every platform's URL, answered by ``inbox.webhooks.receive``.

Under ASGI, ``parley.asgi`` hands ``/webhooks/`` to ``asgi_webhook``: platforms' servers
calling, not browsers, so no middleware, no session and no ``HttpRequest``. It reads the body on
the event loop; the common case — a signed delivery whose accounts the process knows — is
checked, archived and acknowledged there too (``inbox.webhooks.answer_on_loop``: no thread, no
Django connection). Everything else makes one hop into the entrance's long-lived threads
(``inbox.webhooks.on_thread``), each with its pooled database connection, so concurrent webhooks
do not queue behind one another while they wait on PostgreSQL and Redis (Meta wants its 200
within 5 s, and bursts arrive in parallel). Django's own handler cost three thread hops, one of
them into a thread created for each request.

The Django view ``webhook`` serves the same URLs to the test client and WSGI (always the
synchronous path).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import Resolver404, resolve
from django.utils.datastructures import CaseInsensitiveMapping
from django.views.decorators.csrf import csrf_exempt

from connectors.base import WebhookRejected
from inbox.webhooks import Answer, answer_on_loop, on_thread, receive, refuse_oversized

log = logging.getLogger(__name__)


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


def _answer_logged(platform: str, account_id: int | None, **request: object) -> Answer:
    try:
        return _answer(platform, account_id, **request)
    except Exception:
        log.exception("webhook %s: error while answering", platform)
        return Answer(500, "server error")


@lru_cache(maxsize=256)
def _route(path: str) -> tuple[str, int | None] | None:
    """The platform and account of a webhook path (None: not a webhook URL), resolved once per
    path by Django's URL resolver."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.func is not webhook:
        return None
    return match.kwargs["platform"], match.kwargs.get("account_id")


async def asgi_webhook(scope: dict, receive_message, send) -> None:
    """``/webhooks/…`` under ASGI (see the module's docstring)."""
    route = _route(scope["path"].removeprefix(scope.get("root_path", "")))
    if route is None:
        await _send(send, Answer(404, "no such webhook"))
        return
    platform, account_id = route
    method = scope["method"]
    headers = CaseInsensitiveMapping(
        {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    )
    body = b""
    answer = None
    if method == "POST":
        try:
            body = await _read_body(receive_message, platform, headers)
        except WebhookRejected as exc:
            await _send(send, Answer.refusal(exc))
            return
        try:
            answer = await answer_on_loop(platform, headers, body, account_id=account_id)
        except Exception:
            log.exception("webhook %s: error while answering on the event loop", platform)
            answer = Answer(500, "server error")
    if answer is None:
        client = scope.get("client")
        answer = await on_thread(
            _answer_logged,
            platform,
            account_id,
            method=method,
            headers=headers,
            body=body,
            query=QueryDict(scope.get("query_string", b"")),
            remote_addr=client[0] if client else "unknown",
        )
    await _send(send, answer)
    if answer.after is not None:
        try:
            await on_thread(answer.after)
        except Exception:
            log.exception("webhook %s: error after answering", platform)


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
