"""All outbound platform HTTP goes through here: one session per thread, timeouts, JSON, and
failures turned into ``DeliveryError`` by one classifier.

The classifier reads every platform's error body the same way (``read_error``: Graph's
``error.code``/``error_subcode``, X's problem documents and legacy ``errors[].code``,
LinkedIn's ``message``, OAuth's ``error_description``) and then consults the platform's
``ErrorRules``: data saying which statuses and codes mean an invalid token, a rate limit, a
temporary failure, or a permanent refusal, and in which words. Rate limits wait for
``Retry-After``, else the platform's own estimate (X's ``x-rate-limit-reset``, Meta's usage
header); network failures and 5xx without a platform verdict are transient.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


def reset_wait(header: str) -> Callable[[requests.Response], float | None]:
    """Seconds until the epoch time in ``header`` (X's ``x-rate-limit-reset``), if sent."""

    def wait(response: requests.Response) -> float | None:
        reset = response.headers.get(header, "")
        if not reset.strip().isdigit():
            return None
        return max(0.0, int(reset) - time.time())

    return wait


@dataclass(frozen=True)
class PlatformError:
    """What an error response said, whatever the platform's shape."""

    status: int
    # The platform's error codes (Graph: its one ``code``; X: every legacy ``errors[].code``).
    codes: tuple[int, ...] = ()
    subcode: int | None = None
    detail: str = ""
    # The platform said it is temporary (Graph's ``is_transient``).
    transient: bool = False
    # What was asked, for cases that depend on it.
    method: str = ""
    url: str = ""

    def words(self, name: str) -> dict[str, Any]:
        code = self.codes[0] if self.codes else None
        ref = f"{code}/{self.subcode}" if self.subcode else str(code) if code else ""
        return {
            "name": name,
            "status": self.status,
            "ref": ref or f"HTTP {self.status}",
            "detail": self.detail,
            "suffix": f" ({self.detail})" if self.detail else "",
        }


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read_error(response: requests.Response) -> PlatformError:
    """Every platform's error body read one way (the shapes do not overlap)."""
    request = response.request
    asked = {"method": request.method or "", "url": str(request.url or "")} if request else {}
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return PlatformError(response.status_code, **asked)
    graph = body.get("error")
    if isinstance(graph, dict):
        code = _int(graph.get("code"))
        return PlatformError(
            response.status_code,
            codes=(code,) if code is not None else (),
            subcode=_int(graph.get("error_subcode")),
            detail=str(graph.get("error_user_msg") or graph.get("message") or "")[:300],
            transient=graph.get("is_transient") is True,
            **asked,
        )
    codes: list[int] = []
    parts: list[str] = []
    for text in (
        body.get("detail") or body.get("title"),
        body.get("message"),
        body.get("error_description") or graph,
    ):
        if isinstance(text, str) and text and text not in parts:
            parts.append(text)
    for item in body.get("errors") or []:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("code"), int):
            codes.append(item["code"])
        text = item.get("message") or item.get("detail")
        if isinstance(text, str) and text and text not in parts:
            parts.append(text)
    return PlatformError(
        response.status_code, codes=tuple(codes), detail="; ".join(parts)[:300], **asked
    )


@dataclass(frozen=True)
class ErrorCase:
    """One permanent refusal: it applies when every criterion given holds. ``kind`` becomes
    DeliveryError.code, ``reason`` its words; both may use {name}, {status}, {ref}, {detail}
    and {suffix} (" (detail)")."""

    kind: str
    reason: str
    statuses: frozenset[int] = frozenset()
    codes: frozenset[int] = frozenset()
    subcodes: frozenset[int] = frozenset()
    # Only for requests with this method and this in their URL.
    method: str = ""
    url_part: str = ""
    auth: bool = False

    def applies(self, error: PlatformError) -> bool:
        checks = []
        if self.statuses:
            checks.append(error.status in self.statuses)
        if self.codes:
            checks.append(bool(self.codes.intersection(error.codes)))
        if self.subcodes:
            checks.append(error.subcode in self.subcodes)
        if self.method:
            checks.append(error.method == self.method)
        if self.url_part:
            checks.append(self.url_part in error.url)
        return bool(checks) and all(checks)


@dataclass(frozen=True)
class ErrorRules:
    """One platform's errors as data; calling it classifies a response (``classify``)."""

    name: str = "The platform"
    # An invalid or revoked token: the account needs re-authorisation.
    auth_statuses: frozenset[int] = frozenset({401})
    auth_codes: frozenset[int] = frozenset()
    auth_kind: str = "{status}"
    auth_reason: str = "{name} refused the account's credentials{suffix}."
    # A rate limit: retried after Retry-After, else the platform's own estimate, else
    # default_wait.
    rate_limit_statuses: frozenset[int] = frozenset({429})
    rate_limit_codes: frozenset[int] = frozenset()
    rate_limit_kind: str = "rate_limited"
    rate_limit_reason: str = "{name}'s rate limit was reached{suffix}; Parley will retry."
    rate_limit_wait: Callable[[requests.Response], float | None] | None = None
    default_wait: float | None = None
    # Temporary: these codes, the platform's own "transient" flag, or a 5xx no case claims.
    transient_codes: frozenset[int] = frozenset()
    temporary_kind: str = "{status}"
    temporary_reason: str = "{name} is busy (HTTP {status}); Parley will retry."
    # Permanent refusals, first match wins; else ``refused``.
    cases: tuple[ErrorCase, ...] = ()
    refused: ErrorCase = field(
        default=ErrorCase("{status}", "{name} refused the request (HTTP {status}){suffix}.")
    )

    def __call__(self, response: requests.Response) -> DeliveryError:
        return classify(response, self)


def classify(response: requests.Response, rules: ErrorRules) -> DeliveryError:
    """The DeliveryError for an error response, by the platform's rules."""
    error = read_error(response)
    words = error.words(rules.name)
    codes = set(error.codes)

    def failed(kind: str, reason: str, *, permanent: bool, **extra: Any) -> DeliveryError:
        return DeliveryError(
            reason.format(**words), permanent=permanent, code=kind.format(**words), **extra
        )

    if error.status in rules.auth_statuses or codes & rules.auth_codes:
        return failed(rules.auth_kind, rules.auth_reason, permanent=True, auth=True)
    if error.status in rules.rate_limit_statuses or codes & rules.rate_limit_codes:
        wait = retry_after_seconds(response)
        if wait is None and rules.rate_limit_wait:
            wait = rules.rate_limit_wait(response)
        return failed(
            rules.rate_limit_kind,
            rules.rate_limit_reason,
            permanent=False,
            retry_after=wait if wait is not None else rules.default_wait,
        )
    temporary = bool(codes & rules.transient_codes) or error.transient
    for case in () if temporary else rules.cases:
        if case.applies(error):
            return failed(case.kind, case.reason, permanent=True, auth=case.auth)
    if temporary or error.status >= 500:
        return failed(
            rules.temporary_kind,
            rules.temporary_reason,
            permanent=False,
            retry_after=retry_after_seconds(response),
        )
    return failed(rules.refused.kind, rules.refused.reason, permanent=True, auth=rules.refused.auth)


# Platforms without rules of their own (and the sandbox).
GENERIC = ErrorRules()


def request(
    method: str,
    url: str,
    *,
    classify: Classifier | None = None,
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
    error = (classify or GENERIC)(response)
    log.info("%s %s → %s: %s", method, _redact(url), response.status_code, error.reason)
    raise error


def _redact(url: str) -> str:
    """URLs in logs never carry tokens."""
    return url.split("?", 1)[0]
