"""X (Twitter) Direct Messages: webhooks (Account Activity API and X Activity API), polling of
``GET /2/dm_events`` for accounts without webhooks, and sending through the v2 DM endpoints.

Account set-up: ``connect_account x --external-id USER_ID --credential access_token=…
--credential consumer_secret=… [--credential mode=webhook|polling]``. ``mode`` is an option
(readable), the rest are encrypted credentials. See docs/x.md.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import time
from typing import Any
from urllib.parse import urlparse

import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from connectors import webhooks
from connectors.base import (
    Connector,
    DeliveryError,
    Event,
    OutboundMessage,
    PayloadError,
    PlatformRules,
    SendResult,
    WebhookRejected,
    decode_json,
)
from connectors.x import client, parser
from connectors.x import services as x_services
from inbox.models import Platform, PlatformAccount

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
# X's CRC token: a short random token of the base64 / base64url alphabets. Nothing of this shape
# is a JSON object, so its CRC answer is never the signature of a webhook body.
CRC_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]{1,128}")
# A group DM holds at most 50 people: the account plus 49 others (participant_ids maxItems 49).
MAX_GROUP_PEOPLE = 50
# Pages fetched in one polling pass; the rest waits for the next pass (15 requests / 15 min).
MAX_PAGES_PER_POLL = 5

x_services.register()


def crc_response(secret: str, crc_token: str) -> dict[str, str]:
    return {
        "response_token": "sha256="
        + webhooks.hmac_sha256(secret, crc_token.encode(), encoding="base64")
    }


class XConnector(Connector):
    platform = Platform.X
    option_keys = frozenset({"mode"})
    rules = PlatformRules(
        reply_window=None,
        # v1.1 documented 10,000 characters; v2 states no other limit.
        max_text_length=10_000,
        attachments_per_message=1,
        # dm_image limit; GIFs (15 MB) and videos need chunked upload, which Parley does not do.
        max_attachment_bytes=5 * 1024 * 1024,
        max_group_participants=MAX_GROUP_PEOPLE,
        # Several contacts at once = one new group: 49 others besides the account.
        max_recipients_per_send=MAX_GROUP_PEOPLE - 1,
        # Anyone whose DM settings allow it; a 403 is remembered on the conversation.
        business_can_initiate=True,
        read_receipts=True,
        reactions=False,
        quick_replies=False,
        comment_replies=False,
        # 15 sends per 15 minutes per user.
        send_rate_per_second=15 / 900,
    )

    # --- Webhooks -----------------------------------------------------------------------------

    def handle_webhook(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if request.method == "GET":
            return self._crc(request)
        if request.method != "POST":
            raise WebhookRejected(405, "GET (CRC) or POST only")
        body = webhooks.read_body(request)
        account_ids: list[str] = []
        try:
            data = decode_json(body)
            if isinstance(data, dict):
                account_ids = parser.webhook_account_ids(data)
        except PayloadError:
            pass  # receive() archives it and answers 400 once the signature is checked
        accounts = (
            list(
                PlatformAccount.objects.filter(platform=self.platform, external_id__in=account_ids)
            )
            if account_ids
            else []
        )
        # The archive row points at the subscribed account (the first the body names).
        account = next((a for a in accounts if a.external_id == account_ids[0]), None)
        candidates = webhooks.signers(settings.X_CONSUMER_SECRET, accounts, "consumer_secret")
        signature = request.headers.get(SIGNATURE_HEADER)
        return webhooks.receive(
            request,
            source="x",
            account=account,
            verify=lambda raw: webhooks.check_signature(
                signature, raw, candidates, encoding="base64"
            ),
        )

    def _crc(self, request: HttpRequest) -> HttpResponse:
        webhooks.limit_per_address(request, group="handshake", rate=settings.WEBHOOK_HANDSHAKE_RATE)
        token = request.GET.get("crc_token")
        if not token:
            raise WebhookRejected(400, "crc_token missing")
        if not CRC_TOKEN.fullmatch(token) or _parses_as_json(token):
            # Signing any text would sign a webhook body of that text: only X's shape is answered.
            log.warning("X CRC refused: crc_token of %s characters is not X's shape", len(token))
            raise WebhookRejected(400, "crc_token is not a short URL-safe token")
        # Answered from settings alone: X re-checks often and wants a fast answer.
        secret = settings.X_CONSUMER_SECRET or _single_account_secret()
        if not secret:
            raise WebhookRejected(503, "X_CONSUMER_SECRET is not configured")
        # The settings area shows the handshake was seen; recorded by a task, off this path.
        from inbox.settings_area.tasks import record_handshake_later

        record_handshake_later("x")
        return JsonResponse(crc_response(secret, token))

    def parse(self, body: bytes, *, account: PlatformAccount | None) -> list[Event]:
        return parser.parse_webhook(body)

    # --- Polling ------------------------------------------------------------------------------

    def polls(self, account: PlatformAccount) -> bool:
        return (account.options or {}).get("mode") == "polling"

    def poll(self, account: PlatformAccount) -> list[Event]:
        """New DM events since the cursor, newest page first.

        Cursor (``poll_cursor``): ``since_id`` — newest event id fully seen; ``resume_token`` and
        ``run_top_id`` — a pass that stopped mid-way (rate limit, page cap) continues there;
        ``wait_until`` — epoch seconds of X's rate-limit reset: no request before it.
        """
        cursor = dict(account.poll_cursor or {})
        now = time.time()
        if float(cursor.get("wait_until") or 0) > now:
            return []
        cursor.pop("wait_until", None)
        since = cursor.get("since_id")
        token = cursor.get("resume_token")
        top = cursor.get("run_top_id")
        found: list[Event] = []
        pages = 0
        finished = False
        token_before = (account.credentials or {}).get("access_token")
        while pages < MAX_PAGES_PER_POLL:
            try:
                response = client.dm_events_page(account, pagination_token=token)
            except DeliveryError as exc:
                if exc.code == "rate_limited":
                    cursor["wait_until"] = now + (exc.retry_after if exc.retry_after else 60)
                    break
                if (account.credentials or {}).get("access_token") == token_before:
                    raise
                # The token was refreshed in this pass: raising would roll the new (rotated)
                # token back with the pass, and X has already spent the old refresh token. So the
                # pass ends here, keeping what it found, and the error is written down instead.
                PlatformAccount.objects.filter(pk=account.pk).update(last_error=exc.reason)
                log.warning("polling X account %s stopped: %s", account.pk, exc.reason)
                break
            pages += 1
            page = response.json()
            items = page.get("data") or []
            if top is None and items:
                top = str(items[0]["id"])
            fresh = [i for i in items if since is None or int(i["id"]) > int(since)]
            found.extend(parser.parse_dm_events({**page, "data": fresh}, account.external_id))
            next_token = (page.get("meta") or {}).get("next_token")
            if len(fresh) < len(items) or not next_token:
                finished = True
            else:
                token = next_token
            if client.rate_limit_exhausted(response):
                wait = client.rate_limit_wait(response)
                cursor["wait_until"] = now + (wait if wait is not None else 60)
                break
            if finished:
                break
        if finished:
            if top is not None and (since is None or int(top) > int(since)):
                cursor["since_id"] = top
            cursor.pop("resume_token", None)
            cursor.pop("run_top_id", None)
        else:
            cursor["resume_token"] = token
            if top is not None:
                cursor["run_top_id"] = top
        PlatformAccount.objects.filter(pk=account.pk).update(poll_cursor=cursor)
        account.poll_cursor = cursor
        return found

    # --- Sending ------------------------------------------------------------------------------

    def send(self, account: PlatformAccount, message: OutboundMessage) -> SendResult:
        if len(message.attachments) > self.rules.attachments_per_message:
            raise DeliveryError(
                "X allows one media item per DM; send the others separately.", permanent=True
            )
        body: dict[str, Any] = {}
        if message.text:
            body["text"] = message.text
        if not body and not message.attachments:
            raise DeliveryError("An X DM needs text or one media item.", permanent=True)
        thread = message.thread_external_id
        new_group = None
        if message.conversation_kind == "group" or parser.is_group_thread(thread):
            if thread:
                path = f"/2/dm_conversations/{thread}/messages"
            else:
                # Checked before anything is sent (the media upload included).
                path, new_group = "/2/dm_conversations", self._group_members(message)
        elif message.recipient_id:
            path = f"/2/dm_conversations/with/{message.recipient_id}/messages"
        elif thread:
            path = f"/2/dm_conversations/{thread}/messages"
        else:
            raise DeliveryError("This X conversation has no recipient to send to.", permanent=True)
        media_ids = [self._media_id(account, a) for a in message.attachments]
        if media_ids:
            body["attachments"] = [{"media_id": m} for m in media_ids]
        payload = body
        if new_group is not None:
            payload = {"conversation_type": "Group", "participant_ids": new_group, "message": body}
        try:
            response = client.call(account, "POST", path, json=payload)
        except DeliveryError as exc:
            if exc.code == "dm_refused":
                x_services.remember_send_refusal(
                    account=account,
                    recipient_id=None
                    if thread and parser.is_group_thread(thread)
                    else message.recipient_id,
                    thread_id=thread,
                    reason=exc.reason,
                )
            raise
        data = response.json().get("data") or {}
        event_id = data.get("dm_event_id")
        if not event_id:
            raise DeliveryError("X accepted the DM but returned no event id.", permanent=False)
        x_services.clear_send_refusal(
            account=account,
            recipient_id=message.recipient_id if not parser.is_group_thread(thread) else None,
            thread_id=thread,
        )
        return SendResult(
            external_id=str(event_id),
            thread_external_id=str(data.get("dm_conversation_id") or thread or "") or None,
        )

    def _group_members(self, message: OutboundMessage) -> list[str]:
        others = [str(p) for p in message.metadata.get("group_participant_ids") or []]
        if len(others) > MAX_GROUP_PEOPLE - 1:
            raise DeliveryError(
                f"An X group holds at most {MAX_GROUP_PEOPLE} people: the account and "
                f"{MAX_GROUP_PEOPLE - 1} others; this one names {len(others)} others.",
                permanent=True,
                code="group_too_large",
            )
        if len(others) < 2:
            raise DeliveryError(
                "A new X group needs at least two other people.",
                permanent=True,
                code="group_too_small",
            )
        return others

    def _media_id(self, account: PlatformAccount, attachment) -> str:
        """X takes media by upload, not by URL: an agent's file is read from Parley's storage;
        any other URL is fetched within the media safety limits."""
        if attachment.metadata.get("media_id"):
            return str(attachment.metadata["media_id"])
        limit = self.rules.max_attachment_bytes
        own = _own_outbound_file(attachment.url, limit)
        if own is not None:
            content, content_type = own
        else:
            from inbox.media import MediaRefused, download

            try:
                content, content_type = download(attachment.url, max_bytes=limit)
            except (MediaRefused, requests.RequestException) as exc:
                raise DeliveryError(f"The attachment could not be read: {exc}", permanent=True)
        return client.upload_dm_media(account, content, content_type)

    # --- Media and identity -------------------------------------------------------------------

    def media_session(self, account: PlatformAccount) -> requests.Session:
        """X DM media URLs need the account's credentials to download."""
        return client.media_session(account)

    def check_connection(self, account: PlatformAccount) -> str:
        user = client.me(account)
        handle = f"@{user.get('username') or user['id']}"
        if str(user["id"]) != account.external_id:
            raise DeliveryError(
                f"The access token belongs to {handle} (user id {user['id']}), not to this "
                f"account's user id {account.external_id}.",
                permanent=True,
            )
        return handle


def _parses_as_json(token: str) -> bool:
    """``123``, ``true``: of X's alphabet, yet JSON (never a webhook body, which is an object;
    refused all the same)."""
    try:
        decode_json(token.encode())
    except PayloadError:
        return False
    return True


def _single_account_secret() -> str:
    """Without X_CONSUMER_SECRET, the consumer secret of the connected X accounts when they all
    share one (one app) — the only CRC answer that needs the database."""
    secrets = {
        (account.credentials or {}).get("consumer_secret", "")
        for account in PlatformAccount.objects.filter(platform=Platform.X)
    } - {""}
    return secrets.pop() if len(secrets) == 1 else ""


def _own_outbound_file(url: str, limit: int) -> tuple[bytes, str] | None:
    """The bytes of an attachment an agent uploaded to Parley, when ``url`` is Parley's own
    signed outbound-media link (no HTTP round trip to ourselves)."""
    from django.urls import Resolver404, resolve

    from inbox.composer import attachment_for_token

    try:
        match = resolve(urlparse(url).path)
    except Resolver404:
        return None
    if match.view_name != "inbox:outbound-media":
        return None
    found = attachment_for_token(match.kwargs.get("token", ""))
    if found is None or not found.file:
        return None
    if found.file.size > limit:
        raise DeliveryError(
            f"{found.name or 'The attachment'} is over X's {limit // (1024 * 1024)} MB limit.",
            permanent=True,
        )
    with found.file.open("rb") as handle:
        content = handle.read()
    content_type = found.content_type or mimetypes.guess_type(found.name)[0] or ""
    return content, content_type or "application/octet-stream"
