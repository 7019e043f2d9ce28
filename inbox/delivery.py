"""Outbound delivery as a state machine: queued → sending → sent (→ delivered → read), or
failed with a reason an agent can read.

A message is claimed with a conditional UPDATE, so two workers never send it twice; transient
failures are retried with backoff (honouring the platform's Retry-After); permanent refusals are
never retried; an invalid token parks the account's messages until it is re-authorised.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from connectors.base import DeliveryError, OutboundAttachment, OutboundMessage
from connectors.registry import get_connector
from inbox import events as domain_events
from inbox import services
from inbox.media import upload_reader
from inbox.models import Contact, ContactIdentity, ConversationEvent, Message, PlatformAccount
from inbox.send_refusals import clear_send_refusal, remember_send_refusal

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A send that has not finished after this long is assumed lost (worker died) and is retried.
SENDING_LEASE = timedelta(minutes=2)


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Seconds before the next try: the platform's word if it gave one, else exponential."""
    if retry_after is not None:
        return max(1.0, float(retry_after))
    return float(min(2 ** (attempt + 1), 15 * 60))


def outbound_for(message: Message) -> OutboundMessage:
    conversation = message.conversation
    recipient = (
        ContactIdentity.objects.filter(account_id=message.account_id, contact=conversation.contact)
        .values_list("platform_user_id", flat=True)
        .first()
    )
    return OutboundMessage(
        text=message.text,
        client_ref=message.client_ref or "",
        recipient_id=recipient,
        thread_external_id=conversation.external_thread_id,
        conversation_kind=conversation.kind,
        attachments=tuple(
            OutboundAttachment(
                kind=a.kind,
                url=a.url,
                content_type=a.content_type,
                name=a.name,
                read=upload_reader(a.url, a),
            )
            for a in message.attachments.all()
        ),
        quick_replies=tuple(message.metadata.get("quick_replies") or ()),
        window=message.metadata.get("window", ""),
        reply_to_external_id=message.reply_to.external_id if message.reply_to else None,
        metadata=message.metadata,
    )


def deliver(message_id: int) -> str | None:
    """Try to send one queued message. Returns the message's status afterwards, or None when
    there was nothing to do (already claimed, sent, or not due). When a retry is due, returns
    "queued" and the caller schedules it at ``next_attempt_at``."""
    now = timezone.now()
    claimed = Message.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        pk=message_id,
        status=Message.Status.QUEUED,
    ).update(
        status=Message.Status.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=now + SENDING_LEASE,
    )
    if not claimed:
        return None
    message = Message.objects.select_related(
        "conversation", "conversation__account", "conversation__contact", "reply_to"
    ).get(pk=message_id)
    account = message.conversation.account
    if account.status == PlatformAccount.Status.NEEDS_REAUTH:
        _park(message, "Waiting: the account needs re-authorisation by an admin.")
        return Message.Status.QUEUED
    if message.is_promotional and not _still_opted_in(message):
        # Consent is read again at the last moment: an opt-out after the message was queued
        # (a campaign's turn, an API send) stops it; never retried.
        return _failed_attempt(
            message,
            account,
            DeliveryError(
                "Not sent: the contact has not opted in to promotional messages.", permanent=True
            ),
        )
    outbound = outbound_for(message)
    try:
        result = get_connector(account.platform).send(account, outbound)
    except DeliveryError as exc:
        if exc.code == "dm_refused":
            remember_send_refusal(account=account, outbound=outbound, reason=exc.reason)
        return _failed_attempt(message, account, exc)
    except Exception as exc:  # noqa: BLE001 - a connector bug is retried, then reported
        log.exception("send of message %s crashed", message_id)
        return _failed_attempt(
            message, account, DeliveryError(f"Unexpected error: {exc}", permanent=False)
        )
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.SENT,
        external_id=result.external_id,
        next_attempt_at=None,
        error="",
    )
    message.status, message.external_id = Message.Status.SENT, result.external_id
    clear_send_refusal(account=account, outbound=outbound)
    if result.thread_external_id and not message.conversation.external_thread_id:
        type(message.conversation).objects.filter(pk=message.conversation_id).update(
            external_thread_id=result.thread_external_id
        )
    domain_events.record(
        message.conversation,
        ConversationEvent.Kind.MESSAGE_UPDATED,
        data={"message": message.pk, "status": Message.Status.SENT},
    )
    return Message.Status.SENT


def _still_opted_in(message: Message) -> bool:
    return Contact.objects.filter(
        pk=message.conversation.contact_id, marketing_consent=Contact.Consent.OPTED_IN
    ).exists()


def _park(message: Message, reason: str) -> None:
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.QUEUED, next_attempt_at=None, error=reason
    )


def _failed_attempt(message: Message, account: PlatformAccount, exc: DeliveryError) -> str:
    if exc.auth:
        services.mark_account_needs_reauth(account=account, reason=exc.reason)
        _park(message, "Waiting: the account needs re-authorisation by an admin.")
        return Message.Status.QUEUED
    if exc.permanent or message.attempts >= MAX_ATTEMPTS:
        reason = (
            exc.reason
            if exc.permanent
            else f"{exc.reason} (gave up after {message.attempts} tries)"
        )
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.FAILED, error=reason, next_attempt_at=None
        )
        domain_events.record(
            message.conversation,
            ConversationEvent.Kind.MESSAGE_UPDATED,
            data={"message": message.pk, "status": Message.Status.FAILED, "error": reason},
        )
        log.info("message %s failed: %s", message.pk, reason)
        return Message.Status.FAILED
    delay = backoff(message.attempts, exc.retry_after)
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.QUEUED,
        error=f"Retrying: {exc.reason}",
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    log.info("message %s will be retried in %.0f s: %s", message.pk, delay, exc.reason)
    return Message.Status.QUEUED


def resume_account(account: PlatformAccount) -> int:
    """After re-authorisation: the account's parked messages are due again."""
    return Message.objects.filter(
        account=account, status=Message.Status.QUEUED, next_attempt_at__isnull=True
    ).update(error="")


def due_messages(now=None) -> list[int]:
    """Queued messages whose time has come, and sends whose lease ran out (a lost worker)."""
    now = now or timezone.now()
    Message.objects.filter(status=Message.Status.SENDING, next_attempt_at__lt=now).update(
        status=Message.Status.QUEUED, next_attempt_at=now
    )
    return list(
        Message.objects.filter(
            Q(next_attempt_at__lte=now)
            | Q(next_attempt_at__isnull=True, created_at__lte=now - timedelta(seconds=30)),
            status=Message.Status.QUEUED,
        )
        .exclude(account__status=PlatformAccount.Status.NEEDS_REAUTH)
        .values_list("pk", flat=True)[:1000]
    )
