"""Connecting accounts through the platforms' own login (Facebook Login for a Page and its
linked Instagram account, X OAuth 2.0 with PKCE, LinkedIn OAuth): the state machine they share.
What each platform's login does lives in ``connectors/<platform>/oauth.py``
(``connectors.oauth.OAuthProvider``).

The flow: ``start`` makes a single-use ``state`` bound to the admin, with an expiry, and returns
the provider's authorisation URL. The provider sends the admin back to the callback with a
``code``; ``complete_callback`` consumes the state (a replay, an expired state or another user's
is refused), has the provider exchange the code server-side and stores what it got — encrypted
— on the state row. The admin picks the Page / organisation, and ``finish`` creates or updates
the account and records it in the audit log.
"""

from __future__ import annotations

import logging
import secrets as secrets_module
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from connectors.oauth import AccountGrant, OAuthError, OAuthProvider
from connectors.registry import CONNECTORS, OAUTH_PROVIDERS, get_oauth_provider
from inbox import history
from inbox.accounts import connect_account
from inbox.models import PlatformAccount, User
from inbox.settings_area import audit, health
from inbox.settings_area.models import OAuthState
from inbox.tasks import start_history_import

log = logging.getLogger(__name__)

__all__ = ["OAuthError", "PROVIDERS", "PROVIDER_FOR_PLATFORM", "PROVIDER_LABELS"]

PROVIDERS = tuple(OAUTH_PROVIDERS)
PROVIDER_LABELS = {name: get_oauth_provider(name).label for name in PROVIDERS}
# The login that (re)connects an account of each platform.
PROVIDER_FOR_PLATFORM = {
    platform: name for name in PROVIDERS for platform in get_oauth_provider(name).platforms
}


def configured(provider: str) -> bool:
    """Whether the app credentials for this provider are set."""
    return provider in OAUTH_PROVIDERS and get_oauth_provider(provider).configured()


def unavailable_reason(provider: str) -> str:
    """Why this login cannot work here, in words shown next to its button; empty when it can."""
    missing = get_oauth_provider(provider).missing_settings()
    if not missing:
        return ""
    return _(
        "Not available: this server has no %(names)s setting. Set it in the environment and "
        "restart Parley (docs/admin.md), or enter the credentials below."
    ) % {"names": ", ".join(missing)}


# --- state ------------------------------------------------------------------------------------


def start(*, user: User, provider: str, redirect_uri: str) -> str:
    """Begin an authorisation; returns the provider URL to send the admin's browser to."""
    if provider not in PROVIDERS:
        raise OAuthError(gettext("Unknown provider %(provider)r.") % {"provider": provider})
    if not configured(provider):
        raise OAuthError(
            f"{PROVIDER_LABELS[provider]} is not configured: set the app id and secret "
            "(see docs/admin.md)."
        )
    state = secrets_module.token_urlsafe(32)
    url, stored = get_oauth_provider(provider).authorization(state=state, redirect_uri=redirect_uri)
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
    return url


def consume_state(*, user: User, provider: str, state: str) -> OAuthState:
    """The state row, marked used — or OAuthError if it is unknown, used, expired or not this
    admin's. One conditional UPDATE, so two callbacks racing cannot both pass."""
    now = timezone.now()
    row = OAuthState.objects.filter(state=state or "-", provider=provider).first()
    if row is None:
        raise OAuthError(gettext("This sign-in link is not valid. Start connecting again."))
    if row.user_id != user.pk:
        log.warning("oauth state %s presented by user %s, started by another user", row.pk, user.pk)
        raise OAuthError(
            gettext("This sign-in was started by someone else. Start connecting again.")
        )
    claimed = OAuthState.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    if not claimed:
        if row.used_at is not None:
            raise OAuthError(gettext("This sign-in link was already used. Start connecting again."))
        raise OAuthError(gettext("This sign-in link has expired. Start connecting again."))
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
        raise OAuthError(gettext("This connection is no longer pending. Start connecting again."))
    return row


def complete_callback(*, user: User, provider: str, params: dict[str, str]) -> OAuthState:
    """Handle the provider's redirect: check the state, exchange the code, list the choices."""
    row = consume_state(user=user, provider=provider, state=params.get("state", ""))
    if params.get("error"):
        reason = params.get("error_description") or params["error"]
        raise OAuthError(gettext("The sign-in was not completed: %(reason)s") % {"reason": reason})
    code = params.get("code", "")
    if not code:
        raise OAuthError(gettext("The provider sent no authorisation code."))
    grant = get_oauth_provider(provider).exchange(
        code=code, redirect_uri=row.secrets.get("redirect_uri", ""), kept=row.secrets
    )
    if not grant.choices:
        raise OAuthError(get_oauth_provider(provider).nothing_found)
    row.secrets = grant.secrets
    row.choices = [c.__dict__ for c in grant.choices]
    row.save(update_fields=["secrets", "choices"])
    return row


# --- finishing --------------------------------------------------------------------------------


@transaction.atomic
def finish(
    *, user: User, pk: int, key: str, include_instagram: bool = True, teams: list[str] = ()
) -> list[PlatformAccount]:
    """Connect what the admin chose. Reconnecting an account that exists updates it in place
    (same row, same conversations): nothing is duplicated."""
    row = pending(user=user, pk=pk)
    if key not in {c["key"] for c in row.choices}:
        raise OAuthError(gettext("That choice was not offered. Start connecting again."))
    provider = get_oauth_provider(row.provider)
    made = provider.accounts(row.secrets, row.choices, key, extras=include_instagram)
    accounts = []
    for grant in made:
        existed = PlatformAccount.objects.filter(
            platform=grant.platform, external_id=grant.external_id
        ).exists()
        account = _connect(grant, teams)
        audit.record(
            actor=user,
            action="account.reconnected" if existed else "account.connected",
            target=account,
            credential_keys=grant.credentials.keys(),
            extra={"via": PROVIDER_LABELS[row.provider]},
        )
        if not existed and grant.platform in CONNECTORS and history.available(account):
            start_history_import(account=account, actor=user)
        accounts.append(account)
    # The tokens now live (encrypted) on the accounts; the state row keeps none.
    OAuthState.objects.filter(pk=row.pk).update(completed_at=timezone.now(), secrets={})
    transaction.on_commit(health.forget_banner)
    grant_secrets = row.secrets
    transaction.on_commit(lambda: _after_connect(provider, grant_secrets, key, made[0]))
    return accounts


def _after_connect(
    provider: OAuthProvider, grant: dict[str, Any], key: str, first: AccountGrant
) -> None:
    """The provider's set-up once connected (Meta: the Page's webhook subscription). A failure
    is reported on the account, not raised: the connection itself is made."""
    problem = provider.after_connect(grant, key)
    if problem:
        PlatformAccount.objects.filter(
            platform=first.platform, external_id=first.external_id
        ).update(last_error=problem)


def _connect(grant: AccountGrant, teams: list[str]) -> PlatformAccount:
    if grant.platform in CONNECTORS:
        account, _ = connect_account(
            platform=grant.platform,
            external_id=grant.external_id,
            name=grant.name,
            settings=grant.credentials,
            teams=teams,
        )
        account.disconnected_at = None
        account.save(update_fields=["disconnected_at"])
        return account
    # The platform's connector is not installed yet: keep the account and its token, so it
    # works as soon as the connector lands (same fields connect_account would set).
    account, _ = PlatformAccount.objects.get_or_create(
        platform=grant.platform, external_id=grant.external_id, defaults={"name": grant.name}
    )
    account.name = grant.name
    account.credentials = {**(account.credentials or {}), **grant.credentials}
    account.status = PlatformAccount.Status.CONNECTED
    account.last_error = ""
    account.disconnected_at = None
    account.save()
    return account
