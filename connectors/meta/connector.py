"""The connector Messenger and Instagram share: webhook, parser, Send API, profiles, sender
actions and the identity check. Subclasses set the platform, rules and Graph paths."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from connectors.base import (
    Connector,
    DeliveryError,
    Event,
    HandshakeReply,
    HistoryPage,
    Inspection,
    OutboundMessage,
    SendResult,
    SendWindow,
)
from connectors.meta import graph, history, parsing, webhook
from inbox.models import PlatformAccount

# The reply policy's window → the Send API's messaging type (and tag). A send with no window
# (a platform rule the policy did not need) goes as a response, Meta's default for replies.
MESSAGING_TYPES: dict[SendWindow, dict[str, str]] = {
    SendWindow.NONE: {"messaging_type": "RESPONSE"},
    SendWindow.WITHIN: {"messaging_type": "RESPONSE"},
    SendWindow.EXTENDED_AGENT: {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"},
}
# Send API attachment types (Attachment.Kind → Meta); others go as files.
ATTACHMENT_TYPES = {"image": "image", "video": "video", "audio": "audio", "sticker": "image"}
# Meta allows 10 audio/video sends per second per account (300 for everything else).
AV_RATE_PER_SECOND = 10
# And 750 private replies an hour per Page or Instagram account (REFERENCE §5).
PRIVATE_REPLIES_PER_HOUR = 750
QUICK_REPLY_TITLE_LIMIT = 20
QUICK_REPLIES_MAX = 13


class MetaConnector(Connector):
    # Non-secret account settings from `connect_account --credential KEY=VALUE`.
    option_keys = frozenset({"human_agent", "typing_indicators", "graph_url"})
    token_key: ClassVar[str]
    # Graph edge a comment reply is posted to (`replies` on Instagram, `comments` on Facebook).
    comment_reply_edge: ClassVar[str]

    # --- inbound -------------------------------------------------------------------------------

    # Messenger and Instagram share one endpoint (`/webhooks/meta/`): the body says which.
    webhook_methods = ("GET", "POST")
    inspects_from_cache = True

    def answer_handshake(self, query: Mapping[str, str]) -> HandshakeReply:
        return webhook.handshake(query)

    def inspect_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        payload: dict[str, Any] | None,
        *,
        account_id: int | None,
    ) -> Inspection:
        return webhook.inspect(headers, body, payload)

    def parse(self, body: bytes, *, account: PlatformAccount | None) -> list[Event]:
        # The body says which platform and which accounts (object, entry[].id).
        return parsing.parse(body)

    def imports_history(self, account: PlatformAccount) -> bool:
        return bool(graph.token(account))

    def history_page(
        self, account: PlatformAccount, cursor: dict[str, Any], since: datetime
    ) -> HistoryPage:
        self._require_token(account)
        return history.history_page(account, cursor, since)

    # --- outbound ------------------------------------------------------------------------------

    def messages_path(self, account: PlatformAccount) -> str:
        return f"{account.external_id}/messages"

    def _post_message(
        self, account: PlatformAccount, body: dict[str, Any], *, av: bool = False
    ) -> dict:
        graph.throttle(account, self.rules.send_rate_per_second)
        if av:
            graph.throttle(account, AV_RATE_PER_SECOND, bucket="av")
        return graph.call(account, "POST", self.messages_path(account), json=body)

    def _require_token(self, account: PlatformAccount) -> None:
        if not graph.token(account):
            raise DeliveryError(
                f"This account has no {self.token_key}: an admin must reconnect it.",
                permanent=True,
                auth=True,
                code="no_token",
            )

    def send(self, account: PlatformAccount, message: OutboundMessage) -> SendResult:
        self._require_token(account)
        private_reply_to = message.metadata.get("private_reply_to")
        if message.conversation_kind == "comment" and not private_reply_to:
            return self._comment_reply(account, message)
        if private_reply_to:
            # A private reply: one message to the commenter, addressed by the comment.
            wait = graph.claim_in_window(
                account, "private-replies", PRIVATE_REPLIES_PER_HOUR, window_seconds=3600
            )
            if wait:
                raise DeliveryError(
                    f"Meta allows {PRIVATE_REPLIES_PER_HOUR} private replies an hour per "
                    f"account; this one goes out in {max(1, round(wait / 60))} min.",
                    permanent=False,
                    retry_after=wait,
                    code="private_reply_rate",
                )
            data = self._post_message(
                account,
                {
                    "recipient": {"comment_id": str(private_reply_to)},
                    "message": {"text": message.text, "metadata": message.client_ref},
                },
            )
            return SendResult(external_id=str(data.get("message_id") or data.get("id") or ""))
        if not message.recipient_id:
            raise DeliveryError("This conversation has no recipient.", permanent=True)
        envelope: dict[str, Any] = {"recipient": {"id": message.recipient_id}}
        envelope.update(MESSAGING_TYPES[SendWindow(message.window)])
        if message.reply_to_external_id:
            envelope["reply_to"] = {"mid": message.reply_to_external_id}
        # A Send API message carries text or one attachment: attachments go first, each its
        # own call; every part carries our client_ref so its echo is recognised.
        parts: list[tuple[dict[str, Any], bool]] = []
        for index, attachment in enumerate(message.attachments, start=1):
            kind = ATTACHMENT_TYPES.get(attachment.kind, "file")
            parts.append(
                (
                    {
                        "attachment": {
                            "type": kind,
                            "payload": {"url": attachment.url, "is_reusable": True},
                        },
                        "metadata": f"{message.client_ref}#{index}",
                    },
                    kind in ("audio", "video"),
                )
            )
        if message.text or not parts:
            text_part: dict[str, Any] = {"text": message.text, "metadata": message.client_ref}
            if message.quick_replies:
                text_part["quick_replies"] = [
                    {
                        "content_type": "text",
                        "title": title[:QUICK_REPLY_TITLE_LIMIT],
                        "payload": title,
                    }
                    for title in message.quick_replies[:QUICK_REPLIES_MAX]
                ]
            parts.append((text_part, False))
        if len(parts) == 1:
            data = self._post_message(account, {**envelope, "message": parts[0][0]}, av=parts[0][1])
            return SendResult(external_id=str(data.get("message_id") or ""))
        external_id = ""
        done = graph.parts_sent(message.client_ref)
        for index, (part, av) in enumerate(parts):
            if index in done:
                # Accepted before a later part failed: not sent twice on the retry.
                external_id = done[index]
                continue
            data = self._post_message(account, {**envelope, "message": part}, av=av)
            external_id = str(data.get("message_id") or external_id)
            graph.part_sent(message.client_ref, index, external_id)
        return SendResult(external_id=external_id)

    def _comment_reply(self, account: PlatformAccount, message: OutboundMessage) -> SendResult:
        target = message.reply_to_external_id or message.thread_external_id
        if not target:
            raise DeliveryError("No comment to reply to.", permanent=True)
        graph.throttle(account, self.rules.send_rate_per_second)
        data = graph.call(
            account,
            "POST",
            f"{target}/{self.comment_reply_edge}",
            json={"message": message.text},
        )
        return SendResult(external_id=str(data.get("id") or ""))

    def sender_action(self, account: PlatformAccount, recipient_id: str, action: str) -> None:
        if action not in ("mark_seen", "typing_on", "typing_off"):
            raise ValueError(f"unknown sender action {action!r}")
        self._require_token(account)
        self._post_message(account, {"recipient": {"id": recipient_id}, "sender_action": action})
