"""All outbound platform HTTP goes through here: one session per thread, timeouts, JSON, and
failures turned into ``DeliveryError`` by the platform's own classifier.

A connector calls ``request(...)`` with a ``classify`` function that reads the platform's error
body (Meta's ``code``/``error_subcode``, X's problem documents) and returns a DeliveryError;
network failures and 5xx without a platform verdict are transient.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings

from connectors.base import DeliveryError

log = logging.getLogger(__name__)

_local = threading.local()

Classifier = Callable[[requests.Response], DeliveryError]


def session() -> requests.Session:
    """A pooled session per thread (requests sessions are not thread-safe)."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
        _local.session.headers["User-Agent"] = "Parley/1.0 (+https://github.com/parley-inbox)"
    return _local.session


def retry_after_seconds(response: requests.Response) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date), if the platform said."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def default_classify(response: requests.Response) -> DeliveryError:
    status = response.status_code
    if status == 429 or status >= 500:
        return DeliveryError(
            f"The platform is busy (HTTP {status}); Parley will retry.",
            permanent=False,
            retry_after=retry_after_seconds(response),
            code=str(status),
        )
    if status == 401:
        return DeliveryError(
            "The platform refused the account's credentials.", permanent=True, auth=True, code="401"
        )
    return DeliveryError(
        f"The platform refused the request (HTTP {status}).", permanent=True, code=str(status)
    )


def request(
    method: str,
    url: str,
    *,
    classify: Classifier = default_classify,
    json: Any = None,
    params: dict[str, Any] | None = None,
    data: Any = None,
    files: Any = None,
    headers: dict[str, str] | None = None,
    auth: Any = None,
    timeout: tuple[float, float] | None = None,
) -> requests.Response:
    """Send one request; return the response when it is 2xx, raise DeliveryError otherwise."""
    try:
        response = session().request(
            method,
            url,
            json=json,
            params=params,
            data=data,
            files=files,
            headers=headers,
            auth=auth,
            timeout=timeout or settings.PLATFORM_HTTP_TIMEOUT,
        )
    except requests.Timeout as exc:
        raise DeliveryError(
            "The platform did not answer in time; Parley will retry.", permanent=False
        ) from exc
    except requests.RequestException as exc:
        raise DeliveryError(
            f"Could not reach the platform ({type(exc).__name__}); Parley will retry.",
            permanent=False,
        ) from exc
    if 200 <= response.status_code < 300:
        return response
    error = classify(response)
    log.info("%s %s → %s: %s", method, _redact(url), response.status_code, error.reason)
    raise error


def _redact(url: str) -> str:
    """URLs in logs never carry tokens."""
    return url.split("?", 1)[0]
