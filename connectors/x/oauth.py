"""X OAuth 2.0 with PKCE: the X account that signs in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone

from connectors.oauth import (
    AccountGrant,
    Choice,
    Grant,
    OAuthError,
    OAuthProvider,
    call,
    pkce_pair,
)

# tweet.write: public replies to mentions (docs/outreach.md, "Public to private").
SCOPES = "dm.read dm.write tweet.read tweet.write users.read offline.access"


class XLogin(OAuthProvider):
    name = "x"
    label = "X"
    platforms = ("x",)
    nothing_found = "X did not say which account signed in."
    required_settings = ("X_CLIENT_ID",)

    def authorization(self, *, state: str, redirect_uri: str) -> tuple[str, dict[str, str]]:
        verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
            "client_id": settings.X_CLIENT_ID,
            "scope": SCOPES,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{settings.X_OAUTH_AUTHORIZE_URL}?{urlencode(params)}", {"code_verifier": verifier}

    def exchange(self, *, code: str, redirect_uri: str, kept: dict[str, Any]) -> Grant:
        auth = (
            (settings.X_CLIENT_ID, settings.X_CLIENT_SECRET) if settings.X_CLIENT_SECRET else None
        )
        token = call(
            "POST",
            settings.X_OAUTH_TOKEN_URL,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": kept.get("code_verifier", ""),
                "client_id": settings.X_CLIENT_ID,
            },
            auth=auth,
        )
        access = token.get("access_token")
        if not access:
            raise OAuthError("X returned no access token.")
        me = (
            call(
                "GET",
                f"{settings.X_API_URL}/2/users/me",
                headers={"Authorization": f"Bearer {access}"},
            ).get("data")
            or {}
        )
        if not me.get("id"):
            return Grant(secrets={}, choices=[])
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
        return Grant(
            secrets={"accounts": {str(me["id"]): stored}},
            choices=[Choice(key=str(me["id"]), name=name, detail=me.get("name", ""))],
        )

    def accounts(
        self, grant: dict[str, Any], choices: list[dict[str, str]], key: str, *, extras: bool
    ) -> list[AccountGrant]:
        found = grant["accounts"][key]
        name = next(c["name"] for c in choices if c["key"] == key)
        credentials = {
            "access_token": found["access_token"],
            "refresh_token": found["refresh_token"],
            # The key the X connector reads to refresh before expiry.
            "expires_at": found["expires_at"],
        }
        return [AccountGrant("x", key, name, credentials)]
