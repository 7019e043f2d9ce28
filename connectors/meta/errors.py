"""Graph API errors as data for ``connectors.http.classify``, by ``code`` / ``error_subcode``
(never by HTTP status: graph.instagram.com answers 403 for what graph.facebook.com answers 400).

The table follows REFERENCE §4.6. Rate limits and temporary failures are retried; a closed
window, an unavailable or unknown recipient, a policy block are permanent, with a reason an
agent understands; an invalid token (190) parks the account's messages until re-authorised.
"""

from __future__ import annotations

import json

import requests

from connectors.http import ErrorCase, ErrorRules

# Application, user, Page, custom and business-use-case rate limits.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001, 80002, 80006})
# "Temporary send message failure" and generic service errors.
TRANSIENT_CODES = frozenset({1, 2, 1200})
WINDOW_SUBCODES = frozenset({2018278, 2534022, 2018065})
UNAVAILABLE_SUBCODES = frozenset({1545041, 2018108})
BAD_RECIPIENT_SUBCODES = frozenset({2018001, 2534014})
MEDIA_SUBCODES = frozenset({2018008, 2018047, 2018109, 2018294})
POLICY_SUBCODES = frozenset({1893063, 2534029, 2534041})
THREAD_CONTROLLED = frozenset({2018300})
MESSAGE_DELETED = frozenset({9000001})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
# Without the platform's own estimate, wait this long after a rate limit.
DEFAULT_RATE_LIMIT_WAIT = 60.0

UNAVAILABLE = (
    "This person isn't available right now (they may have blocked the account or deleted "
    "theirs) (Meta error {ref})"
)
CONTROLLED = "Another app controls this conversation (handover protocol) (Meta error {ref})"
DELETED = "The message replied to was deleted (Meta error {ref})"


def usage_wait(response: requests.Response) -> float | None:
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


classify = ErrorRules(
    name="Meta",
    auth_codes=frozenset({190}),
    auth_kind="invalid_token",
    auth_reason=(
        "Meta no longer accepts this account's access token ({ref}): an admin must reconnect it."
    ),
    rate_limit_codes=RATE_LIMIT_CODES,
    rate_limit_reason="Meta's rate limit was reached ({ref}); Parley will retry.",
    rate_limit_wait=usage_wait,
    default_wait=DEFAULT_RATE_LIMIT_WAIT,
    transient_codes=TRANSIENT_CODES,
    temporary_kind="temporary",
    temporary_reason="Meta could not send this right now ({ref}); Parley will retry.",
    cases=(
        ErrorCase(
            "window_closed",
            "Meta refused: the messaging window with this customer is closed (Meta error {ref})",
            subcodes=WINDOW_SUBCODES,
        ),
        ErrorCase("recipient_unavailable", UNAVAILABLE, codes=frozenset({551})),
        ErrorCase("recipient_unavailable", UNAVAILABLE, subcodes=UNAVAILABLE_SUBCODES),
        ErrorCase(
            "bad_recipient",
            "Meta does not know this recipient (Meta error {ref})",
            subcodes=BAD_RECIPIENT_SUBCODES,
        ),
        ErrorCase(
            "bad_media",
            "Meta could not fetch or accept the attachment (Meta error {ref})",
            subcodes=MEDIA_SUBCODES,
        ),
        ErrorCase(
            "policy_blocked",
            "Meta has restricted this account's messaging (Meta error {ref})",
            subcodes=POLICY_SUBCODES,
        ),
        ErrorCase("thread_controlled", CONTROLLED, subcodes=THREAD_CONTROLLED),
        ErrorCase("thread_controlled", CONTROLLED, codes=THREAD_CONTROLLED),
        ErrorCase("message_deleted", DELETED, codes=MESSAGE_DELETED),
        ErrorCase("message_deleted", DELETED, subcodes=MESSAGE_DELETED),
        ErrorCase(
            "permission",
            "Meta refused the send: permission missing{suffix} (Meta error {ref})",
            codes=PERMISSION_CODES,
        ),
    ),
    refused=ErrorCase("refused", "Meta refused the send{suffix} (Meta error {ref})"),
)
