"""``GET/POST /webhooks/meta/``: the one endpoint for Messenger and Instagram.

GET is the subscription handshake. POST is verified with ``X-Hub-Signature-256`` over the raw
body bytes (never re-serialised JSON: Meta signs its own ``\\u00e4``-style escapes) against
``META_APP_SECRET`` or the ``app_secret`` of an account named in the body (Instagram-Login apps
sign with the Instagram app secret); an account's own secret speaks only for the accounts it is
set on (the ingest pass drops other entries). ``object`` picks the platform and ``entry[].id``
the account; ids Parley does not know are archived and reported, and Meta still gets its 200
(otherwise it retries and, after an hour, unsubscribes the app).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from connectors import webhooks
from connectors.base import HandshakeReply, Inspection, WebhookRejected
from connectors.meta.parsing import entry_ids, platform_of
from inbox.models import Platform, PlatformAccount

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
META_PLATFORMS = (Platform.MESSENGER, Platform.INSTAGRAM)


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value for a body (for tests, the benchmark, replay tools)."""
    return "sha256=" + webhooks.hmac_sha256(secret, body)


def _token_matches(token: str) -> bool:
    """The app-wide verify token, or one set on a Meta account (read only when needed)."""
    if settings.META_VERIFY_TOKEN and hmac.compare_digest(
        token.encode(), settings.META_VERIFY_TOKEN.encode()
    ):
        return True
    matched = False
    for account in PlatformAccount.objects.filter(platform__in=META_PLATFORMS):
        expected = str((account.credentials or {}).get("verify_token") or "")
        if expected:
            matched |= hmac.compare_digest(token.encode(), expected.encode())
    return matched


def handshake(query: Mapping[str, str]) -> HandshakeReply:
    challenge = query.get("hub.challenge")
    if query.get("hub.mode") != "subscribe" or challenge is None:
        raise WebhookRejected(400, "not a subscription handshake")
    if not _token_matches(query.get("hub.verify_token", "")):
        log.warning("Meta webhook handshake refused: wrong verify token")
        raise WebhookRejected(403, "verify token mismatch")
    # The challenge goes back exactly as received, as plain text (not JSON).
    return HandshakeReply(challenge)


def inspect(headers: Mapping[str, str], body: bytes, payload: dict[str, Any] | None) -> Inspection:
    platform = platform_of(payload) if payload else None
    ids = entry_ids(payload) if payload else []
    accounts = webhooks.named_accounts(platform, ids)
    unknown = sorted(set(ids) - {a.external_id for a in accounts})
    if unknown:
        log.warning("Meta webhook for unknown %s account(s) %s", platform, unknown)
    # A page's own app secret speaks for the pages it is set on, not for every entry[].
    candidates = webhooks.signers(settings.META_APP_SECRET, accounts, "app_secret")
    return Inspection(
        # The registry name of the platform parses it; bodies of no known object are kept
        # under Messenger (the parser reads `object` again and ignores them).
        source=platform or Platform.MESSENGER,
        # One account named: the archive row points at it; a batch for several stays unlinked
        # (each event carries its own entry id).
        account=accounts[0] if len(accounts) == 1 and not unknown else None,
        verdict=webhooks.check_signature(headers.get(SIGNATURE_HEADER), body, candidates),
    )
