"""LinkedIn OAuth: the organisations the signed-in member administers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from connectors.oauth import AccountGrant, Choice, Grant, OAuthError, OAuthProvider, call

SCOPES = "r_organization_social w_organization_social rw_organization_admin"
API_VERSION = "202409"


class LinkedInLogin(OAuthProvider):
    name = "linkedin"
    label = "LinkedIn"
    platforms = ("linkedin",)
    nothing_found = "This LinkedIn member administers no organisation."
    required_settings = ("LINKEDIN_CLIENT_ID", "LINKEDIN_CLIENT_SECRET")

    def authorization(self, *, state: str, redirect_uri: str) -> tuple[str, dict[str, str]]:
        params = {
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
            "client_id": settings.LINKEDIN_CLIENT_ID,
            "scope": SCOPES,
        }
        return f"{settings.LINKEDIN_OAUTH_AUTHORIZE_URL}?{urlencode(params)}", {}

    def exchange(self, *, code: str, redirect_uri: str, kept: dict[str, Any]) -> Grant:
        token = call(
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
            "LinkedIn-Version": API_VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        acls = call(
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
            org = call(
                "GET", f"{settings.LINKEDIN_API_URL}/rest/organizations/{org_id}", headers=headers
            )
            name = org.get("localizedName") or urn
            stored.setdefault("names", {})[urn] = name
            choices.append(Choice(key=urn, name=name, detail=urn))
        return Grant(secrets=stored, choices=choices)

    def accounts(
        self, grant: dict[str, Any], choices: list[dict[str, str]], key: str, *, extras: bool
    ) -> list[AccountGrant]:
        credentials = {
            "access_token": grant["token"],
            "refresh_token": grant.get("refresh_token", ""),
        }
        return [AccountGrant("linkedin", key, grant.get("names", {}).get(key, key), credentials)]
