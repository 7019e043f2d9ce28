"""X API v2 calls (DM lookup, DM send, media upload, identity) through ``connectors.http``.

Errors come back in two shapes: RFC 7807 problem documents (``{"title", "detail", "type",
"status", "errors"?}``) and the legacy ``{"errors": [{"code", "message"}]}``. Both are read by
``classify`` into a DeliveryError an agent can read.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connectors import http
from connectors.base import DeliveryError

log = logging.getLogger(__name__)

# Everything `GET /2/dm_events` can tell us about an event (REFERENCE §6.4).
DM_EVENT_FIELDS = (
    "id,text,event_type,created_at,dm_conversation_id,sender_id,participant_ids,"
    "referenced_tweets,attachments,entities"
)
DM_EXPANSIONS = "attachments.media_keys,referenced_tweets.id,sender_id,participant_ids"
MEDIA_FIELDS = "media_key,type,url,preview_image_url,variants,width,height"
USER_FIELDS = "id,name,username,profile_image_url,verified"
TWEET_FIELDS = "id,text,author_id,created_at"

# Legacy (v1.1-style) error codes that mean "this person does not take DMs from you".
DM_REFUSED_CODES = {
    349: "the recipient does not accept messages from this account",
    150: "the recipient does not follow this account",
    476: "the recipient accepts message requests only from verified accounts",
}

DM_REFUSED_REASON = (
    "X refused this DM (HTTP 403): the recipient's settings may not accept messages from this "
    "account, or one of you blocked the other"
)


def base_url() -> str:
    return settings.X_API_URL.rstrip("/")


def auth_headers(account) -> dict[str, str]:
    token = (account.credentials or {}).get("access_token", "")
    if not token:
        raise DeliveryError(
            "This X account has no access token: reconnect it.", permanent=True, auth=True
        )
    return {"Authorization": f"Bearer {token}"}


def rate_limit_wait(response: requests.Response, *, now: float | None = None) -> float | None:
    """Seconds until ``x-rate-limit-reset`` (epoch seconds), if X said when."""
    reset = response.headers.get("x-rate-limit-reset", "")
    if not reset.strip().isdigit():
        return None
    return max(0.0, int(reset) - (now if now is not None else time.time()))


def rate_limit_exhausted(response: requests.Response) -> bool:
    remaining = response.headers.get("x-rate-limit-remaining", "")
    return remaining.strip().isdigit() and int(remaining) == 0


def error_text(response: requests.Response) -> tuple[str, list[int]]:
    """A readable summary of either error shape, and any legacy error codes in it."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:300], []
    if not isinstance(body, dict):
        return str(body)[:300], []
    parts: list[str] = []
    codes: list[int] = []
    detail = body.get("detail") or body.get("title")
    if isinstance(detail, str) and detail:
        parts.append(detail)
    for item in body.get("errors") or []:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("code"), int):
            codes.append(item["code"])
        message = item.get("message") or item.get("detail")
        if isinstance(message, str) and message and message not in parts:
            parts.append(message)
    return "; ".join(parts)[:300], codes


def classify(response: requests.Response) -> DeliveryError:
    status = response.status_code
    text, codes = error_text(response)
    suffix = f" ({text})" if text else ""
    if status == 429 or 88 in codes:
        wait = rate_limit_wait(response)
        return DeliveryError(
            f"X rate limit reached; Parley will retry when it resets{suffix}.",
            permanent=False,
            retry_after=wait if wait is not None else http.retry_after_seconds(response),
            code="rate_limited",
        )
    if status >= 500:
        return DeliveryError(
            f"X is unavailable (HTTP {status}); Parley will retry.",
            permanent=False,
            code=str(status),
        )
    if status == 401:
        return DeliveryError(
            f"X refused the account's access token{suffix}: reconnect the account.",
            permanent=True,
            auth=True,
            code="401",
        )
    if status == 403 and not _is_dm_send(response):
        return DeliveryError(
            f"X refused the request (HTTP 403){suffix}: the account's token may lack a "
            "permission (dm.read, users.read, media.write) or the app's access level.",
            permanent=True,
            code="403",
        )
    if status == 403:
        known = [DM_REFUSED_CODES[c] for c in codes if c in DM_REFUSED_CODES]
        if known:
            reason = f"X refused this DM: {known[0]}."
        else:
            reason = f"{DM_REFUSED_REASON}, or the account's token lacks the dm.write permission{suffix}."
        return DeliveryError(reason, permanent=True, code="dm_refused")
    return DeliveryError(
        f"X refused the request (HTTP {status}){suffix}.", permanent=True, code=str(status)
    )


def _is_dm_send(response: requests.Response) -> bool:
    request = response.request
    return bool(
        request is not None
        and request.method == "POST"
        and "/2/dm_conversations" in str(request.url or "")
    )


def call(
    account, method: str, path: str, *, json: Any = None, params: dict | None = None, **kwargs
) -> requests.Response:
    """One X API call with the account's token, refreshed first when it is about to expire
    (OAuth 2.0 user tokens last two hours) and once more if X says it is no longer valid."""
    refresh_if_expiring(account)
    try:
        return _call(account, method, path, json=json, params=params, **kwargs)
    except DeliveryError as exc:
        if not (exc.auth and can_refresh(account)):
            raise
        refresh_token(account)
        return _call(account, method, path, json=json, params=params, **kwargs)


def _call(account, method: str, path: str, **kwargs) -> requests.Response:
    return http.request(
        method,
        f"{base_url()}{path}",
        classify=classify,
        headers=auth_headers(account),
        **kwargs,
    )


# --- OAuth 2.0 token refresh ------------------------------------------------------------------

# Refresh this long before the stored expiry, so a call never starts with a dying token.
REFRESH_MARGIN = timedelta(minutes=2)


def can_refresh(account) -> bool:
    return bool((account.credentials or {}).get("refresh_token")) and bool(settings.X_CLIENT_ID)


def refresh_if_expiring(account) -> None:
    expires_at = (account.credentials or {}).get("expires_at") or ""
    if not expires_at or not can_refresh(account):
        return
    try:
        expiry = datetime.fromisoformat(str(expires_at))
    except ValueError:
        return
    if expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=UTC)
    if expiry - REFRESH_MARGIN <= timezone.now():
        refresh_token(account)


def refresh_token(account) -> None:
    """Trade the refresh token for a new pair and store it (encrypted). X rotates refresh
    tokens, so two workers must not both spend the same one: the account row is locked, and a
    worker that finds a token newer than the one it failed with uses that instead."""
    from inbox.models import PlatformAccount

    used = (account.credentials or {}).get("access_token")
    with transaction.atomic():
        locked = PlatformAccount.objects.select_for_update().get(pk=account.pk)
        credentials = dict(locked.credentials or {})
        if credentials.get("access_token") != used:
            account.credentials = credentials
            return
        auth = (
            (settings.X_CLIENT_ID, settings.X_CLIENT_SECRET) if settings.X_CLIENT_SECRET else None
        )
        response = http.request(
            "POST",
            settings.X_OAUTH_TOKEN_URL,
            classify=_refresh_refused,
            data={
                "grant_type": "refresh_token",
                "refresh_token": credentials["refresh_token"],
                "client_id": settings.X_CLIENT_ID,
            },
            auth=auth,
        )
        token = response.json()
        if not token.get("access_token"):
            raise DeliveryError("X returned no access token on refresh.", permanent=True, auth=True)
        credentials["access_token"] = token["access_token"]
        if token.get("refresh_token"):
            credentials["refresh_token"] = token["refresh_token"]
        if token.get("expires_in"):
            credentials["expires_at"] = (
                timezone.now() + timedelta(seconds=int(token["expires_in"]))
            ).isoformat()
        locked.credentials = credentials
        locked.save(update_fields=["credentials"])
        account.credentials = credentials


def _refresh_refused(response: requests.Response) -> DeliveryError:
    if response.status_code == 429 or response.status_code >= 500:
        return classify(response)
    return DeliveryError(
        "X refused to refresh the account's access token: reconnect the account.",
        permanent=True,
        auth=True,
        code="refresh_refused",
    )


def dm_events_page(account, *, pagination_token: str | None = None) -> requests.Response:
    params: dict[str, Any] = {
        "max_results": 100,
        "event_types": "MessageCreate,ParticipantsJoin,ParticipantsLeave",
        "dm_event.fields": DM_EVENT_FIELDS,
        "expansions": DM_EXPANSIONS,
        "media.fields": MEDIA_FIELDS,
        "user.fields": USER_FIELDS,
        "tweet.fields": TWEET_FIELDS,
    }
    if pagination_token:
        params["pagination_token"] = pagination_token
    return call(account, "GET", "/2/dm_events", params=params)


def me(account) -> dict[str, Any]:
    response = call(account, "GET", "/2/users/me")
    data = response.json().get("data") or {}
    if not data.get("id"):
        raise DeliveryError("X answered /2/users/me without a user.", permanent=True)
    return data


def upload_dm_media(account, content: bytes, content_type: str) -> str:
    """One-shot upload (images and small GIFs); returns the media id to attach."""
    category = (
        "dm_gif"
        if content_type == "image/gif"
        else ("dm_video" if content_type.startswith("video/") else "dm_image")
    )
    response = call(
        account,
        "POST",
        "/2/media/upload",
        data={"media_category": category, "media_type": content_type},
        files={"media": ("media", content, content_type)},
    )
    data = response.json().get("data") or {}
    media_id = data.get("id") or data.get("media_id")
    if not media_id:
        raise DeliveryError("X accepted the upload but returned no media id.", permanent=False)
    return str(media_id)


def is_x_host(url: str) -> bool:
    """Hosts that may receive the account's token when Parley downloads DM media."""
    host = (urlparse(url).hostname or "").lower()
    own = (urlparse(base_url()).hostname or "").lower()
    return (
        host == own
        or host.endswith((".twitter.com", ".x.com", ".twimg.com"))
        or host in ("twitter.com", "x.com")
    )


class XMediaAuth(requests.auth.AuthBase):
    """Adds the account's bearer token only for X's own hosts: a redirect elsewhere gets none."""

    def __init__(self, token: str):
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if request.url and is_x_host(request.url):
            request.headers["Authorization"] = f"Bearer {self.token}"
        else:
            request.headers.pop("Authorization", None)
        return request


def media_session(account) -> requests.Session:
    try:
        refresh_if_expiring(account)
    except DeliveryError as exc:
        # The download then fails with its own error on the attachment; nothing else to do here.
        log.warning(
            "X token of account %s not refreshed for a media download: %s", account.pk, exc.reason
        )
    session = requests.Session()
    session.auth = XMediaAuth((account.credentials or {}).get("access_token", ""))
    return session
