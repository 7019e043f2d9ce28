"""LinkedIn Company Pages: comments and mentions on the Page's posts, answered publicly.

LinkedIn has no public API for a Company Page's private messages, and its member Messages API
is limited to approved partners; Parley does not automate LinkedIn sessions (LinkedIn's terms
forbid it). What a brand can use is the Organization Social Action Notifications webhook and the
comments API — that is what this connector does. See docs/linkedin.md.

Account set-up: ``connect_account linkedin --external-id urn:li:organization:ID
--credential access_token=… --credential client_secret=…``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

from connectors import http, webhooks
from connectors.base import (
    Connector,
    DeliveryError,
    Event,
    HandshakeReply,
    HistoryPage,
    Inspection,
    OutboundMessage,
    PlatformRules,
    SendResult,
    Verdict,
    WebhookRejected,
)
from connectors.linkedin import history, parser
from connectors.linkedin.errors import classify
from inbox.models import Message, Platform, PlatformAccount

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-LI-Signature"
SIGNATURE_PREFIX = "hmacsha256="
# LinkedIn's challengeCode is a UUID (REFERENCE §7); nothing else is signed.
CHALLENGE_CODE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
# The Marketing API version the requests are written against (LinkedIn-Version: YYYYMM); an
# account option `api_version` overrides it when LinkedIn sunsets this one.
API_VERSION = "202510"
RESTLI_VERSION = "2.0.0"


def challenge_response(secret: str, code: str) -> dict[str, str]:
    return {"challengeCode": code, "challengeResponse": webhooks.hmac_sha256(secret, code.encode())}


def check_signature(
    signature: str | None, body: bytes, candidates: list[webhooks.Signer]
) -> Verdict:
    """``X-LI-Signature``: the one documented reading (REFERENCE §7), the bare hex
    HMAC-SHA256 of ``"hmacsha256=" + body``. The undocumented readings (the body alone, the
    prefix in the header) are not accepted: the body-alone one made the challenge answer —
    HMAC of the challengeCode — the signature of a body equal to that code."""
    return webhooks.check_signature(
        signature, SIGNATURE_PREFIX.encode() + body, candidates, prefix=""
    )


class LinkedInConnector(Connector):
    platform = Platform.LINKEDIN
    option_keys = frozenset({"api_version"})
    rules = PlatformRules(
        reply_window=None,
        # LinkedIn's comment box takes 1,250 characters.
        max_text_length=1250,
        attachments_per_message=0,
        max_group_participants=None,
        # No messaging API: nothing can be sent to several people at once.
        max_recipients_per_send=0,
        business_can_initiate=False,
        read_receipts=False,
        reactions=False,
        comment_replies=True,
        direct_messages=False,
    )

    # --- Webhooks -----------------------------------------------------------------------------

    webhook_methods = ("GET", "POST")
    inspects_from_cache = True

    def answer_handshake(self, query: Mapping[str, str]) -> HandshakeReply:
        """The URL validation: ``challengeResponse`` = hex HMAC of the code with the secret."""
        code = query.get("challengeCode")
        if not code:
            raise WebhookRejected(400, "challengeCode missing")
        if not CHALLENGE_CODE.fullmatch(code):
            # LinkedIn sends a UUID; signing anything else would sign text of our caller's.
            log.warning("LinkedIn challenge refused: challengeCode is not a UUID")
            raise WebhookRejected(400, "challengeCode is not a UUID")
        # LinkedIn wants the answer within 3 s: settings first, no query when set.
        secret = settings.LINKEDIN_CLIENT_SECRET or _single_account_secret()
        if not secret:
            raise WebhookRejected(503, "LINKEDIN_CLIENT_SECRET is not configured")
        return HandshakeReply(json.dumps(challenge_response(secret, code)), "application/json")

    def inspect_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        payload: dict[str, Any] | None,
        *,
        account_id: int | None,
    ) -> Inspection:
        organizations = parser.notification_accounts(payload) if payload else []
        accounts = webhooks.named_accounts(self.platform, organizations)
        candidates = webhooks.signers(settings.LINKEDIN_CLIENT_SECRET, accounts, "client_secret")
        return Inspection(
            source=self.platform,
            # One organisation named: the archive row points at it.
            account=accounts[0] if len(organizations) == 1 and accounts else None,
            verdict=check_signature(headers.get(SIGNATURE_HEADER), body, candidates),
        )

    def parse(self, body: bytes, *, account: PlatformAccount | None) -> list[Event]:
        return parser.parse_webhook(body)

    # --- Public replies -----------------------------------------------------------------------

    def headers(self, account: PlatformAccount) -> dict[str, str]:
        token = (account.credentials or {}).get("access_token", "")
        if not token:
            raise DeliveryError(
                "This LinkedIn organisation has no access token: reconnect it.",
                permanent=True,
                auth=True,
            )
        return {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": str((account.options or {}).get("api_version") or API_VERSION),
            "X-Restli-Protocol-Version": RESTLI_VERSION,
        }

    def send(self, account: PlatformAccount, message: OutboundMessage) -> SendResult:
        """A public reply under the customer's comment (comments API, nested comment)."""
        post = message.thread_external_id
        if message.conversation_kind != "comment" or not post:
            raise DeliveryError(
                "LinkedIn offers no messaging API: Parley can only reply to comments.",
                permanent=True,
                code="unsupported",
            )
        parent = self._parent_comment(account, post, message.reply_to_external_id)
        target = parent or post
        body: dict[str, Any] = {
            "actor": account.external_id,
            "object": post,
            "message": {"text": message.text},
        }
        if parent:
            body["parentComment"] = parent
        response = http.request(
            "POST",
            f"{settings.LINKEDIN_API_URL.rstrip('/')}/rest/socialActions/"
            f"{quote(target, safe='')}/comments",
            classify=classify,
            json=body,
            headers=self.headers(account),
        )
        return SendResult(external_id=_created_comment_urn(response, post), thread_external_id=post)

    def _parent_comment(
        self, account: PlatformAccount, post: str, reply_to: str | None
    ) -> str | None:
        """The comment to answer: the one replied to, else the latest customer comment on the
        post. LinkedIn nests one level only, so a reply to a reply goes under its parent."""
        query = Message.objects.filter(
            account=account,
            conversation__external_thread_id=post,
            direction=Message.Direction.INBOUND,
            is_deleted=False,
        )
        if reply_to:
            query = query.filter(external_id=reply_to)
        found = query.order_by("-sent_at", "-id").values_list("external_id", "metadata").first()
        if found is None:
            return None
        urn, metadata = found
        parent = str((metadata or {}).get("comment_object") or "")
        if parent.startswith("urn:li:comment:"):
            return parent
        return urn if urn and urn.startswith("urn:li:comment:") else None

    def imports_history(self, account: PlatformAccount) -> bool:
        return bool((account.credentials or {}).get("access_token"))

    def history_page(
        self, account: PlatformAccount, cursor: dict[str, Any], since: datetime
    ) -> HistoryPage:
        return history.history_page(account, cursor, since, self.headers(account))

    def check_connection(self, account: PlatformAccount) -> str:
        organization_id = account.external_id.rsplit(":", 1)[-1]
        response = http.request(
            "GET",
            f"{settings.LINKEDIN_API_URL.rstrip('/')}/rest/organizations/{organization_id}",
            classify=classify,
            headers=self.headers(account),
        )
        data = response.json()
        name = data.get("localizedName") or data.get("vanityName") or account.external_id
        return f"LinkedIn organisation {name}"


def _created_comment_urn(response: requests.Response, post: str) -> str:
    """The new comment's URN: in the body (``commentUrn`` / ``$URN``), or from its id."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    for key in ("commentUrn", "$URN"):
        if isinstance(data, dict) and data.get(key):
            return str(data[key])
    comment_id = (data.get("id") if isinstance(data, dict) else None) or response.headers.get(
        "x-restli-id"
    )
    if not comment_id:
        raise DeliveryError("LinkedIn accepted the comment but returned no id.", permanent=False)
    comment_id = str(comment_id)
    if comment_id.startswith("urn:li:comment:"):
        return comment_id
    return f"urn:li:comment:({post},{comment_id})"


def _single_account_secret() -> str:
    secrets = {
        (account.credentials or {}).get("client_secret", "")
        for account in PlatformAccount.objects.filter(platform=Platform.LINKEDIN)
    } - {""}
    return secrets.pop() if len(secrets) == 1 else ""
