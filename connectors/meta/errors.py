"""Graph API errors → DeliveryError, by ``code`` / ``error_subcode`` (never by HTTP status:
graph.instagram.com answers 403 for what graph.facebook.com answers 400).

The table follows REFERENCE §4.6. Rate limits and temporary failures are retried; a closed
window, an unavailable or unknown recipient, a policy block are permanent, with a reason an
agent understands; an invalid token (190) parks the account's messages until re-authorised.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from connectors.base import DeliveryError
from connectors.http import default_classify, retry_after_seconds

# Application, user, Page, custom and business-use-case rate limits.
RATE_LIMIT_CODES = {4, 17, 32, 613, 80001, 80002, 80006}
# "Temporary send message failure" and generic service errors.
TRANSIENT_CODES = {1, 2, 1200}
WINDOW_SUBCODES = {2018278, 2534022, 2018065}
UNAVAILABLE_SUBCODES = {1545041, 2018108}
BAD_RECIPIENT_SUBCODES = {2018001, 2534014}
MEDIA_SUBCODES = {2018008, 2018047, 2018109, 2018294}
POLICY_SUBCODES = {1893063, 2534029, 2534041}
# Without the platform's own estimate, wait this long after a rate limit.
DEFAULT_RATE_LIMIT_WAIT = 60.0


def error_body(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _usage_wait(response: requests.Response) -> float | None:
    """Seconds until access returns, from ``X-Business-Use-Case-Usage`` (given in minutes)."""
    raw = response.headers.get("X-Business-Use-Case-Usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
        minutes = max(
            float(item.get("estimated_time_to_regain_access") or 0)
            for items in usage.values()
            for item in items
        )
    except (ValueError, TypeError, AttributeError):
        return None
    return minutes * 60 if minutes > 0 else None


def classify(response: requests.Response) -> DeliveryError:
    """The DeliveryError for a Graph API error response."""
    error = error_body(response)
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    if code is None:
        return default_classify(response)
    message = str(error.get("error_user_msg") or error.get("message") or "")[:300]
    ref = f"{code}/{subcode}" if subcode else str(code)

    def refused(reason: str, kind: str) -> DeliveryError:
        return DeliveryError(f"{reason} (Meta error {ref})", permanent=True, code=kind)

    if code == 190:
        return DeliveryError(
            f"Meta no longer accepts this account's access token ({ref}): an admin must "
            "reconnect it.",
            permanent=True,
            auth=True,
            code="invalid_token",
        )
    if code in RATE_LIMIT_CODES:
        wait = retry_after_seconds(response) or _usage_wait(response) or DEFAULT_RATE_LIMIT_WAIT
        return DeliveryError(
            f"Meta's rate limit was reached ({ref}); Parley will retry.",
            permanent=False,
            retry_after=wait,
            code="rate_limited",
        )
    if code in TRANSIENT_CODES or (error.get("is_transient") is True):
        return DeliveryError(
            f"Meta could not send this right now ({ref}); Parley will retry.",
            permanent=False,
            retry_after=retry_after_seconds(response),
            code="temporary",
        )
    if subcode in WINDOW_SUBCODES:
        return refused(
            "Meta refused: the messaging window with this customer is closed", "window_closed"
        )
    if code == 551 or subcode in UNAVAILABLE_SUBCODES:
        return refused(
            "This person isn't available right now (they may have blocked the account or "
            "deleted theirs)",
            "recipient_unavailable",
        )
    if subcode in BAD_RECIPIENT_SUBCODES:
        return refused("Meta does not know this recipient", "bad_recipient")
    if subcode in MEDIA_SUBCODES:
        return refused("Meta could not fetch or accept the attachment", "bad_media")
    if subcode in POLICY_SUBCODES:
        return refused("Meta has restricted this account's messaging", "policy_blocked")
    if subcode == 2018300 or code == 2018300:
        return refused(
            "Another app controls this conversation (handover protocol)", "thread_controlled"
        )
    if code == 9000001 or subcode == 9000001:
        return refused("The message replied to was deleted", "message_deleted")
    if code == 10 or 200 <= code <= 299:
        return refused(f"Meta refused the send: permission missing — {message}", "permission")
    if response.status_code >= 500:
        return DeliveryError(
            f"Meta is having trouble ({ref}); Parley will retry.",
            permanent=False,
            retry_after=retry_after_seconds(response),
            code="temporary",
        )
    return refused(f"Meta refused the send: {message}", "refused")
