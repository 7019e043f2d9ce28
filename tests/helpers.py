"""Small helpers the tests share: signed webhook bodies, waiting for a condition."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from connectors.base import MessageReceived, Person
from connectors.sandbox.connector import SIGNATURE_HEADER, sign
from inbox import presence, services
from inbox.models import Conversation


def sandbox_body(
    *,
    sender_id: str = "cust-1",
    name: str = "Maya Thompson",
    text: str = "Where is my order?",
    message_id: str | None = None,
    timestamp_ms: int | None = None,
    **extra: Any,
) -> bytes:
    return json.dumps(
        {
            "id": message_id or f"m-{uuid.uuid4().hex}",
            "sender": {"id": sender_id, "name": name},
            "text": text,
            "timestamp": timestamp_ms or int(time.time() * 1000),
            **extra,
        }
    ).encode()


def token_client(user) -> APIClient:
    """An API client authenticated with the user's token, as scripts call the REST API."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def sandbox_headers(secret: str, body: bytes) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"}


def post_sandbox(client, account, body: bytes, *, secret: str | None = None):
    """POST a signed sandbox webhook through Django's test client."""
    secret = secret if secret is not None else account.credentials["secret"]
    return client.post(
        f"/webhooks/sandbox/{account.pk}/",
        data=body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: sign(secret, body)},
    )


def wait_for(condition: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll until ``condition()`` is truthy; return its value or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def committed():
    """Run what is scheduled on commit (processing, delivery, media) when the block ends, in a
    test that runs inside one never-committed transaction (much faster than
    ``transaction=True``)."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def customer_writes(account, sender: str, message_id: str):
    """A customer's message through the inbound service, committed (assignment and the other
    listeners run after commit); the conversation it landed in, read afresh."""
    event = MessageReceived(
        platform="sandbox",
        account_external_id=account.external_id,
        timestamp=timezone.now(),
        external_id=message_id,
        sender=Person(platform_user_id=sender, name=sender.title()),
        text="hello",
    )
    with committed():
        message = services.receive_message(account=account, event=event)
    return Conversation.objects.get(pk=message.conversation_id)


def online(*users) -> None:
    """Each user has the dashboard open (a socket connected)."""
    for user in users:
        presence.connected(user)


def run_async(coroutine: Coroutine) -> Any:
    """``asyncio.run`` in a thread of its own: once a browser test has started Playwright's
    sync API, the test thread holds a running event loop and ``asyncio.run`` refuses to start."""
    import asyncio

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
