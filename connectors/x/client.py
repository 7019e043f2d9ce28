"""X API v2 calls (DM lookup, DM send, media upload, identity) through ``connectors.http``.

Errors come back in two shapes: RFC 7807 problem documents (``{"title", "detail", "type",
"status", "errors"?}``) and the legacy ``{"errors": [{"code", "message"}]}``. Both are read by
``classify`` into a DeliveryError an agent can read.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlparse

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


def base_url() -> str:
    return settings.X_API_URL.rstrip("/")


def auth_headers(account) -> dict[str, str]:
    token = (account.credentials or {}).get("access_token", "")
    if not token:
        raise DeliveryError(
            "This X account has no access token: reconnect it.", permanent=True, auth=True
        )
    return {"Authorization": f"Bearer {token}"}


# Seconds until ``x-rate-limit-reset`` (epoch seconds), if X said when.
rate_limit_wait = http.reset_wait("x-rate-limit-reset")


def rate_limit_exhausted(response: requests.Response) -> bool:
    remaining = response.headers.get("x-rate-limit-remaining", "")
    return remaining.strip().isdigit() and int(remaining) == 0


DM_REFUSED = (
    "X refused this DM (HTTP 403): the recipient's settings may not accept messages from this "
    "account, or one of you blocked the other, or the account's token lacks the dm.write "
    "permission{suffix}."
)


def _dm_refused(reason: str, codes: frozenset[int] = frozenset()) -> http.ErrorCase:
    """A 403 to a DM send: the recipient does not take DMs from this account."""
    return http.ErrorCase(
        "dm_refused",
        reason,
        statuses=frozenset({403}),
        codes=codes,
        method="POST",
        url_part="/2/dm_conversations",
    )


# X's errors as data for connectors.http.classify.
classify = http.ErrorRules(
    name="X",
    auth_reason="X refused the account's access token{suffix}: reconnect the account.",
    rate_limit_codes=frozenset({88}),
    rate_limit_reason="X rate limit reached; Parley will retry when it resets{suffix}.",
    rate_limit_wait=rate_limit_wait,
    temporary_reason="X is unavailable (HTTP {status}); Parley will retry.",
    cases=(
        # Legacy (v1.1-style) codes that say why.
        _dm_refused(
            "X refused this DM: the recipient does not accept messages from this account.",
            frozenset({349}),
        ),
        _dm_refused(
            "X refused this DM: the recipient does not follow this account.", frozenset({150})
        ),
        _dm_refused(
            "X refused this DM: the recipient accepts message requests only from verified "
            "accounts.",
            frozenset({476}),
        ),
        _dm_refused(DM_REFUSED),
        http.ErrorCase(
            "403",
            "X refused the request (HTTP 403){suffix}: the account's token may lack a "
            "permission (dm.read, users.read, media.write, tweet.write) or the app's access level.",
            statuses=frozenset({403}),
        ),
    ),
)
# A refused token refresh needs the account reconnected, whatever the status says.
refresh_refused = replace(
    classify,
    auth_statuses=frozenset(),
    cases=(),
    refused=http.ErrorCase(
        "refresh_refused",
        "X refused to refresh the account's access token: reconnect the account.",
        auth=True,
    ),
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
            classify=refresh_refused,
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


def user_by_username(account, username: str) -> dict[str, Any] | None:
    """``GET /2/users/by/username/:username``: the user, or None when X knows no such user
    (X answers 200 with only ``errors`` then)."""
    response = call(
        account,
        "GET",
        f"/2/users/by/username/{quote(username, safe='')}",
        params={"user.fields": USER_FIELDS},
    )
    data = response.json().get("data")
    return data if isinstance(data, dict) and data.get("id") else None


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
