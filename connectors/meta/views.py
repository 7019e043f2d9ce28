"""The Meta webhook view. Under ASGI it runs off Django's single shared sync thread (in the
thread pool, each request with its own pooled database connection), so concurrent webhooks do
not queue behind one another while they wait on PostgreSQL and Redis — Meta wants its 200
within 5 s, and bursts arrive in parallel."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.base import WebhookRejected
from connectors.meta import webhook as meta_webhook
from connectors.webhooks import rejection_response


def _answer(request: HttpRequest, *, own_thread: bool) -> HttpResponse:
    try:
        return meta_webhook.handle(request)
    except WebhookRejected as exc:
        return rejection_response(exc)
    finally:
        if own_thread:
            # A pool thread's connection goes back to the pool (request_finished only closes
            # the main sync thread's).
            close_old_connections()


@csrf_exempt
async def webhook(request: HttpRequest) -> HttpResponse:
    if isinstance(request, ASGIRequest):
        return await sync_to_async(_answer, thread_sensitive=False)(request, own_thread=True)
    # Test client / WSGI: the caller's thread and connection (its transaction is the test's).
    return await sync_to_async(_answer)(request, own_thread=False)
