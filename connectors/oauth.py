"""What each platform's login does, behind one small protocol: the settings area keeps the
state machine (single-use state, the admin's pending choice, the audit), and asks the provider
for the authorisation URL, the code exchange and the accounts a choice connects.

Tokens travel only between Parley and the provider's token endpoint: never in a URL Parley
makes, a page, or a log line. Provider URLs are settings, so tests run the whole flow against
a local provider.
"""

from __future__ import annotations

import base64
import hashlib
import secrets as secrets_module
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.conf import settings

from connectors import http
from connectors.base import DeliveryError


class OAuthError(Exception):
    """The flow cannot go on; the message is for the admin (never contains a token)."""


@dataclass(frozen=True)
class Choice:
    """Something the admin may connect: a Page (with its Instagram account), an X account, a
    LinkedIn organisation."""

    key: str
    name: str
    detail: str = ""


@dataclass(frozen=True)
class Grant:
    """What a code exchange found: secrets kept (encrypted) until the admin chooses, and the
    choices."""

    secrets: dict[str, Any]
    choices: list[Choice]


@dataclass(frozen=True)
class AccountGrant:
    """One account a choice connects, as ``connect_account`` takes it."""

    platform: str
    external_id: str
    name: str
    credentials: dict[str, str] = field(default_factory=dict)


class OAuthProvider(ABC):
    """A platform's login. Subclasses live in ``connectors/<platform>/oauth.py`` and are listed
    in ``connectors.registry.OAUTH_PROVIDERS``."""

    # The name in the settings area's URLs (/settings/accounts/oauth/<name>/...).
    name: ClassVar[str]
    label: ClassVar[str]
    # The platforms whose accounts this login (re)connects.
    platforms: ClassVar[tuple[str, ...]]
    # What the admin reads when the login found nothing to connect.
    nothing_found: ClassVar[str]
    # The settings (app credentials) the login needs; the connect page names the missing ones.
    required_settings: ClassVar[tuple[str, ...]]

    def missing_settings(self) -> list[str]:
        return [name for name in self.required_settings if not getattr(settings, name, "")]

    def configured(self) -> bool:
        """Whether the app credentials for this provider are set."""
        return not self.missing_settings()

    @abstractmethod
    def authorization(self, *, state: str, redirect_uri: str) -> tuple[str, dict[str, str]]:
        """The URL to send the admin's browser to, and what to keep for the exchange (a PKCE
        verifier)."""

    @abstractmethod
    def exchange(self, *, code: str, redirect_uri: str, kept: dict[str, Any]) -> Grant:
        """Exchange the code server-side and list what the admin may connect."""

    @abstractmethod
    def accounts(
        self, grant: dict[str, Any], choices: list[dict[str, str]], key: str, *, extras: bool
    ) -> list[AccountGrant]:
        """The accounts the chosen ``key`` connects (``extras``: linked accounts too, such as a
        Page's Instagram account)."""

    def after_connect(self, grant: dict[str, Any], key: str) -> str:
        """Platform set-up once connected (webhook subscriptions). Returns "" or, when it
        failed, what the admin should read on the account; never raises."""
        return ""


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets_module.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


# OAuth and Graph errors in words (``error_description``, Graph's ``error.message``); 400 and
# 401 are a refused code or token.
classify = http.ErrorRules(
    name="The provider",
    auth_statuses=frozenset({400, 401}),
    auth_reason="The provider refused (HTTP {status}){suffix}.",
    rate_limit_reason="The provider is busy (HTTP {status}): try again in a minute.",
    temporary_reason="The provider is busy (HTTP {status}): try again in a minute.",
    refused=http.ErrorCase("{status}", "The provider refused (HTTP {status}){suffix}."),
)


def call(method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    """One provider call through the outbound HTTP path; OAuthError in words on failure."""
    try:
        response = http.request(method, url, classify=classify, **kwargs)
        return response.json()
    except DeliveryError as exc:
        raise OAuthError(exc.reason) from exc
    except ValueError as exc:
        raise OAuthError("The provider answered with something that is not JSON.") from exc
