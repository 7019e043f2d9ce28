"""Writes for what only X tells us: in-flight echoes, read receipts by event id, typing, group
joins and leaves, and the memory of a contact whose settings refused a DM.

Registered in ``inbox.ingest``'s dispatch table by ``register()`` (called when the connector
module loads). Like ``inbox.services``, side effects happen on commit.
"""

from __future__ import annotations

import dataclasses
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors import base as events
from connectors.echoes import record_echo_of_own_send
from connectors.x.events import (
    ParticipantsChanged,
    TypingStarted,
    XMessageEchoed,
    XMessagesRead,
)
from inbox import services
from inbox.access import account_group
from inbox.live import send_to_group
from inbox.models import (
    ContactIdentity,
    Conversation,
    ConversationEvent,
    Message,
    PlatformAccount,
)

log = logging.getLogger(__name__)

# Conversation.metadata key the composer reads (see ``send_warning``).
SEND_WARNING = "send_warning"


def register() -> None:
    from inbox.ingest import register_handler

    register_handler(XMessageEchoed, record_x_echo)
    register_handler(XMessagesRead, mark_read_up_to)
    register_handler(TypingStarted, show_typing)
    register_handler(ParticipantsChanged, record_participants_change)


# --- Echoes -----------------------------------------------------------------------------------


def record_x_echo(*, account: PlatformAccount, event: XMessageEchoed) -> Message | None:
    """The copy of a DM the account sent (see ``connectors.echoes``). A group DM sent from
    elsewhere names no single recipient: it is filed under the group's thread."""
    if not event.recipient.platform_user_id:
        conversation = Conversation.objects.filter(
            account=account, external_thread_id=event.thread_external_id
        ).first()
        identity = conversation.participants.first() if conversation is not None else None
        if identity is None:
            log.info(
                "X echo %s in unknown group %s ignored",
                event.external_id,
                event.thread_external_id,
            )
            return None
        event = dataclasses.replace(
            event, recipient=events.Person(platform_user_id=identity.platform_user_id)
        )
    return record_echo_of_own_send(account=account, event=event)


# --- Read receipts ----------------------------------------------------------------------------


def mark_read_up_to(*, account: PlatformAccount, event: XMessagesRead) -> int:
    """X names the last event read: every outbound message up to it (by our clock for the
    message we know, by the id's own timestamp otherwise) becomes read."""
    watermark = event.watermark
    known = (
        Message.objects.filter(account=account, external_id=event.last_read_event_id)
        .values_list("sent_at", flat=True)
        .first()
        if event.last_read_event_id
        else None
    )
    if known is not None:
        watermark = max(known, watermark) if watermark else known
    if watermark is None:
        return 0
    return services.mark_read(
        account=account,
        event=events.MessagesRead(
            platform=event.platform,
            account_external_id=event.account_external_id,
            timestamp=event.timestamp,
            counterpart_id=event.counterpart_id,
            watermark=watermark,
        ),
    )


# --- Typing -----------------------------------------------------------------------------------


def show_typing(*, account: PlatformAccount, event: TypingStarted) -> bool:
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
    payload = {
        "id": None,
        "type": "inbox.typing",
        "conversation": conversation.pk,
        "account": account.pk,
        "data": {"by": event.by.platform_user_id, "name": event.by.name or event.by.username},
        "at": at,
    }
    transaction.on_commit(lambda: send_to_group(account_group(account.pk), payload))
    return True


# --- Groups -----------------------------------------------------------------------------------


def record_participants_change(
    *, account: PlatformAccount, event: ParticipantsChanged
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
                metadata={"x_event": "ParticipantsJoin" if event.joined else "ParticipantsLeave"},
                sent_at=event.timestamp,
            )
    except IntegrityError:
        return None
    services.record_event(
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


# --- DM refusals (403) ------------------------------------------------------------------------


def remember_send_refusal(
    *, account: PlatformAccount, recipient_id: str | None, thread_id: str | None, reason: str
) -> int:
    """X refused a DM: the composer of every conversation with that contact (or that thread)
    says so until a send there succeeds."""
    conversations = _conversations(account, recipient_id, thread_id)
    warning = {
        "code": "dm_refused",
        "detail": "This contact's settings may refuse DMs from this account: X refused the "
        "last one. " + reason,
        "at": timezone.now().isoformat(),
    }
    count = 0
    for conversation in conversations:
        Conversation.objects.filter(pk=conversation.pk).update(
            metadata={**conversation.metadata, SEND_WARNING: warning}
        )
        count += 1
    return count


def clear_send_refusal(
    *, account: PlatformAccount, recipient_id: str | None, thread_id: str | None
) -> int:
    count = 0
    for conversation in _conversations(account, recipient_id, thread_id).filter(
        metadata__has_key=SEND_WARNING
    ):
        metadata = dict(conversation.metadata)
        metadata.pop(SEND_WARNING, None)
        Conversation.objects.filter(pk=conversation.pk).update(metadata=metadata)
        count += 1
    return count


def _conversations(account: PlatformAccount, recipient_id: str | None, thread_id: str | None):
    query = Conversation.objects.filter(account=account)
    if recipient_id:
        contacts = ContactIdentity.objects.filter(
            account=account, platform_user_id=recipient_id
        ).values("contact_id")
        return query.filter(contact__in=contacts, kind=Conversation.Kind.DM)
    if thread_id:
        return query.filter(external_thread_id=thread_id)
    return query.none()


def send_warning(conversation: Conversation) -> str | None:
    """What the composer should say before an agent writes here (a previous refusal), if any."""
    warning = (conversation.metadata or {}).get(SEND_WARNING)
    if isinstance(warning, dict):
        return str(warning.get("detail") or "") or None
    return None
