"""Clients for the event loop: a small async psycopg pool on Django's database and an async
Redis client on the shared cache, for the one request answered without a thread — a signed
webhook's acknowledgement (``inbox.webhooks.answer_on_loop``).

Each is made lazily, once per process (per event loop: a client belongs to the loop it was
made on), and closed by ``close()`` at the server's shutdown (``parley.asgi``'s lifespan).
Only on the production shape: PostgreSQL and a Redis shared cache; elsewhere (the embedded
default on SQLite, an in-process cache) they are None and the synchronous path answers.

Connections: each web process holds up to ``WEBHOOK_LOOP_POOL_SIZE`` connections here besides
Django's pool (``docs/scaling.md``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import redis.asyncio
from django.conf import settings
from django.db import connections
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)


@dataclass
class _Clients:
    loop: asyncio.AbstractEventLoop
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    database: AsyncConnectionPool | None = None
    redis: redis.asyncio.Redis | None = None


_clients: _Clients | None = None


def available() -> bool:
    """Whether this process can answer on the loop: PostgreSQL and a Redis shared cache."""
    return settings.IS_POSTGRES and bool(settings.REDIS_URL)


def _current() -> _Clients:
    global _clients
    loop = asyncio.get_running_loop()
    if _clients is None or _clients.loop is not loop:
        if _clients is not None:
            # Another loop's clients cannot be awaited from this one (tests run one loop per
            # request): they are dropped, their connections closed when collected.
            log.info("event loop changed: its database and Redis clients are made again")
        _clients = _Clients(loop)
    return _clients


def _connect_kwargs() -> dict:
    """Django's own connection parameters for the default database (name, host, user, the
    adapters Django registers), for an async connection in autocommit."""
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)  # Django's sync client-side cursor
    params["autocommit"] = True
    return params


async def database() -> AsyncConnectionPool:
    """The process's async pool on the default database, opened on first use."""
    clients = _current()
    if clients.database is None:
        async with clients.lock:
            if clients.database is None:
                pool = AsyncConnectionPool(
                    kwargs=_connect_kwargs(),
                    min_size=1,
                    max_size=settings.WEBHOOK_LOOP_POOL_SIZE,
                    # A request waits this long for a connection, then fails (500): the
                    # platform retries; nothing was stored.
                    timeout=10.0,
                    name="webhook-loop",
                    open=False,
                )
                await pool.open(wait=False)
                clients.database = pool
    return clients.database


def shared_redis() -> redis.asyncio.Redis:
    """The process's async client on the shared cache's Redis (connections made on use)."""
    clients = _current()
    if clients.redis is None:
        clients.redis = redis.asyncio.Redis.from_url(settings.CACHES["shared"]["LOCATION"])
    return clients.redis


async def close() -> None:
    """Close this loop's clients (the server's shutdown; tests after each request)."""
    global _clients
    clients, _clients = _clients, None
    if clients is None or clients.loop is not asyncio.get_running_loop():
        return
    if clients.database is not None:
        await clients.database.close()
    if clients.redis is not None:
        await clients.redis.aclose()
