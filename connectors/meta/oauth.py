"""Facebook Login: a Page (Messenger) and its linked Instagram business account."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from connectors import http
from connectors.base import DeliveryError
from connectors.oauth import AccountGrant, Choice, Grant, OAuthError, OAuthProvider, call, classify

log = logging.getLogger(__name__)

SCOPES = (
    "pages_show_list,pages_messaging,pages_manage_metadata,pages_read_engagement,"
    "instagram_basic,instagram_manage_messages,instagram_manage_comments,business_management"
)
# Messenger webhook fields a connected Page is subscribed to.
PAGE_SUBSCRIBED_FIELDS = (
    "messages,message_echoes,message_deliveries,message_reads,message_reactions,"
    "message_edits,messaging_postbacks,messaging_referrals,feed"
)


class FacebookLogin(OAuthProvider):
    name = "facebook"
    label = "Facebook Login"
    platforms = ("messenger", "instagram")
    nothing_found = "This Facebook user manages no Page that Parley was allowed to use."
    required_settings = ("META_APP_ID", "META_APP_SECRET")

    def authorization(self, *, state: str, redirect_uri: str) -> tuple[str, dict[str, str]]:
        params = {
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
            "client_id": settings.META_APP_ID,
            "scope": SCOPES,
        }
        return f"{settings.META_OAUTH_DIALOG_URL}?{urlencode(params)}", {}

    def exchange(self, *, code: str, redirect_uri: str, kept: dict[str, Any]) -> Grant:
        token = call(
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
        # The code gives a short-lived user token, and Page tokens made from it die with it
        # (about an hour). Exchanged for a long-lived one first, the Page tokens do not expire.
        long_lived = call(
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
            body = call(
                "GET", url, params=params, headers={"Authorization": f"Bearer {user_token}"}
            )
            pages.extend(p for p in body.get("data") or [] if p.get("id") and p.get("access_token"))
            url = (body.get("paging") or {}).get("next")
            if not url:
                break
            params = None  # the next URL carries its own query
        stored: dict[str, Any] = {"pages": {}, "instagram": {}}
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
        return Grant(secrets=stored, choices=choices)

    def accounts(
        self, grant: dict[str, Any], choices: list[dict[str, str]], key: str, *, extras: bool
    ) -> list[AccountGrant]:
        page = grant["pages"][key]
        found = [AccountGrant("messenger", key, page["name"], {"page_access_token": page["token"]})]
        instagram = grant.get("instagram", {}).get(key)
        if instagram and extras:
            found.append(
                AccountGrant(
                    "instagram",
                    instagram["id"],
                    f"@{instagram['name']}",
                    {"access_token": page["token"], "page_id": key},
                )
            )
        return found

    def after_connect(self, grant: dict[str, Any], key: str) -> str:
        return subscribe_page(key, grant["pages"][key]["token"])


def subscribe_page(page_id: str, page_token: str) -> str:
    """Subscribe the app to the Page's Messenger webhooks (Meta sends nothing otherwise).
    Returns "" or why it failed (the connection itself is made either way)."""
    try:
        http.request(
            "POST",
            f"{settings.META_GRAPH_URL}/{page_id}/subscribed_apps",
            data={"subscribed_fields": PAGE_SUBSCRIBED_FIELDS},
            headers={"Authorization": f"Bearer {page_token}"},
            classify=classify,
        )
        return ""
    except DeliveryError as exc:
        log.warning("subscribing page %s to webhooks failed: %s", page_id, exc.reason)
        return f"Could not subscribe the Page to webhooks: {exc.reason}"
