"""The Graph API as Parley uses it: base URL from ``META_GRAPH_URL`` (or the account's
``graph_url`` option for Instagram-Login accounts on graph.instagram.com), the account's token,
per-account send rate limiting, and Meta's error classification. All HTTP goes through
``connectors.http``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from django.conf import settings

from connectors import http
from connectors.meta.errors import classify
from inbox.models import PlatformAccount

log = logging.getLogger(__name__)


def base_url(account: PlatformAccount) -> str:
    return str(account.options.get("graph_url") or settings.META_GRAPH_URL).rstrip("/")


def token(account: PlatformAccount) -> str:
    credentials = account.credentials or {}
    return str(credentials.get("page_access_token") or credentials.get("access_token") or "")


def call(
    account: PlatformAccount,
    method: str,
    path: str,
    *,
    json: Any = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One Graph call with the account's token; the JSON answer, or DeliveryError."""
    query = {**(params or {}), "access_token": token(account)}
    response = http.request(
        method,
        f"{base_url(account)}/{path.lstrip('/')}",
        json=json,
        params=query,
        classify=classify,
    )
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# --- Send rate ---------------------------------------------------------------------------------

_local_lock = threading.Lock()
_local_windows: dict[str, tuple[int, int]] = {}
_local_calls: dict[str, list[float]] = {}
_redis = None


def _redis_client():
    global _redis
    if _redis is None and settings.REDIS_URL:
        import redis

        _redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    return _redis


def _count_this_second(key: str, second: int) -> int:
    client = _redis_client()
    if client is not None:
        try:
            redis_key = f"parley:meta-rate:{key}:{second}"
            pipe = client.pipeline()
            pipe.incr(redis_key)
            pipe.expire(redis_key, 3)
            return int(pipe.execute()[0])
        except Exception:  # noqa: BLE001 - Redis trouble must not stop sends; fall back
            log.warning("send-rate counter unavailable; counting in this process")
    with _local_lock:
        current_second, count = _local_windows.get(key, (second, 0))
        count = count + 1 if current_second == second else 1
        _local_windows[key] = (second, count)
        return count


def throttle(account: PlatformAccount, per_second: float | None, *, bucket: str = "") -> None:
    """Block until one more send to this account fits in Meta's per-account rate (300/s per
    Page or Instagram account). Counted across workers in Redis, per wall-clock second."""
    if not per_second:
        return
    limit = max(1, int(per_second))
    while True:
        now = time.time()
        second = int(now)
        if _count_this_second(f"{account.pk}{bucket}", second) <= limit:
            return
        time.sleep(max(0.001, second + 1 - now))


def claim_in_window(
    account: PlatformAccount, bucket: str, limit: int, window_seconds: float
) -> float:
    """Count one more call of a kind Meta caps per account over a rolling window (private
    replies: 750 an hour). 0.0 when it fits (it is counted); otherwise nothing is counted and
    the answer is the seconds until the oldest counted call leaves the window. Counted across
    workers in Redis (a sorted set of call times; a claim that lands over the limit takes
    itself back, so concurrent claims never keep more than ``limit``)."""
    key = f"parley:meta-window:{account.pk}:{bucket}"
    now = time.time()
    member = f"{now:.6f}:{uuid.uuid4().hex}"
    client = _redis_client()
    if client is not None:
        try:
            pipe = client.pipeline()  # MULTI/EXEC: the three steps see one state
            pipe.zremrangebyscore(key, "-inf", now - window_seconds)
            pipe.zadd(key, {member: now})
            pipe.zrank(key, member)
            pipe.expire(key, int(window_seconds) + 1)
            rank = pipe.execute()[2]
            if rank < limit:
                return 0.0
            client.zrem(key, member)
            oldest = client.zrange(key, 0, 0, withscores=True)
            return max(0.001, oldest[0][1] + window_seconds - now) if oldest else 0.001
        except Exception:  # noqa: BLE001 - Redis trouble must not stop sends; fall back
            log.warning("send-window counter unavailable; counting in this process")
    with _local_lock:
        calls = [t for t in _local_calls.get(key, []) if t > now - window_seconds]
        if len(calls) >= limit:
            _local_calls[key] = calls
            return max(0.001, calls[0] + window_seconds - now)
        _local_calls[key] = [*calls, now]
        return 0.0


# --- Multi-part sends ---------------------------------------------------------------------------

# A message with attachments is several Send API calls. If a later part fails and the message
# is retried, parts already accepted must not reach the customer twice: their ids are kept
# (in Redis, shared by workers) under the message's client_ref for two days.
_local_parts: dict[str, dict[int, str]] = {}
PARTS_TTL_SECONDS = 2 * 24 * 3600


def parts_sent(client_ref: str) -> dict[int, str]:
    client = _redis_client()
    if client is not None:
        try:
            stored = client.hgetall(f"parley:meta-parts:{client_ref}")
            return {int(k): v.decode() for k, v in stored.items()}
        except Exception:  # noqa: BLE001 - fall back to this process's memory
            log.warning("multi-part progress unavailable in Redis")
    with _local_lock:
        return dict(_local_parts.get(client_ref, {}))


def part_sent(client_ref: str, index: int, external_id: str) -> None:
    client = _redis_client()
    if client is not None:
        try:
            key = f"parley:meta-parts:{client_ref}"
            pipe = client.pipeline()
            pipe.hset(key, str(index), external_id)
            pipe.expire(key, PARTS_TTL_SECONDS)
            pipe.execute()
            return
        except Exception:  # noqa: BLE001 - fall back to this process's memory
            log.warning("multi-part progress unavailable in Redis")
    with _local_lock:
        _local_parts.setdefault(client_ref, {})[index] = external_id
