"""Platform name → connector instance, and login name → OAuth provider. A new platform adds one
line here (two if it has a login)."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.utils.module_loading import import_string

from connectors.base import Connector
from connectors.oauth import OAuthProvider

CONNECTORS: dict[str, str] = {
    "sandbox": "connectors.sandbox.connector.SandboxConnector",
    "x": "connectors.x.connector.XConnector",
    "linkedin": "connectors.linkedin.connector.LinkedInConnector",
    "messenger": "connectors.messenger.connector.MessengerConnector",
    "instagram": "connectors.instagram.connector.InstagramConnector",
}

# Webhook endpoints (`/webhooks/<name>/`) → the connector that reads their deliveries:
# Messenger's serves Meta's one endpoint for Instagram too (the body's `object` says which).
WEBHOOK_ENDPOINTS: dict[str, str] = {
    "sandbox": "sandbox",
    "x": "x",
    "linkedin": "linkedin",
    "meta": "messenger",
}


@cache
def get_connector(platform: str) -> Connector:
    return _instance(CONNECTORS, platform, "connector for platform")


def webhook_connector(endpoint: str) -> Connector:
    try:
        return get_connector(WEBHOOK_ENDPOINTS[endpoint])
    except KeyError:
        raise LookupError(f"no webhook endpoint {endpoint!r}") from None


def platforms() -> list[str]:
    return list(CONNECTORS)


# The logins the settings area offers, in the order it shows them.
OAUTH_PROVIDERS: dict[str, str] = {
    "facebook": "connectors.meta.oauth.FacebookLogin",
    "x": "connectors.x.oauth.XLogin",
    "linkedin": "connectors.linkedin.oauth.LinkedInLogin",
}


@cache
def get_oauth_provider(name: str) -> OAuthProvider:
    return _instance(OAUTH_PROVIDERS, name, "OAuth provider")


def _instance(table: dict[str, str], key: str, what: str) -> Any:
    try:
        path = table[key]
    except KeyError:
        raise LookupError(f"no {what} {key!r}") from None
    return import_string(path)()
