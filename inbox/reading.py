"""Per-agent read state: how far each agent has read each conversation."""

from __future__ import annotations

from django.db.models import Max
from django.utils import timezone

from inbox import live
from inbox.models import ConversationRead, Message, User


def mark_read(*, user: User, conversation_id: int, up_to: int | None = None) -> int:
    """Move the user's read mark forward (never back) to ``up_to`` or the newest message.
    Returns the mark. The user's other tabs are told so their unread counts follow."""
    if up_to is None:
        up_to = (
            Message.objects.filter(conversation_id=conversation_id).aggregate(m=Max("id"))["m"] or 0
        )
    read, created = ConversationRead.objects.get_or_create(
        user=user,
        conversation_id=conversation_id,
        defaults={"last_read_message_id": up_to},
    )
    if not created and read.last_read_message_id < up_to:
        ConversationRead.objects.filter(pk=read.pk, last_read_message_id__lt=up_to).update(
            last_read_message_id=up_to, read_at=timezone.now()
        )
    elif not created:
        return read.last_read_message_id
    live.to_users_on_commit([user.pk], live.read_mark(conversation_id, up_to))
    return up_to


def first_unread(*, user: User, conversation_id: int, message_ids: list[int]) -> int | None:
    """The first of these messages the customer sent after the user's read mark: where the
    thread opens, under an "unread" marker. None on a first visit (it opens at the newest)."""
    mark = (
        ConversationRead.objects.filter(user=user, conversation_id=conversation_id)
        .values_list("last_read_message_id", flat=True)
        .first()
    )
    if mark is None:
        return None
    unread = Message.objects.filter(
        pk__in=[pk for pk in message_ids if pk > mark], direction=Message.Direction.INBOUND
    )
    return unread.order_by("sent_at", "pk").values_list("pk", flat=True).first()
