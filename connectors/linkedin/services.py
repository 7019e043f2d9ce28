"""Writes for LinkedIn notifications: each applied once (``notificationId``), likes and shares
counted on the post, comments and mentions dispatched to the inbox services as comment
conversations. Registered in ``inbox.ingest``'s dispatch table when the connector loads."""

from __future__ import annotations

import dataclasses
import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest

from connectors.base import MessageEchoed, Person
from connectors.echoes import record_echo_of_own_send
from connectors.linkedin.parser import LinkedInNotificationEvent
from connectors.models import LinkedInNotification, LinkedInPost
from inbox.models import Conversation, PlatformAccount

log = logging.getLogger(__name__)

COUNTERS = {
    "LIKE": ("likes", 1),
    "SHARE": ("shares", 1),
    "COMMENT": ("comments", 1),
    "ADMIN_COMMENT": ("comments", 1),
    "COMMENT_DELETE": ("comments", -1),
    "SHARE_MENTION": ("mentions", 1),
}


def register() -> None:
    from inbox.ingest import register_handler

    register_handler(LinkedInNotificationEvent, apply_notification)


def apply_notification(*, account: PlatformAccount, event: LinkedInNotificationEvent) -> bool:
    """Apply one notification unless it was applied before. Returns whether it was new."""
    try:
        with transaction.atomic():
            LinkedInNotification.objects.create(
                account=account,
                notification_id=event.notification_id,
                action=event.action,
                post_urn=event.post_urn,
                actor_urn=event.actor_urn,
                occurred_at=event.timestamp,
            )
    except IntegrityError:
        log.info("LinkedIn notification %s already applied", event.notification_id)
        return False
    inner = event.inner
    if isinstance(inner, MessageEchoed):
        _record_admin_comment(account, inner)
    elif inner is not None:
        from inbox.ingest import apply_to_account

        apply_to_account(account, [inner])
    if event.post_urn:
        _count(account, event)
    return True


def _count(account: PlatformAccount, event: LinkedInNotificationEvent) -> None:
    post, _ = LinkedInPost.objects.get_or_create(
        account=account,
        post_urn=event.post_urn,
        defaults={"text": event.post_text, "last_activity_at": event.timestamp},
    )
    updates: dict = {}
    if event.post_text and not post.text:
        updates["text"] = event.post_text
    if event.timestamp > post.last_activity_at:
        updates["last_activity_at"] = event.timestamp
    counter = COUNTERS.get(event.action)
    if counter:
        field, step = counter
        updates[field] = Greatest(F(field) + step, 0)
    if updates:
        LinkedInPost.objects.filter(pk=post.pk).update(**updates)
    _show_counts_on_conversation(account, event.post_urn)


def _show_counts_on_conversation(account: PlatformAccount, post_urn: str) -> None:
    """The post's comment conversation carries its counts, so the conversation page shows them
    without knowing LinkedIn (``metadata["post_activity"]``)."""
    post = LinkedInPost.objects.filter(account=account, post_urn=post_urn).first()
    conversation = Conversation.objects.filter(account=account, external_thread_id=post_urn).first()
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


def _record_admin_comment(account: PlatformAccount, event: MessageEchoed) -> None:
    """A comment by the Page itself: Parley's own reply (matched), or one written on LinkedIn,
    filed under the post's comment conversation when there is one."""
    conversation = (
        Conversation.objects.filter(account=account, external_thread_id=event.thread_external_id)
        .select_related("contact")
        .first()
    )
    identity = conversation.participants.first() if conversation is not None else None
    if identity is None:
        # No customer comment on this post yet: counted on the post, no conversation to show.
        return
    record_echo_of_own_send(
        account=account,
        event=dataclasses.replace(
            event, recipient=Person(platform_user_id=identity.platform_user_id)
        ),
    )


def post_activity(account: PlatformAccount, post_urn: str) -> LinkedInPost | None:
    """The counts of one post (for the conversation page of its comment thread)."""
    return LinkedInPost.objects.filter(account=account, post_urn=post_urn).first()
