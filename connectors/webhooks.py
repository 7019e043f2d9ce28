"""What every webhook endpoint does the same way: size limit, signature check, archive, enqueue,
and the per-address limits on handshakes and rejected requests.

The raw body is archived before the platform gets its answer (nothing sent is lost); parsing
happens afterwards in ``inbox.ingest``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage

from connectors.base import PayloadError, WebhookRejected, decode_json
from inbox.models import PlatformAccount, WebhookEvent

log = logging.getLogger(__name__)

# Headers worth keeping with an archived body: enough to re-check and to debug, no cookies.
KEPT_HEADERS = ("content-type", "content-length", "user-agent")
KEPT_HEADER_PREFIXES = ("x-hub-", "x-twitter-", "x-li-", "x-sandbox-")
# Of a body no secret vouches for, only this much is kept (with its size and SHA-256).
UNSIGNED_KEPT_BYTES = 1024


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


@dataclass(frozen=True)
class Signer:
    """A secret that may have signed a body, and the accounts it speaks for: an account's own
    secret speaks for the accounts it is set on; an app-wide secret (``accounts=None``, from
    settings) for every account of its platform."""

    secret: str
    accounts: frozenset[str] | None = None


@dataclass(frozen=True)
class Verdict:
    """What a signature check found: whether a secret matched, and for which accounts
    (external ids; ``None``: every account, the app-wide secret matched)."""

    valid: bool
    accounts: frozenset[str] | None = None


UNSIGNED = Verdict(valid=False)


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


def limit_per_address(request: HttpRequest, *, group: str, rate: str) -> None:
    """Count this request against ``rate`` (``"30/m"``) for its source address, in the shared
    cache (so every web process counts together); 429 with Retry-After once over it."""
    usage = get_usage(
        request, group=f"webhooks-{group}", key=_source_address, rate=rate, increment=True
    )
    if usage and usage["should_limit"]:
        log.warning(
            "webhook %s: %s limit (%s) reached by %s",
            request.path,
            group,
            rate,
            _source_address(group, request),
        )
        raise WebhookRejected(
            429, f"too many {group} requests from this address", retry_after=usage["time_left"]
        )


def _source_address(group: str, request: HttpRequest) -> str:
    """The client address (behind a proxy, the server must put the client's there: uvicorn
    ``--proxy-headers --forwarded-allow-ips``); an ASGI server on a Unix socket names none."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def rejection_response(exc: WebhookRejected) -> HttpResponse:
    response = HttpResponse(exc.reason, status=exc.status, content_type="text/plain")
    if exc.retry_after is not None:
        response["Retry-After"] = str(max(1, int(exc.retry_after)))
    return response


def receive(
    request: HttpRequest,
    *,
    source: str,
    verify: Callable[[bytes], Verdict],
    account: PlatformAccount | None = None,
) -> HttpResponse:
    """Archive a webhook POST, check it, and hand it to the ingest queue.

    ``verify(body)`` says whether the signature is good and which accounts it speaks for (the
    ingest pass applies nothing to any other account). A bad signature answers 403 and keeps
    only what helps an investigation (headers, size, hash, the first KB): an unsigned POST must
    not be a way to fill the disk; past ``WEBHOOK_REJECTED_RATE`` per source address it is not
    kept at all (429). A body that is not a JSON object answers 400 — both stay archived with the
    reason. A good one answers 200 as soon as its row is committed; the ingest pass
    (``inbox.tasks.process_webhooks``) parses it after the commit.
    """
    body = read_body(request)
    archived = WebhookEvent(
        source=source,
        account=account,
        headers=kept_headers(request),
        body=body,
        body_size=len(body),
    )
    verdict = verify(body)
    archived.signature_valid = verdict.valid
    if not verdict.valid:
        limit_per_address(request, group="rejected", rate=settings.WEBHOOK_REJECTED_RATE)
        archived.body = body[:UNSIGNED_KEPT_BYTES]
        archived.body_sha256 = hashlib.sha256(body).hexdigest()
        archived.outcome = WebhookEvent.Outcome.REJECTED
        archived.error = "signature missing or wrong"
        archived.save()
        log.warning("webhook %s rejected: bad signature (archived as %s)", source, archived.pk)
        raise WebhookRejected(403, "invalid signature")
    archived.signed_for = None if verdict.accounts is None else sorted(verdict.accounts)
    try:
        if not isinstance(decode_json(body), dict):
            raise PayloadError("not a JSON object")
    except PayloadError as exc:
        archived.outcome = WebhookEvent.Outcome.FAILED
        archived.error = f"malformed JSON: {exc}"
        archived.save()
        log.warning("webhook %s: malformed JSON (archived as %s)", source, archived.pk)
        raise WebhookRejected(400, "malformed JSON")
    archived.save()  # one autocommitted INSERT: archived before the answer
    enqueue_processing()
    return HttpResponse("ok", content_type="text/plain")


# Sent after commit once a body is archived. Connectors do not know who ingests it: the inbox
# connects its ingest pass here (``inbox.apps``).
webhook_archived = Signal()


def enqueue_processing() -> None:
    """After commit, say that a body is waiting (the inbox makes sure an ingest pass runs)."""
    transaction.on_commit(lambda: webhook_archived.send(sender=WebhookEvent))
