"""Connecting accounts through the platforms' own login: Facebook Login (Page and its linked
Instagram account), X OAuth 2.0 with PKCE, LinkedIn OAuth.

The flow: ``start`` makes a single-use ``state`` bound to the admin, with an expiry, and returns
the provider's authorisation URL. The provider sends the admin back to the callback with a
``code``; ``complete_callback`` consumes the state (a replay, an expired state or another user's
is refused), exchanges the code server-side and stores what it got — encrypted — on the state
row. The admin picks the Page / organisation, and ``finish`` creates or updates the account.
Tokens travel only between Parley and the provider's token endpoint: never in a URL Parley
makes, a page, or a log line.

Provider URLs are settings (``META_OAUTH_*``, ``X_OAUTH_*``, ``LINKEDIN_OAUTH_*`` and the API
base URLs), so tests run the whole flow against a local provider.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets as secrets_module
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connectors import http
from connectors.base import DeliveryError
from inbox.accounts import connect_account
from inbox.models import OAuthState, Platform, PlatformAccount, User
from inbox.settings_area import audit

log = logging.getLogger(__name__)

PROVIDERS = ("facebook", "x", "linkedin")
PROVIDER_LABELS = {"facebook": "Facebook Login", "x": "X", "linkedin": "LinkedIn"}
# The login that (re)connects an account of each platform.
PROVIDER_FOR_PLATFORM = {
    Platform.MESSENGER: "facebook",
    Platform.INSTAGRAM: "facebook",
    Platform.X: "x",
    Platform.LINKEDIN: "linkedin",
}
FACEBOOK_SCOPES = (
    "pages_show_list,pages_messaging,pages_manage_metadata,pages_read_engagement,"
    "instagram_basic,instagram_manage_messages,instagram_manage_comments,business_management"
)
X_SCOPES = "dm.read dm.write tweet.read users.read offline.access"
LINKEDIN_SCOPES = "r_organization_social w_organization_social rw_organization_admin"
LINKEDIN_VERSION = "202409"
# Messenger webhook fields a connected Page is subscribed to.
PAGE_SUBSCRIBED_FIELDS = (
    "messages,message_echoes,message_deliveries,message_reads,message_reactions,"
    "message_edits,messaging_postbacks,messaging_referrals,feed"
)


class OAuthError(Exception):
    """The flow cannot go on; the message is for the admin (never contains a token)."""


@dataclass(frozen=True)
class Choice:
    """Something the admin may connect: a Page (with its Instagram account), an X account, a
    LinkedIn organisation."""

    key: str
    name: str
    detail: str = ""


def configured(provider: str) -> bool:
    """Whether the app credentials for this provider are set."""
    if provider == "facebook":
        return bool(settings.META_APP_ID and settings.META_APP_SECRET)
    if provider == "x":
        return bool(settings.X_CLIENT_ID)
    if provider == "linkedin":
        return bool(settings.LINKEDIN_CLIENT_ID and settings.LINKEDIN_CLIENT_SECRET)
    return False


# --- state ------------------------------------------------------------------------------------


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets_module.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def start(*, user: User, provider: str, redirect_uri: str) -> str:
    """Begin an authorisation; returns the provider URL to send the admin's browser to."""
    if provider not in PROVIDERS:
        raise OAuthError(f"Unknown provider {provider!r}.")
    if not configured(provider):
        raise OAuthError(
            f"{PROVIDER_LABELS[provider]} is not configured: set the app id and secret "
            "(see docs/admin.md)."
        )
    state = secrets_module.token_urlsafe(32)
    stored: dict[str, Any] = {}
    params: dict[str, str] = {
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "state": state,
    }
    if provider == "facebook":
        base = settings.META_OAUTH_DIALOG_URL
        params |= {"client_id": settings.META_APP_ID, "scope": FACEBOOK_SCOPES}
    elif provider == "x":
        verifier, challenge = _pkce_pair()
        stored["code_verifier"] = verifier
        base = settings.X_OAUTH_AUTHORIZE_URL
        params |= {
            "client_id": settings.X_CLIENT_ID,
            "scope": X_SCOPES,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    else:
        base = settings.LINKEDIN_OAUTH_AUTHORIZE_URL
        params |= {"client_id": settings.LINKEDIN_CLIENT_ID, "scope": LINKEDIN_SCOPES}
    now = timezone.now()
    OAuthState.objects.create(
        state=state,
        user=user,
        provider=provider,
        secrets={**stored, "redirect_uri": redirect_uri},
        created_at=now,
        expires_at=now + timedelta(seconds=settings.OAUTH_STATE_TTL),
    )
    # Old, unfinished attempts hold tokens: drop them once they cannot be used any more.
    OAuthState.objects.filter(expires_at__lt=now - timedelta(hours=1)).delete()
    return f"{base}?{urlencode(params)}"


def consume_state(*, user: User, provider: str, state: str) -> OAuthState:
    """The state row, marked used — or OAuthError if it is unknown, used, expired or not this
    admin's. One conditional UPDATE, so two callbacks racing cannot both pass."""
    now = timezone.now()
    row = OAuthState.objects.filter(state=state or "-", provider=provider).first()
    if row is None:
        raise OAuthError("This sign-in link is not valid. Start connecting again.")
    if row.user_id != user.pk:
        log.warning("oauth state %s presented by user %s, started by another user", row.pk, user.pk)
        raise OAuthError("This sign-in was started by someone else. Start connecting again.")
    claimed = OAuthState.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    if not claimed:
        if row.used_at is not None:
            raise OAuthError("This sign-in link was already used. Start connecting again.")
        raise OAuthError("This sign-in link has expired. Start connecting again.")
    row.used_at = now
    return row


def pending(*, user: User, pk: int) -> OAuthState:
    """A consumed state waiting for the admin's choice: theirs, not finished, not expired."""
    row = OAuthState.objects.filter(
        pk=pk,
        user=user,
        used_at__isnull=False,
        completed_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()
    if row is None:
        raise OAuthError("This connection is no longer pending. Start connecting again.")
    return row


# --- provider calls ---------------------------------------------------------------------------


# OAuth and Graph errors in words (``error_description``, Graph's ``error.message``); 400 and
# 401 are a refused code or token.
_classify = http.ErrorRules(
    name="The provider",
    auth_statuses=frozenset({400, 401}),
    auth_reason="The provider refused (HTTP {status}){suffix}.",
    rate_limit_reason="The provider is busy (HTTP {status}): try again in a minute.",
    temporary_reason="The provider is busy (HTTP {status}): try again in a minute.",
    refused=http.ErrorCase("{status}", "The provider refused (HTTP {status}){suffix}."),
)


def _call(method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = http.request(method, url, classify=_classify, **kwargs)
        return response.json()
    except DeliveryError as exc:
        raise OAuthError(exc.reason) from exc
    except ValueError as exc:
        raise OAuthError("The provider answered with something that is not JSON.") from exc


def complete_callback(*, user: User, provider: str, params: dict[str, str]) -> OAuthState:
    """Handle the provider's redirect: check the state, exchange the code, list the choices."""
    row = consume_state(user=user, provider=provider, state=params.get("state", ""))
    if params.get("error"):
        reason = params.get("error_description") or params["error"]
        raise OAuthError(f"The sign-in was not completed: {reason}")
    code = params.get("code", "")
    if not code:
        raise OAuthError("The provider sent no authorisation code.")
    redirect_uri = row.secrets.get("redirect_uri", "")
    if provider == "facebook":
        stored, choices = _facebook(code, redirect_uri)
    elif provider == "x":
        stored, choices = _x(code, redirect_uri, row.secrets.get("code_verifier", ""))
    else:
        stored, choices = _linkedin(code, redirect_uri)
    if not choices:
        raise OAuthError(_nothing_found(provider))
    row.secrets = stored
    row.choices = [c.__dict__ for c in choices]
    row.save(update_fields=["secrets", "choices"])
    return row


def _nothing_found(provider: str) -> str:
    return {
        "facebook": "This Facebook user manages no Page that Parley was allowed to use.",
        "x": "X did not say which account signed in.",
        "linkedin": "This LinkedIn member administers no organisation.",
    }[provider]


def _facebook(code: str, redirect_uri: str) -> tuple[dict, list[Choice]]:
    token = _call(
        "POST",
        settings.META_OAUTH_TOKEN_URL,
        data={
            "client_id": settings.META_APP_ID,
            "client_secret": settings.META_APP_SECRET,
            "redirect_uri": redirect_uri,
            "code": code,
        },
    )
    user_token = token.get("access_token")
    if not user_token:
        raise OAuthError("Facebook returned no access token.")
    # The code gives a short-lived user token, and Page tokens made from it die with it (about
    # an hour). Exchanged for a long-lived one first, the Page tokens do not expire.
    long_lived = _call(
        "POST",
        settings.META_OAUTH_TOKEN_URL,
        data={
            "grant_type": "fb_exchange_token",
            "client_id": settings.META_APP_ID,
            "client_secret": settings.META_APP_SECRET,
            "fb_exchange_token": user_token,
        },
    )
    user_token = long_lived.get("access_token") or user_token
    pages: list[dict[str, Any]] = []
    url: str | None = f"{settings.META_GRAPH_URL}/me/accounts"
    params: dict[str, str] | None = {
        "fields": "id,name,access_token,instagram_business_account{id,username,name}",
        "limit": "100",
    }
    for _ in range(10):  # at most 1 000 Pages
        body = _call("GET", url, params=params, headers={"Authorization": f"Bearer {user_token}"})
        pages.extend(p for p in body.get("data") or [] if p.get("id") and p.get("access_token"))
        url = (body.get("paging") or {}).get("next")
        if not url:
            break
        params = None  # the next URL carries its own query
    stored = {"pages": {}, "instagram": {}}
    choices = []
    for page in pages:
        page_id = str(page["id"])
        instagram = page.get("instagram_business_account") or {}
        stored["pages"][page_id] = {
            "name": page.get("name") or page_id,
            "token": page["access_token"],
        }
        detail = ""
        if instagram.get("id"):
            username = instagram.get("username") or instagram.get("name") or instagram["id"]
            stored["instagram"][page_id] = {"id": str(instagram["id"]), "name": username}
            detail = f"Instagram @{username}"
        choices.append(Choice(key=page_id, name=page.get("name") or page_id, detail=detail))
    return stored, choices


def _x(code: str, redirect_uri: str, verifier: str) -> tuple[dict, list[Choice]]:
    auth = (settings.X_CLIENT_ID, settings.X_CLIENT_SECRET) if settings.X_CLIENT_SECRET else None
    token = _call(
        "POST",
        settings.X_OAUTH_TOKEN_URL,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": settings.X_CLIENT_ID,
        },
        auth=auth,
    )
    access = token.get("access_token")
    if not access:
        raise OAuthError("X returned no access token.")
    me = (
        _call(
            "GET",
            f"{settings.X_API_URL}/2/users/me",
            headers={"Authorization": f"Bearer {access}"},
        ).get("data")
        or {}
    )
    if not me.get("id"):
        return {}, []
    expires = token.get("expires_in")
    stored = {
        "access_token": access,
        "refresh_token": token.get("refresh_token", ""),
        "expires_at": (
            (timezone.now() + timedelta(seconds=int(expires))).isoformat() if expires else ""
        ),
        "name": me.get("name") or me.get("username") or me["id"],
    }
    name = f"@{me['username']}" if me.get("username") else me.get("name", me["id"])
    return {"accounts": {str(me["id"]): stored}}, [
        Choice(key=str(me["id"]), name=name, detail=me.get("name", ""))
    ]


def _linkedin(code: str, redirect_uri: str) -> tuple[dict, list[Choice]]:
    token = _call(
        "POST",
        settings.LINKEDIN_OAUTH_TOKEN_URL,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": settings.LINKEDIN_CLIENT_ID,
            "client_secret": settings.LINKEDIN_CLIENT_SECRET,
        },
    )
    access = token.get("access_token")
    if not access:
        raise OAuthError("LinkedIn returned no access token.")
    headers = {
        "Authorization": f"Bearer {access}",
        "LinkedIn-Version": LINKEDIN_VERSION,
        "X-Restli-Protocol-Version": "2.0.0",
    }
    acls = _call(
        "GET",
        f"{settings.LINKEDIN_API_URL}/rest/organizationAcls",
        params={"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"},
        headers=headers,
    )
    stored: dict[str, Any] = {"token": access, "refresh_token": token.get("refresh_token", "")}
    choices = []
    for element in acls.get("elements") or []:
        urn = str(element.get("organization") or element.get("organizationTarget") or "")
        org_id = urn.rsplit(":", 1)[-1]
        if not org_id:
            continue
        org = _call(
            "GET", f"{settings.LINKEDIN_API_URL}/rest/organizations/{org_id}", headers=headers
        )
        name = org.get("localizedName") or urn
        stored.setdefault("names", {})[urn] = name
        choices.append(Choice(key=urn, name=name, detail=urn))
    return stored, choices


# --- finishing --------------------------------------------------------------------------------


@transaction.atomic
def finish(
    *, user: User, pk: int, key: str, include_instagram: bool = True, teams: list[str] = ()
) -> list[PlatformAccount]:
    """Connect what the admin chose. Reconnecting an account that exists updates it in place
    (same row, same conversations): nothing is duplicated."""
    row = pending(user=user, pk=pk)
    if key not in {c["key"] for c in row.choices}:
        raise OAuthError("That choice was not offered. Start connecting again.")
    made: list[tuple[str, str, str, dict[str, str]]] = []
    if row.provider == "facebook":
        page = row.secrets["pages"][key]
        made.append((Platform.MESSENGER, key, page["name"], {"page_access_token": page["token"]}))
        instagram = row.secrets.get("instagram", {}).get(key)
        if instagram and include_instagram:
            made.append(
                (
                    Platform.INSTAGRAM,
                    instagram["id"],
                    f"@{instagram['name']}",
                    {"access_token": page["token"], "page_id": key},
                )
            )
    elif row.provider == "x":
        found = row.secrets["accounts"][key]
        name = next(c["name"] for c in row.choices if c["key"] == key)
        made.append(
            (
                Platform.X,
                key,
                name,
                {
                    "access_token": found["access_token"],
                    "refresh_token": found["refresh_token"],
                    # The key the X connector reads to refresh before expiry.
                    "expires_at": found["expires_at"],
                },
            )
        )
    else:
        made.append(
            (
                Platform.LINKEDIN,
                key,
                row.secrets.get("names", {}).get(key, key),
                {
                    "access_token": row.secrets["token"],
                    "refresh_token": row.secrets.get("refresh_token", ""),
                },
            )
        )
    accounts = []
    for platform, external_id, name, credentials in made:
        existed = PlatformAccount.objects.filter(
            platform=platform, external_id=external_id
        ).exists()
        account = _connect(platform, external_id, name, credentials, teams)
        audit.record(
            actor=user,
            action="account.reconnected" if existed else "account.connected",
            target=account,
            credential_keys=credentials.keys(),
            extra={"via": PROVIDER_LABELS[row.provider]},
        )
        accounts.append(account)
    # The tokens now live (encrypted) on the accounts; the state row keeps none.
    OAuthState.objects.filter(pk=row.pk).update(completed_at=timezone.now(), secrets={})
    from inbox.settings_area.health import forget_banner

    transaction.on_commit(forget_banner)
    if row.provider == "facebook":
        page = row.secrets["pages"][key]
        transaction.on_commit(lambda: subscribe_page(key, page["token"]))
    return accounts


def _connect(
    platform: str, external_id: str, name: str, credentials: dict[str, str], teams: list[str]
) -> PlatformAccount:
    from connectors.registry import CONNECTORS

    if platform in CONNECTORS:
        account, _ = connect_account(
            platform=platform,
            external_id=external_id,
            name=name,
            settings=credentials,
            teams=teams,
        )
        account.disconnected_at = None
        account.save(update_fields=["disconnected_at"])
        return account
    # The platform's connector is not installed yet: keep the account and its token, so it
    # works as soon as the connector lands (same fields connect_account would set).
    account, _ = PlatformAccount.objects.get_or_create(
        platform=platform, external_id=external_id, defaults={"name": name}
    )
    account.name = name
    account.credentials = {**(account.credentials or {}), **credentials}
    account.status = PlatformAccount.Status.CONNECTED
    account.last_error = ""
    account.disconnected_at = None
    account.save()
    return account


def subscribe_page(page_id: str, page_token: str) -> str:
    """Subscribe the app to the Page's Messenger webhooks (Meta sends nothing otherwise).
    A failure is reported on the account, not raised: the connection itself is made."""
    try:
        http.request(
            "POST",
            f"{settings.META_GRAPH_URL}/{page_id}/subscribed_apps",
            data={"subscribed_fields": PAGE_SUBSCRIBED_FIELDS},
            headers={"Authorization": f"Bearer {page_token}"},
            classify=_classify,
        )
        return "subscribed"
    except DeliveryError as exc:
        PlatformAccount.objects.filter(platform=Platform.MESSENGER, external_id=page_id).update(
            last_error=f"Could not subscribe the Page to webhooks: {exc.reason}"
        )
        log.warning("subscribing page %s to webhooks failed: %s", page_id, exc.reason)
        return "failed"
