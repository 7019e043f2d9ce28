"""The machine's floor for a webhook acknowledgement: a bare ASGI app (no framework) that does
what Parley's webhook must do at the least — read the body, check its ``X-Hub-Signature-256``
HMAC in constant time, INSERT the body with its headers through an async psycopg pool, answer
200 — and nothing else. ``bench/webhook_ack.py`` runs it in uvicorn beside Parley. Bench only.

Environment: ``FLOOR_DATABASE_URL`` (its table ``bench_floor_webhook`` is created by the
benchmark), ``FLOOR_APP_SECRET``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

from psycopg_pool import AsyncConnectionPool

SECRET = os.environ.get("FLOOR_APP_SECRET", "").encode()
DATABASE_URL = os.environ.get("FLOOR_DATABASE_URL", "")
_pool: AsyncConnectionPool | None = None


async def _get_pool() -> AsyncConnectionPool:
    global _pool
    if _pool is None:
        pool = AsyncConnectionPool(DATABASE_URL, min_size=2, max_size=10, open=False)
        await pool.open()
        _pool = pool
    return _pool


async def _answer(send, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": text})


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
    given = headers.get("x-hub-signature-256", "").removeprefix("sha256=")
    expected = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given, expected):
        await _answer(send, 403, b"invalid signature")
        return
    pool = await _get_pool()
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO bench_floor_webhook (headers, body) VALUES (%s, %s)",
            (json.dumps(headers), body),
        )
    await _answer(send, 200, b"ok")
