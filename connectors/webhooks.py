"""What every connector's webhook part shares: the HMAC checks over the raw body against every
secret that may have signed it, and the headers worth keeping with an archived body.

The entrance (``inbox.webhooks``) asks the connector to inspect a delivery, then archives and
answers; connectors only read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from connectors.base import UNSIGNED, Verdict
from inbox.models import PlatformAccount

# Headers worth keeping with an archived body: enough to re-check and to debug, no cookies.
KEPT_HEADERS = ("content-type", "content-length", "user-agent")
KEPT_HEADER_PREFIXES = ("x-hub-", "x-twitter-", "x-li-", "x-sandbox-")


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name.lower(): value
        for name, value in headers.items()
        if name.lower() in KEPT_HEADERS or name.lower().startswith(KEPT_HEADER_PREFIXES)
    }


def hmac_sha256(secret: str, body: bytes, *, encoding: str = "hex") -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode() if encoding == "base64" else digest.hex()


@dataclass(frozen=True)
class Signer:
    """A secret that may have signed a body, and the accounts it speaks for: an account's own
    secret speaks for the accounts it is set on; an app-wide secret (``accounts=None``, from
    settings) for every account of its platform."""

    secret: str
    accounts: frozenset[str] | None = None


def signers(app_secret: str, accounts: Iterable[PlatformAccount], credential: str) -> list[Signer]:
    """The app-wide secret and each account's own ``credential`` secret; accounts that share
    one secret (one app) are all spoken for by it."""
    found = [Signer(app_secret)] if app_secret else []
    by_secret: dict[str, set[str]] = {}
    for account in accounts:
        secret = str((account.credentials or {}).get(credential) or "")
        if secret:
            by_secret.setdefault(secret, set()).add(account.external_id)
    return found + [Signer(secret, frozenset(ids)) for secret, ids in by_secret.items()]


def check_signature(
    signature: str | None,
    body: bytes,
    candidates: Iterable[Signer],
    *,
    prefix: str = "sha256=",
    encoding: str = "hex",
) -> Verdict:
    """Constant-time check of ``prefix + HMAC-SHA256(secret, body)`` against every candidate;
    the verdict names the accounts the matching secrets speak for."""
    if not signature or not signature.startswith(prefix):
        return UNSIGNED
    given = signature[len(prefix) :].strip()
    if encoding == "hex":
        given = given.lower()
    matched, everyone, covered = False, False, set()
    for signer in candidates:
        # No early exit: every configured secret is compared.
        if hmac.compare_digest(given, hmac_sha256(signer.secret, body, encoding=encoding)):
            matched = True
            if signer.accounts is None:
                everyone = True
            else:
                covered |= signer.accounts
    if not matched:
        return UNSIGNED
    return Verdict(valid=True, accounts=None if everyone else frozenset(covered))


# Who may sign a platform's bodies changes only when an admin edits an account: each process
# keeps the platform's accounts (their credentials decrypted) this many seconds instead of
# decrypting every account's credentials per delivery, and forgets them at once when one is
# saved or deleted in the process (``forget_accounts``). Each delivery still asks which accounts
# the body names exist now (an index-only query): an account deleted or made again elsewhere is
# never used from the cache. On the event loop (``accounts_from_cache``) the archive row's
# foreign key to its account makes that check instead. A secret rotated in another process is
# seen within this time.
ACCOUNTS_TTL = 5.0
_accounts: dict[str, tuple[float, dict[str, PlatformAccount]]] = {}
# Inside ``accounts_from_cache``: the accounts answered from the cache alone.
_from_cache: ContextVar[list[PlatformAccount] | None] = ContextVar("from_cache", default=None)


class AccountsNotCached(Exception):
    """The cache cannot answer for the accounts a body names without asking the database."""


@contextmanager
def accounts_from_cache() -> Iterator[list[PlatformAccount]]:
    """Inspect a delivery without a query (on the event loop): within this block
    ``named_accounts`` answers from a fresh cache that holds every account the body names,
    without asking which exist now, or raises ``AccountsNotCached``. The list yielded collects
    the accounts it answered: the caller makes the database check that they still exist (the
    archive row's foreign key to its account)."""
    used: list[PlatformAccount] = []
    token = _from_cache.set(used)
    try:
        yield used
    finally:
        _from_cache.reset(token)


def named_accounts(platform: str | None, external_ids: Iterable[str]) -> list[PlatformAccount]:
    """The accounts of ``platform`` that a body names (no query when it names none): their own
    secrets are candidates too."""
    wanted = set(external_ids)
    if not platform or not wanted:
        return []
    used = _from_cache.get()
    if used is not None:
        found = _cached(platform, wanted)
        used.extend(found)
        return found
    current = dict(
        PlatformAccount.objects.filter(platform=platform, external_id__in=wanted).values_list(
            "external_id", "pk"
        )
    )
    now = time.monotonic()
    kept = _accounts.get(platform)
    if (
        kept is None
        or now - kept[0] > ACCOUNTS_TTL
        or any(kept[1].get(e) is None or kept[1][e].pk != pk for e, pk in current.items())
    ):
        found = PlatformAccount.objects.filter(platform=platform)
        kept = (now, {account.external_id: account for account in found})
        _accounts[platform] = kept
    return [kept[1][external_id] for external_id in sorted(current) if external_id in kept[1]]


def _cached(platform: str, wanted: set[str]) -> list[PlatformAccount]:
    kept = _accounts.get(platform)
    if kept is None or time.monotonic() - kept[0] > ACCOUNTS_TTL or not wanted <= kept[1].keys():
        # Stale, or an id unknown here (an account made in another process, or none at all).
        raise AccountsNotCached(platform)
    return [kept[1][external_id] for external_id in sorted(wanted)]


@receiver([post_save, post_delete], sender=PlatformAccount)
def forget_accounts(**_kwargs) -> None:
    _accounts.clear()
