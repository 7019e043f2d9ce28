"""X (Twitter) Direct Messages: webhooks (Account Activity API and X Activity API), polling of
``GET /2/dm_events`` for accounts without webhooks, and sending through the v2 DM endpoints.

Account set-up: ``connect_account x --external-id USER_ID --credential access_token=…
--credential consumer_secret=… [--credential mode=webhook|polling]``. ``mode`` is an option
(readable), the rest are encrypted credentials. See docs/x.md.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests
from django.conf import settings

from connectors import webhooks
from connectors.base import (
    Connector,
    DeliveryError,
    Event,
    HandshakeReply,
    HistoryPage,
    IncomingAttachment,
    Inspection,
    OutboundAttachment,
    OutboundMessage,
    PayloadError,
    Person,
    PlatformRules,
    PollResult,
    SendResult,
    WebhookRejected,
    decode_json,
)
from connectors.x import client, parser
from inbox.models import Platform, PlatformAccount

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
# X's CRC token: a short random token of the base64 / base64url alphabets. Nothing of this shape
# is a JSON object, so its CRC answer is never the signature of a webhook body.
CRC_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]{1,128}")
# A group DM holds at most 50 people: the account plus 49 others (participant_ids maxItems 49).
MAX_GROUP_PEOPLE = 50
# An X username: 1 to 15 letters, digits and underscores.
HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}")
# A post's text: 280 characters for accounts without a subscription (what Parley assumes).
MAX_POST_LENGTH = 280
# Pages fetched in one polling pass; the rest waits for the next pass (15 requests / 15 min).
MAX_PAGES_PER_POLL = 5


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
        # Mentions of the account are comment threads, answered with a reply post.
        comment_replies=True,
        max_comment_length=MAX_POST_LENGTH,
        # 15 sends per 15 minutes per user.
        send_rate_per_second=15 / 900,
    )

    # --- Webhooks -----------------------------------------------------------------------------

    webhook_methods = ("GET", "POST")
    inspects_from_cache = True

    def answer_handshake(self, query: Mapping[str, str]) -> HandshakeReply:
        """The CRC: ``response_token`` = HMAC of X's token with the consumer secret."""
        token = query.get("crc_token")
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
        return HandshakeReply(json.dumps(crc_response(secret, token)), "application/json")

    def inspect_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        payload: dict[str, Any] | None,
        *,
        account_id: int | None,
    ) -> Inspection:
        account_ids = parser.webhook_account_ids(payload) if payload else []
        accounts = webhooks.named_accounts(self.platform, account_ids)
        candidates = webhooks.signers(settings.X_CONSUMER_SECRET, accounts, "consumer_secret")
        return Inspection(
            source=self.platform,
            # The archive row points at the subscribed account (the first the body names).
            account=next((a for a in accounts if a.external_id == account_ids[0]), None),
            verdict=webhooks.check_signature(
                headers.get(SIGNATURE_HEADER), body, candidates, encoding="base64"
            ),
        )

    def parse(self, body: bytes, *, account: PlatformAccount | None) -> list[Event]:
        return parser.parse_webhook(body)

    # --- Polling ------------------------------------------------------------------------------

    def polls(self, account: PlatformAccount) -> bool:
        return (account.options or {}).get("mode") == "polling"

    def poll(self, account: PlatformAccount) -> PollResult:
        """New DM events since the cursor, newest page first.

        Cursor (``poll_cursor``): ``since_id`` — newest event id fully seen; ``resume_token`` and
        ``run_top_id`` — a pass that stopped mid-way (rate limit, page cap) continues there;
        ``wait_until`` — epoch seconds of X's rate-limit reset: no request before it.
        """
        cursor = dict(account.poll_cursor or {})
        now = time.time()
        if float(cursor.get("wait_until") or 0) > now:
            return PollResult(events=[], cursor=cursor)
        cursor.pop("wait_until", None)
        since = cursor.get("since_id")
        token = cursor.get("resume_token")
        top = cursor.get("run_top_id")
        found: list[Event] = []
        problem = ""
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
                # pass ends here, keeping what it found, and the error is reported instead.
                problem = exc.reason
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
        return PollResult(events=found, cursor=cursor, problem=problem)

    # --- History ------------------------------------------------------------------------------

    def imports_history(self, account: PlatformAccount) -> bool:
        return bool((account.credentials or {}).get("access_token"))

    def history_page(
        self, account: PlatformAccount, cursor: dict[str, Any], since: datetime
    ) -> HistoryPage:
        """One ``GET /2/dm_events`` page (newest first; X keeps the last 30 days). A page that
        reaches back past ``since`` ends the import."""
        response = client.dm_events_page(account, pagination_token=cursor.get("token"))
        page = response.json()
        items = [i for i in page.get("data") or [] if isinstance(i, dict)]
        kept = [i for i in items if (parser.event_time(i) or since) >= since]
        found = parser.parse_dm_events({**page, "data": kept}, account.external_id)
        next_token = (page.get("meta") or {}).get("next_token")
        reached = min((e.timestamp for e in found), default=None)
        done = len(kept) < len(items) or not next_token
        return HistoryPage(
            events=found,
            cursor=None if done else {"token": str(next_token)},
            items=len(kept),
            reached=reached,
        )

    # --- Sending ------------------------------------------------------------------------------

    def send(self, account: PlatformAccount, message: OutboundMessage) -> SendResult:
        if message.conversation_kind == "comment":
            return self._reply_post(account, message)
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
        # A 403 (the contact's DM settings) is DeliveryError(code="dm_refused"): the domain
        # remembers it for the composer.
        response = client.call(account, "POST", path, json=payload)
        data = response.json().get("data") or {}
        event_id = data.get("dm_event_id")
        if not event_id:
            raise DeliveryError("X accepted the DM but returned no event id.", permanent=False)
        return SendResult(
            external_id=str(event_id),
            thread_external_id=str(data.get("dm_conversation_id") or thread or "") or None,
        )

    def _reply_post(self, account: PlatformAccount, message: OutboundMessage) -> SendResult:
        """A public reply under the customer's post: ``POST /2/tweets`` with
        ``reply.in_reply_to_tweet_id`` (the post replied to, else the thread's root post)."""
        target = message.reply_to_external_id or parser.post_id_of_thread(
            message.thread_external_id
        )
        if not target or not target.isdigit():
            raise DeliveryError("No X post to reply to.", permanent=True)
        if message.attachments:
            raise DeliveryError(
                "Parley sends public X replies as text only; send the file by DM.", permanent=True
            )
        if not message.text or len(message.text) > MAX_POST_LENGTH:
            raise DeliveryError(
                f"An X post holds 1 to {MAX_POST_LENGTH} characters; this one has "
                f"{len(message.text)}.",
                permanent=True,
            )
        response = client.call(
            account,
            "POST",
            "/2/tweets",
            json={"text": message.text, "reply": {"in_reply_to_tweet_id": target}},
        )
        post_id = (response.json().get("data") or {}).get("id")
        if not post_id:
            raise DeliveryError("X accepted the post but returned no id.", permanent=False)
        return SendResult(external_id=str(post_id), thread_external_id=message.thread_external_id)

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

    def _media_id(self, account: PlatformAccount, attachment: IncomingAttachment) -> str:
        """X takes media by upload, not by URL: the bytes come from the reader the domain put on
        the attachment (an agent's file from storage, any other URL within the media limits)."""
        if attachment.metadata.get("media_id"):
            return str(attachment.metadata["media_id"])
        read = attachment.read if isinstance(attachment, OutboundAttachment) else None
        if read is None:
            raise DeliveryError(
                "The attachment could not be read: no media reader.", permanent=True
            )
        content, content_type = read(self.rules.max_attachment_bytes)
        return client.upload_dm_media(account, content, content_type)

    # --- Media and identity -------------------------------------------------------------------

    def media_session(self, account: PlatformAccount) -> requests.Session:
        """X DM media URLs need the account's credentials to download."""
        return client.media_session(account)

    def find_person(self, account: PlatformAccount, handle: str) -> Person | None:
        if not HANDLE.fullmatch(handle):
            return None
        user = client.user_by_username(account, handle)
        if user is None:
            return None
        return parser.person_v2(str(user["id"]), {str(user["id"]): user})

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
