"""The one webhook entrance: every platform's deliveries and handshakes, whether they come over
HTTP (``inbox.webhook_views``) or from the settings area's test event.

``receive()`` does what every webhook needs the same way — the size limit, the per-address
limits on handshakes and rejected requests, the archive row, the answer — and the platform's
connector does the platform's part: it answers its handshake, names the account a body is for
and checks the signature, and writes nothing. The raw body is archived before the platform gets
its answer (nothing sent is lost); parsing happens after commit in ``inbox.ingest``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, partial
from typing import TypeVar

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Field
from django.utils.datastructures import CaseInsensitiveMapping
from django_ratelimit.core import get_usage
from psycopg.errors import ForeignKeyViolation

from connectors.base import Connector, Inspection, PayloadError, WebhookRejected, decode_json
from connectors.registry import webhook_connector
from connectors.webhooks import (
    AccountsNotCached,
    accounts_from_cache,
    forget_accounts,
    kept_headers,
)
from inbox import triggers
from inbox.models import WebhookEvent
from inbox.settings_area import tasks as settings_tasks
from inbox.tasks import process_webhooks
from parley import aio

log = logging.getLogger(__name__)

T = TypeVar("T")

# Of a body no secret vouches for, only this much is kept (with its size and SHA-256).
UNSIGNED_KEPT_BYTES = 1024


@dataclass(frozen=True)
class Answer:
    """What the platform is told."""

    status: int
    body: str
    content_type: str = "text/plain"
    headers: Mapping[str, str] = field(default_factory=dict)
    # The archive row of a delivery (None for handshakes and for refusals not kept).
    archived_id: int | None = None
    # Blocking work for once the platform has its answer, on the entrance's threads.
    after: Callable[[], object] | None = field(default=None, compare=False)

    @classmethod
    def refusal(cls, exc: WebhookRejected) -> Answer:
        headers = {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, int(exc.retry_after)))
        return cls(exc.status, exc.reason, headers=headers)


def receive(
    platform: str,
    headers: Mapping[str, str],
    body: bytes = b"",
    *,
    method: str = "POST",
    query: Mapping[str, str] | None = None,
    account_id: int | None = None,
    remote_addr: str = "unknown",
) -> Answer:
    """Answer one webhook request to ``/webhooks/<platform>/`` (``meta`` for Messenger and
    Instagram; the sandbox's ``account_id`` is in its URL).

    GET is the platform's handshake, limited per source address (``WEBHOOK_HANDSHAKE_RATE``)
    and recorded for the settings area. A POST is archived whatever its fate: a bad signature
    answers 403 and keeps only what helps an investigation (headers, size, hash, the first KB) —
    an unsigned POST must not be a way to fill the disk — and past ``WEBHOOK_REJECTED_RATE`` per
    source address it is not kept at all (429). A signed body that is not a JSON object answers
    400, kept with the reason. A good one answers 200 once its row is saved, and an ingest pass
    is requested after commit; it applies nothing to accounts the signing secret does not speak
    for.
    """
    try:
        connector = webhook_connector(platform)
    except LookupError:
        return Answer(404, "no such webhook")
    try:
        if method not in connector.webhook_methods:
            raise WebhookRejected(405, f"{' or '.join(connector.webhook_methods)} only")
        if method == "GET":
            return _handshake(platform, connector, query or {}, remote_addr)
        return _delivery(connector, headers, body, account_id, remote_addr)
    except WebhookRejected as exc:
        return Answer.refusal(exc)


def refuse_oversized(platform: str, size: int) -> None:
    """413 for a body over ``WEBHOOK_MAX_BODY_BYTES`` (the view checks the declared length
    before it reads the body)."""
    if size > settings.WEBHOOK_MAX_BODY_BYTES:
        log.warning("webhook %s refused: %s bytes", platform, size)
        raise WebhookRejected(413, "body too large")


def _handshake(
    platform: str, connector: Connector, query: Mapping[str, str], remote_addr: str
) -> Answer:
    _limit_per_address(remote_addr, group="handshake", rate=settings.WEBHOOK_HANDSHAKE_RATE)
    reply = connector.answer_handshake(query)
    # The settings area shows the callback URL is set up (recorded off this answer's path).
    settings_tasks.record_handshake_later(platform)
    return Answer(200, reply.body, reply.content_type)


def _delivery(
    connector: Connector,
    headers: Mapping[str, str],
    body: bytes,
    account_id: int | None,
    remote_addr: str,
) -> Answer:
    refuse_oversized(connector.platform, len(body))
    if not isinstance(headers, CaseInsensitiveMapping):
        headers = CaseInsensitiveMapping(headers)
    malformed, inspection = _inspect(connector, headers, body, account_id)
    archived = _row(inspection, headers, body)
    if not inspection.verdict.valid:
        _limit_per_address(remote_addr, group="rejected", rate=settings.WEBHOOK_REJECTED_RATE)
        archived.body = body[:UNSIGNED_KEPT_BYTES]
        archived.body_sha256 = hashlib.sha256(body).hexdigest()
        archived.outcome = WebhookEvent.Outcome.REJECTED
        archived.error = "signature missing or wrong"
        archived.save()
        log.warning(
            "webhook %s rejected: bad signature (archived as %s)", archived.source, archived.pk
        )
        raise WebhookRejected(403, "invalid signature")
    if malformed:
        archived.outcome = WebhookEvent.Outcome.FAILED
        archived.error = f"malformed JSON: {malformed}"
        archived.save()
        log.warning("webhook %s: malformed JSON (archived as %s)", archived.source, archived.pk)
        raise WebhookRejected(400, "malformed JSON")
    _archive(archived)  # one autocommitted INSERT: archived before the answer
    # One pending ingest pass takes every body waiting.
    transaction.on_commit(lambda: triggers.request(process_webhooks))
    return Answer(200, "ok", archived_id=archived.pk)


def _inspect(
    connector: Connector, headers: Mapping[str, str], body: bytes, account_id: int | None
) -> tuple[str, Inspection]:
    """Why the body is malformed ("" when it is a JSON object), and the connector's reading."""
    # Parsed once here; the connector reads whose body it is, the ingest pass the rest.
    try:
        payload = decode_json(body)
        malformed = "" if isinstance(payload, dict) else "not a JSON object"
    except PayloadError as exc:
        payload, malformed = None, str(exc)
    inspection = connector.inspect_webhook(
        headers, body, None if malformed else payload, account_id=account_id
    )
    return malformed, inspection


def _row(inspection: Inspection, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    """The archive row of a delivery as the connector read it (not saved)."""
    accounts = inspection.verdict.accounts
    return WebhookEvent(
        source=inspection.source,
        account=inspection.account,
        headers=kept_headers(headers),
        body=body,
        body_size=len(body),
        signature_valid=inspection.verdict.valid,
        signed_for=None if accounts is None else sorted(accounts),
    )


# --- The common case on the event loop --------------------------------------------------------

# Bodies up to this size are checked and archived on the event loop: a signature over a larger
# one would hold the loop (and every other request on it) for milliseconds.
LOOP_MAX_BODY_BYTES = 64 * 1024


async def answer_on_loop(
    platform: str, headers: Mapping[str, str], body: bytes, *, account_id: int | None
) -> Answer | None:
    """``receive``'s common case answered on the event loop, with no thread and no Django
    connection: a signed POST, a JSON object, whose accounts are all in the process's fresh
    accounts cache (``connectors.webhooks.accounts_from_cache``). The same inspection, row and
    INSERT as ``receive``, written through the loop's pool (``parley.aio``) and committed before
    the 200; the ingest pass claimed before the 200 as ``receive`` claims it, and its task
    published after (``Answer.after``) when no pass was pending.

    None for everything else — a handshake, a bad signature, a malformed body, an account the
    cache cannot vouch for, a body over ``LOOP_MAX_BODY_BYTES``, the embedded default — and for
    an account deleted or made again in another process (the row's foreign key refuses it and
    the cache is forgotten): then ``receive`` answers, with its rules, on a thread.
    """
    if not aio.available() or len(body) > LOOP_MAX_BODY_BYTES:
        return None
    try:
        connector = webhook_connector(platform)
    except LookupError:
        return None
    if not connector.inspects_from_cache or "POST" not in connector.webhook_methods:
        return None
    headers = CaseInsensitiveMapping(headers)
    try:
        with accounts_from_cache() as cached:
            malformed, inspection = _inspect(connector, headers, body, account_id)
    except (AccountsNotCached, WebhookRejected):
        return None
    if malformed or not inspection.verdict.valid:
        return None
    # Every account taken from the cache is the row's own: its foreign key checks it exists.
    if any(account is not inspection.account for account in cached):
        return None
    archived = _row(inspection, headers, body)
    sql, values = _archive_statement(archived)
    pool = await aio.database()
    try:
        async with pool.connection() as conn:
            cursor = await conn.execute(sql, values)
            archived.pk = (await cursor.fetchone())[0]
        archived._state.adding = False
    except ForeignKeyViolation:
        forget_accounts()
        return None
    if not await triggers.claim_on_loop(process_webhooks):
        return Answer(200, "ok", archived_id=archived.pk)  # a pass is pending: it takes the row
    # No pass pending: this request publishes one, a blocking call (a few acknowledgements in
    # a hundred at 200 a second, each pass taking every body waiting) made once the platform
    # has its answer. Should it fail, the claim lapses after ``triggers.LOST_AFTER`` and the next
    # delivery publishes; beat's ``requeue-stalled-work`` requests a pass for rows left waiting.
    return Answer(
        200, "ok", archived_id=archived.pk, after=partial(triggers.publish, process_webhooks)
    )


# Long-lived threads for the synchronous part of an answer (database, Redis). As many as the
# database pool holds by default: more would only wait for a connection.
_THREADS = ThreadPoolExecutor(max_workers=10, thread_name_prefix="webhook")


async def on_thread(function: Callable[..., T], *args: object, **kwargs: object) -> T:
    """``function`` on one of the entrance's threads, with what Django's request signals do
    around a request: a broken or expired connection is replaced before, and the connection goes
    back to the pool after."""

    def run() -> T:
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return await asyncio.get_running_loop().run_in_executor(_THREADS, run)


# --- The archive row's INSERT -----------------------------------------------------------------


@cache
def _archive_sql() -> tuple[str, tuple[Field, ...]]:
    fields = tuple(f for f in WebhookEvent._meta.concrete_fields if not f.primary_key)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(WebhookEvent._meta.db_table)
    returning = " RETURNING id" if connection.features.can_return_columns_from_insert else ""
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}){returning}"  # noqa: S608 - the model's own names
    return sql, fields


def _archive_statement(archived: WebhookEvent) -> tuple[str, list]:
    """A new archive row's INSERT and its values: the model's own, compiled once. The ORM
    compiled it for every delivery — more than half of the acknowledgement's CPU — for a row
    whose shape never changes. (No signal listens to this model's saves.) Executed by
    ``_archive`` through Django's connection, and by ``answer_on_loop`` through the loop's."""
    sql, fields = _archive_sql()
    return sql, [f.get_db_prep_save(f.pre_save(archived, True), connection) for f in fields]


def _archive(archived: WebhookEvent) -> None:
    """Save a new archive row (``_archive_statement``) through Django's connection."""
    sql, values = _archive_statement(archived)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        archived.pk = cursor.fetchone()[0] if cursor.description else cursor.lastrowid
    archived._state.adding = False


def _limit_per_address(remote_addr: str, *, group: str, rate: str) -> None:
    """Count this request against ``rate`` (``"30/m"``) for its source address, in the shared
    cache (so every web process counts together); 429 with Retry-After once over it. Behind a
    proxy the server must put the client's address there (uvicorn ``--proxy-headers
    --forwarded-allow-ips``)."""
    usage = get_usage(
        None,
        group=f"webhooks-{group}",
        key=lambda _group, _request: remote_addr,
        rate=rate,
        increment=True,
    )
    if usage and usage["should_limit"]:
        log.warning("webhook: %s limit (%s) reached by %s", group, rate, remote_addr)
        raise WebhookRejected(
            429, f"too many {group} requests from this address", retry_after=usage["time_left"]
        )
