"""What some platforms say that the core ingestion services do not cover: echoes that carry no
client reference, read receipts naming the last message read, typing, group joins and leaves,
and activity on the account's posts. Handlers of normalized events (``connectors.base``), listed
in ``inbox.ingest``'s dispatch tables; connectors only parse, never write.

Like ``inbox.services``, live pushes happen on commit.
"""

from __future__ import annotations

import dataclasses
import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest

from connectors import base as events
from connectors.models import LinkedInNotification, LinkedInPost
from inbox import events as domain_events
from inbox import live, services
from inbox.models import Conversation, ConversationEvent, Message, PlatformAccount

log = logging.getLogger(__name__)


# --- Echoes -----------------------------------------------------------------------------------


def record_echo(
    *, account: PlatformAccount, event: events.MessageEchoed, history: bool = False
) -> Message | None:
    """A message the account sent. Where the platform hands no client reference back (X,
    LinkedIn), Parley's own send is matched by its platform id once the send has answered; a
    copy that beats the send's answer (a fast webhook) is matched to the message still being
    sent in the same thread with the same text — otherwise it would become a second message,
    and the send's own id would then collide. A message waiting for a retry (its send timed out,
    but the platform had taken it) is matched too: it becomes sent, so the retry never sends it
    twice. An echo naming no recipient (a group, a post) is filed under its thread's contact."""
    if event.returns_client_ref:
        return services.record_echo(account=account, event=event, history=history)
    if not event.recipient.platform_user_id:
        conversation = Conversation.objects.filter(
            account=account, external_thread_id=event.thread_external_id
        ).first()
        identity = conversation.participants.first() if conversation is not None else None
        if identity is None:
            log.info(
                "echo %s in unknown thread %s ignored", event.external_id, event.thread_external_id
            )
            return None
        event = dataclasses.replace(
            event, recipient=events.Person(platform_user_id=identity.platform_user_id)
        )
    if event.thread_external_id and not event.client_ref:
        in_flight = _in_flight_copy(account, event)
        if in_flight is not None:
            event = dataclasses.replace(event, client_ref=in_flight.client_ref)
    message = services.record_echo(account=account, event=event, history=history)
    if event.client_ref and message.error:
        # "Retrying: …" no longer applies: the platform has the message.
        Message.objects.filter(pk=message.pk, status=Message.Status.SENT).update(error="")
    return message


def _in_flight_copy(account: PlatformAccount, event: events.MessageEchoed) -> Message | None:
    if Message.objects.filter(account=account, external_id=event.external_id).exists():
        return None
    return (
        Message.objects.filter(
            account=account,
            direction=Message.Direction.OUTBOUND,
            external_id__isnull=True,
            client_ref__isnull=False,
            status__in=[Message.Status.QUEUED, Message.Status.SENDING],
            conversation__external_thread_id=event.thread_external_id,
            text=event.text,
        )
        .order_by("id")
        .first()
    )


# --- Read receipts ----------------------------------------------------------------------------


def mark_read(*, account: PlatformAccount, event: events.MessagesRead) -> int:
    """Outbound messages read. A receipt naming the last message read (X) covers every
    outbound message up to it: by our clock for the message we know, by the platform's
    timestamp otherwise."""
    if not event.up_to_external_id:
        return services.mark_read(account=account, event=event)
    watermark = event.watermark
    known = (
        Message.objects.filter(account=account, external_id=event.up_to_external_id)
        .values_list("sent_at", flat=True)
        .first()
    )
    if known is not None:
        watermark = max(known, watermark) if watermark else known
    if watermark is None:
        return 0
    return services.mark_read(
        account=account,
        event=dataclasses.replace(event, external_ids=(), watermark=watermark),
    )


# --- Typing -----------------------------------------------------------------------------------


def show_typing(*, account: PlatformAccount, event: events.Typing) -> bool:
    """Live-only: pushed to the agents who see the account, remembered on the conversation as
    "typing at" (so a page opened a second later can still show it), never a message."""
    conversation = Conversation.objects.filter(
        account=account, external_thread_id=event.thread_external_id
    ).first()
    if conversation is None:
        return False
    at = event.timestamp.isoformat()
    Conversation.objects.filter(pk=conversation.pk).update(
        metadata={**conversation.metadata, "contact_typing_at": at}
    )
    payload = live.typing(
        conversation,
        by=event.by.platform_user_id,
        name=event.by.name or event.by.username,
        at=event.timestamp,
    )
    live.to_accounts_on_commit([account.pk], payload)
    return True


# --- Groups -----------------------------------------------------------------------------------


def record_participants_change(
    *, account: PlatformAccount, event: events.ParticipantsChanged
) -> Message | None:
    """A join or leave in a group conversation, shown as a system message (once per event id)."""
    if Message.objects.filter(account=account, external_id=event.external_id).exists():
        return None
    people = [p for p in event.participants if p.platform_user_id != account.external_id]
    anchor = people[0] if people else event.by
    conversation = Conversation.objects.filter(
        account=account, external_thread_id=event.thread_external_id
    ).first()
    if conversation is None:
        if anchor is None or anchor.platform_user_id == account.external_id:
            return None
        identity = services.get_or_create_identity(account=account, person=anchor)
        conversation, _ = services.find_or_open_conversation(
            account=account,
            identity=identity,
            kind=Conversation.Kind.GROUP,
            thread_external_id=event.thread_external_id,
            at=event.timestamp,
        )
    identities = [services.get_or_create_identity(account=account, person=p) for p in people]
    names = ", ".join(_display(p) for p in event.participants) or "Someone"
    if event.joined:
        conversation.participants.add(*identities)
        text = f"{names} joined the conversation"
        if event.by and event.by.platform_user_id not in {
            p.platform_user_id for p in event.participants
        }:
            text += f" (added by {_display(event.by)})"
    else:
        conversation.participants.remove(*identities)
        text = f"{names} left the conversation"
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                account=account,
                direction=Message.Direction.INBOUND,
                sender_kind=Message.SenderKind.SYSTEM,
                external_id=event.external_id,
                text=text,
                status=Message.Status.RECEIVED,
                metadata=dict(event.metadata),
                sent_at=event.timestamp,
            )
    except IntegrityError:
        return None
    domain_events.record(
        conversation,
        ConversationEvent.Kind.MESSAGE_RECEIVED,
        data={"message": message.pk, "system": True},
        at=event.timestamp,
    )
    return message


def _display(person: events.Person) -> str:
    if person.username:
        return f"@{person.username}"
    return person.name or person.platform_user_id


# --- Post activity ----------------------------------------------------------------------------


def claim_post_activity(*, account: PlatformAccount, event: events.PostActivity) -> bool:
    """Record one activity on a post unless it was recorded before. Returns whether it is new
    (the caller then applies its inner event and counts it)."""
    try:
        with transaction.atomic():
            LinkedInNotification.objects.create(
                account=account,
                notification_id=event.activity_id,
                action=event.action,
                post_urn=event.post_external_id,
                actor_urn=event.actor_external_id,
                occurred_at=event.timestamp,
            )
    except IntegrityError:
        log.info("post activity %s already applied", event.activity_id)
        return False
    return True


def count_post_activity(*, account: PlatformAccount, event: events.PostActivity) -> None:
    """Move the post's counter, and show the counts on the post's comment conversation."""
    if not event.post_external_id:
        return
    post, _ = LinkedInPost.objects.get_or_create(
        account=account,
        post_urn=event.post_external_id,
        defaults={"text": event.post_text, "last_activity_at": event.timestamp},
    )
    updates: dict = {}
    if event.post_text and not post.text:
        updates["text"] = event.post_text
    if event.timestamp > post.last_activity_at:
        updates["last_activity_at"] = event.timestamp
    if event.counter:
        updates[event.counter] = Greatest(F(event.counter) + event.step, 0)
    if updates:
        LinkedInPost.objects.filter(pk=post.pk).update(**updates)
    _show_counts_on_conversation(account, event.post_external_id)


def _show_counts_on_conversation(account: PlatformAccount, post_id: str) -> None:
    """The post's comment conversation carries its counts, so the conversation page shows them
    without knowing the platform (``metadata["post_activity"]``)."""
    post = LinkedInPost.objects.filter(account=account, post_urn=post_id).first()
    conversation = Conversation.objects.filter(account=account, external_thread_id=post_id).first()
    if post is None or conversation is None:
        return
    activity = {
        "likes": post.likes,
        "shares": post.shares,
        "comments": post.comments,
        "mentions": post.mentions,
        "text": post.text[:300],
    }
    if conversation.metadata.get("post_activity") != activity:
        Conversation.objects.filter(pk=conversation.pk).update(
            metadata={**conversation.metadata, "post_activity": activity}
        )
