"""The one webhook view: every platform's URL, answered by ``inbox.webhooks.receive``.

Under ASGI it runs off Django's single shared sync thread (in the thread pool, each request
with its own pooled database connection), so concurrent webhooks do not queue behind one
another while they wait on PostgreSQL and Redis — Meta wants its 200 within 5 s, and bursts
arrive in parallel. ``parley.asgi`` serves ``/webhooks/`` without the browser middleware.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.base import WebhookRejected
from inbox.webhooks import Answer, receive, refuse_oversized


@csrf_exempt
async def webhook(
    request: HttpRequest, platform: str, account_id: int | None = None
) -> HttpResponse:
    if isinstance(request, ASGIRequest):
        answer = await sync_to_async(_answer, thread_sensitive=False)(
            request, platform, account_id, own_thread=True
        )
    else:
        # Test client / WSGI: the caller's thread and connection (its transaction is the test's).
        answer = await sync_to_async(_answer)(request, platform, account_id, own_thread=False)
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers.items():
        response[name] = value
    return response


def _answer(
    request: HttpRequest, platform: str, account_id: int | None, *, own_thread: bool
) -> Answer:
    try:
        if request.method == "POST":
            # Refused by its declared size before a byte of it is read into memory.
            declared = request.META.get("CONTENT_LENGTH") or "0"
            refuse_oversized(platform, int(declared) if declared.isdigit() else 0)
        return receive(
            platform,
            request.headers,
            request.body if request.method == "POST" else b"",
            method=request.method or "",
            query=request.GET,
            account_id=account_id,
            # The client's address (behind a proxy, the server must put it there); an ASGI
            # server on a Unix socket names none.
            remote_addr=request.META.get("REMOTE_ADDR") or "unknown",
        )
    except WebhookRejected as exc:
        return Answer.refusal(exc)
    finally:
        if own_thread:
            # A pool thread's connection goes back to the pool (request_finished only closes
            # the main sync thread's).
            close_old_connections()
