"""The sandbox: a simulated platform for the demo and for tests, with a real signed webhook.

Webhook ``POST /webhooks/sandbox/<account id>/`` with
``X-Sandbox-Signature: sha256=<hex HMAC-SHA256(account secret, raw body)>`` and one event per
body::

    {"id": "m1", "sender": {"id": "u1", "name": "Ada"}, "text": "Hi", "timestamp": 1700000000000}

Optional keys: ``"type"`` — ``"message"`` (the default), ``"delivery"`` or ``"read"`` (with
``"message_ids": [...]`` naming Parley's sent messages), and ``"attachments": [{"type": "image",
"url": "..."}]``. Sends are recorded in ``SandboxOutbox``; the account option
``simulate_failure`` (``"transient"`` or ``"permanent"``) makes sends fail like a platform would.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors import webhooks
from connectors.base import (
    Connector,
    DeliveryError,
    Event,
    IncomingAttachment,
    Inspection,
    MessageReceived,
    MessagesDelivered,
    MessagesRead,
    OutboundMessage,
    PayloadError,
    Person,
    PlatformRules,
    SendResult,
    WebhookRejected,
    decode_json,
)
from inbox.models import Platform, PlatformAccount

SIGNATURE_HEADER = "X-Sandbox-Signature"
ATTACHMENT_KINDS = {"image", "video", "audio", "file", "sticker", "link"}


def sign(secret: str, body: bytes) -> str:
    """The signature header value for a body (used by the simulator and tests)."""
    return "sha256=" + webhooks.hmac_sha256(secret, body)


class SandboxConnector(Connector):
    platform = Platform.SANDBOX
    option_keys = frozenset({"simulate_failure"})
    rules = PlatformRules(
        reply_window=None,
        max_text_length=5000,
        attachments_per_message=1,
        max_recipients_per_send=50,
        business_can_initiate=True,
        read_receipts=True,
        reactions=False,
    )

    def inspect_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        payload: dict[str, Any] | None,
        *,
        account_id: int | None,
    ) -> Inspection:
        # The URL names the account (`/webhooks/sandbox/<account id>/`); only its secret signs.
        account = PlatformAccount.objects.filter(pk=account_id, platform=self.platform).first()
        if account is None:
            raise WebhookRejected(404, "unknown sandbox account")
        candidates = webhooks.signers("", [account], "secret")
        return Inspection(
            source=self.platform,
            account=account,
            verdict=webhooks.check_signature(headers.get(SIGNATURE_HEADER), body, candidates),
        )

    def parse(self, body: bytes, *, account: PlatformAccount | None) -> list[Event]:
        if account is None:
            raise PayloadError("sandbox webhook without an account")
        data = decode_json(body)
        try:
            kind = data.get("type", "message")
            when = _from_ms(data.get("timestamp"))
            common: dict[str, Any] = {
                "platform": self.platform,
                "account_external_id": account.external_id,
                "timestamp": when,
            }
            if kind == "message":
                sender = data["sender"]
                return [
                    MessageReceived(
                        **common,
                        external_id=str(data["id"]),
                        sender=Person(
                            platform_user_id=str(sender["id"]),
                            name=str(sender.get("name") or ""),
                            username=str(sender.get("username") or ""),
                        ),
                        text=str(data.get("text") or ""),
                        attachments=tuple(_attachments(data.get("attachments") or [])),
                        reply_to_external_id=data.get("reply_to"),
                    )
                ]
            if kind in ("delivery", "read"):
                event_class = MessagesDelivered if kind == "delivery" else MessagesRead
                return [
                    event_class(
                        **common,
                        counterpart_id=str(data["recipient"]["id"]),
                        external_ids=tuple(str(i) for i in data.get("message_ids") or ()),
                    )
                ]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PayloadError(f"not a sandbox event: {exc!r}") from exc
        # A well-formed event type we do not use: acknowledged and ignored.
        return []

    def send(self, account: PlatformAccount, message: OutboundMessage) -> SendResult:
        from connectors.models import SandboxOutbox

        failure = account.options.get("simulate_failure")
        if failure == "permanent":
            raise DeliveryError("The sandbox refused this message.", permanent=True, code="refused")
        if failure == "transient":
            raise DeliveryError(
                "The sandbox is temporarily unavailable.", permanent=False, retry_after=1
            )
        external_id = f"sbx-{uuid.uuid4().hex}"
        SandboxOutbox.objects.create(
            account=account,
            external_id=external_id,
            recipient_id=message.recipient_id or message.thread_external_id or "",
            text=message.text,
            payload={
                "client_ref": message.client_ref,
                "quick_replies": list(message.quick_replies),
                "attachments": [a.url for a in message.attachments],
            },
        )
        return SendResult(external_id=external_id)

    def check_connection(self, account: PlatformAccount) -> str:
        if not account.credentials.get("secret"):
            raise DeliveryError("The sandbox account has no webhook secret.", permanent=True)
        return f"Sandbox account {account.name} ({account.external_id})"


def _from_ms(value: Any) -> datetime:
    if value is None:
        return datetime.now(tz=UTC)
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def _attachments(items: list[dict[str, Any]]) -> list[IncomingAttachment]:
    return [
        IncomingAttachment(
            kind=item["type"] if item.get("type") in ATTACHMENT_KINDS else "file",
            url=str(item.get("url") or ""),
            content_type=str(item.get("content_type") or ""),
            name=str(item.get("name") or ""),
        )
        for item in items
    ]
