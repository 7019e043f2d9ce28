"""What every webhook endpoint does the same way: size limit, signature check, archive, enqueue.

The raw body is archived before the platform gets its answer (nothing sent is lost); parsing
happens afterwards in ``inbox.ingest``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from connectors.base import WebhookRejected
from inbox.models import PlatformAccount, WebhookEvent

log = logging.getLogger(__name__)

# Headers worth keeping with an archived body: enough to re-check and to debug, no cookies.
KEPT_HEADERS = ("content-type", "content-length", "user-agent")
KEPT_HEADER_PREFIXES = ("x-hub-", "x-twitter-", "x-li-", "x-sandbox-")


def read_body(request: HttpRequest) -> bytes:
    """The raw body, refusing anything larger than WEBHOOK_MAX_BODY_BYTES with 413."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit:
        log.warning("webhook %s refused: %s bytes declared", request.path, declared)
        raise WebhookRejected(413, "body too large")
    body = request.body
    if len(body) > limit:
        log.warning("webhook %s refused: %s bytes", request.path, len(body))
        raise WebhookRejected(413, "body too large")
    return body


def kept_headers(request: HttpRequest) -> dict[str, str]:
    return {
        name.lower(): value
        for name, value in request.headers.items()
        if name.lower() in KEPT_HEADERS or name.lower().startswith(KEPT_HEADER_PREFIXES)
    }


def hmac_sha256(secret: str, body: bytes, *, encoding: str = "hex") -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode() if encoding == "base64" else digest.hex()


def signature_matches(
    signature: str | None,
    body: bytes,
    secrets: Iterable[str],
    *,
    prefix: str = "sha256=",
    encoding: str = "hex",
) -> bool:
    """Constant-time check of ``prefix + HMAC-SHA256(secret, body)`` against any secret given."""
    if not signature or not signature.startswith(prefix):
        return False
    given = signature[len(prefix) :].strip()
    if encoding == "hex":
        given = given.lower()
    matched = False
    for secret in secrets:
        if secret:
            # No early exit: every configured secret is compared.
            matched |= hmac.compare_digest(given, hmac_sha256(secret, body, encoding=encoding))
    return matched


def receive(
    request: HttpRequest,
    *,
    source: str,
    verify: Callable[[bytes], bool],
    account: PlatformAccount | None = None,
) -> HttpResponse:
    """Archive a webhook POST, check it, and hand it to the ingest queue.

    ``verify(body)`` says whether the signature is good. A bad signature answers 403, a body
    that is not JSON 400 — both stay archived with the reason. A good one answers 200 as soon
    as its row is committed; the ingest pass (``inbox.tasks.process_webhooks``) parses it after
    the commit.
    """
    body = read_body(request)
    archived = WebhookEvent(
        source=source, account=account, headers=kept_headers(request), body=body
    )
    archived.signature_valid = verify(body)
    if not archived.signature_valid:
        archived.outcome = WebhookEvent.Outcome.REJECTED
        archived.error = "signature missing or wrong"
        archived.save()
        log.warning("webhook %s rejected: bad signature (archived as %s)", source, archived.pk)
        raise WebhookRejected(403, "invalid signature")
    try:
        json.loads(body)
    except ValueError as exc:
        archived.outcome = WebhookEvent.Outcome.FAILED
        archived.error = f"malformed JSON: {exc}"
        archived.save()
        log.warning("webhook %s: malformed JSON (archived as %s)", source, archived.pk)
        raise WebhookRejected(400, "malformed JSON")
    archived.save()  # one autocommitted INSERT: archived before the answer
    enqueue_processing()
    return HttpResponse("ok", content_type="text/plain")


def enqueue_processing() -> None:
    """After commit, make sure an ingest pass will run (one pending pass takes every body)."""
    from inbox import triggers
    from inbox.tasks import process_webhooks

    transaction.on_commit(lambda: triggers.request(process_webhooks))
