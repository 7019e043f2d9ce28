"""Passes that take all the work waiting — the ingest pass over archived webhooks, the report
metrics pass over stale conversations — need one run pending, not one per piece of work.

``request`` publishes the task unless a run is already pending (a key in the shared cache, so
across every web and worker process); the task calls ``started`` before it looks for work, so
anything committed after that point requests a run of its own and nothing is left waiting. A
pending run whose task was lost (Redis restarted) stops counting after ``LOST_AFTER`` seconds,
and Celery beat runs each pass periodically as well.
"""

from __future__ import annotations

from functools import cache

import redis
from celery import Task
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache

from parley import aio

LOST_AFTER = 10.0


@cache
def shared_cache() -> BaseCache:
    """The cache every process sees (Redis; in-process on the embedded default), one client per
    process: ``caches[...]`` is per thread (per request under ASGI), and a new Redis client per
    webhook is a new connection on the acknowledgement path."""
    return caches.create_connection("shared")


@cache
def _redis() -> redis.Redis | None:
    """The shared cache's Redis client, made once: Django's cache makes a client object per call
    (redis-py fills some 200 response callbacks in each — 14 % of a webhook acknowledgement's
    CPU, which asks here every time). None when the shared cache is not Redis."""
    backend = shared_cache()
    return backend._cache.get_client(write=True) if isinstance(backend, RedisCache) else None


def _key(name: str) -> str:
    return f"parley:pass-pending:{name}"


def _pending_mark(task: Task, delay: float) -> tuple[str, int]:
    """The shared cache's key that marks a run of ``task`` pending, and how long it holds (ms):
    until the run is due and then ``LOST_AFTER``."""
    return shared_cache().make_key(_key(task.name)), int((delay + LOST_AFTER) * 1000)


def request(task: Task, *, delay: float = 0.0) -> bool:
    """Publish ``task`` (in ``delay`` seconds) unless a run of it is pending; whether it was."""
    client = _redis()
    if client is not None:
        key, px = _pending_mark(task, delay)
        pending = not client.set(key, 1, nx=True, px=px)
    else:
        pending = not shared_cache().add(_key(task.name), 1, timeout=delay + LOST_AFTER)
    if pending:
        return False
    publish(task, delay=delay)
    return True


async def claim_on_loop(task: Task, *, delay: float = 0.0) -> bool:
    """``request``'s check on the event loop (the async Redis client, ``parley.aio``): whether
    no run of ``task`` was pending, so that the caller must ``publish`` it (off the loop: a
    publish is a blocking call, and a rare one)."""
    key, px = _pending_mark(task, delay)
    return bool(await aio.shared_redis().set(key, 1, nx=True, px=px))


def publish(task: Task, *, delay: float = 0.0) -> None:
    task.apply_async(countdown=delay or None)


def started(task: Task) -> None:
    """Called by the task before it looks for work: later work needs a run of its own."""
    client = _redis()
    if client is not None:
        client.delete(shared_cache().make_key(_key(task.name)))
    else:
        shared_cache().delete(_key(task.name))
