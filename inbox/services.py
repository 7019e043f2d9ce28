"""Every write to the inbox goes through these functions.

Each records what it changed as domain events (``inbox.events``) in its own transaction; the
followers — live push, assignment, SLA timers, report metrics, the chatbot, delivery, media —
are listeners (``inbox.listeners``) that react after commit, so nothing is pushed or sent for a
row that was rolled back, and this module knows none of them.
Inbound handlers are idempotent on the platform's ids: a redelivered webhook changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from connectors import base as events
from connectors import testevents
from connectors.registry import get_connector
from inbox import answers, batch
from inbox import events as domain_events
from inbox.models import (
    Attachment,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationEvent,
    Label,
    Message,
    Note,
    PlatformAccount,
    Reaction,
    Team,
    User,
)
from inbox.policy import reply_policy
from inbox.selectors import latest_dm_thread

log = logging.getLogger(__name__)

# Status only moves forward: a late "delivered" never undoes a "read".
_DELIVERY_ORDER = [
    Message.Status.QUEUED,
    Message.Status.SENDING,
    Message.Status.SENT,
    Message.Status.DELIVERED,
    Message.Status.READ,
]


# The reason on the status change of a conversation its customer brought back by writing.
CUSTOMER_WROTE = "customer wrote"


class ReplyRefused(Exception):
    """A platform rule or an inbox rule refuses this reply; nothing was queued."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


# --- Events -----------------------------------------------------------------------------------


# --- Contacts and conversations ---------------------------------------------------------------


def get_or_create_identity(*, account: PlatformAccount, person: events.Person) -> ContactIdentity:
    """The contact's identity on this account, created with its contact on first sight."""
    identity = (
        ContactIdentity.objects.select_related("contact")
        .filter(account=account, platform_user_id=person.platform_user_id)
        .first()
    )
    if identity is None:
        try:
            with transaction.atomic():
                contact = Contact.objects.create(
                    name=person.name or person.username, avatar_url=person.avatar_url
                )
                return ContactIdentity.objects.create(
                    contact=contact,
                    account=account,
                    platform_user_id=person.platform_user_id,
                    username=person.username,
                    name=person.name,
                    avatar_url=person.avatar_url,
                )
        except IntegrityError:
            # Another worker created it at the same moment.
            identity = ContactIdentity.objects.select_related("contact").get(
                account=account, platform_user_id=person.platform_user_id
            )
    update_identity_profile(identity=identity, person=person)
    return identity


def update_identity_profile(*, identity: ContactIdentity, person: events.Person) -> None:
    """Fill in what the platform told us that we did not know yet."""
    changed = [
        field
        for field in ("name", "username", "avatar_url")
        if getattr(person, field) and getattr(person, field) != getattr(identity, field)
    ]
    for field in changed:
        setattr(identity, field, getattr(person, field))
    if changed:
        identity.save(update_fields=changed)
        contact = identity.contact
        if not contact.name and (person.name or person.username):
            contact.name = person.name or person.username
            contact.save(update_fields=["name"])
        if not contact.avatar_url and person.avatar_url:
            contact.avatar_url = person.avatar_url
            contact.save(update_fields=["avatar_url"])


def find_or_open_conversation(
    *,
    account: PlatformAccount,
    identity: ContactIdentity,
    kind: str = Conversation.Kind.DM,
    thread_external_id: str | None = None,
    at: datetime | None = None,
    history: bool = False,
    is_test: bool = False,
    logged: list[ConversationEvent] | None = None,
) -> tuple[Conversation, bool]:
    """The thread this message belongs to: by platform thread id where there is one, else the
    contact's latest DM thread on the account. Returns (conversation, created). A thread opened
    by imported history is opened resolved: closed history, in no one's queue. A thread the
    settings area's test event opens is a test conversation (``Conversation.is_test``). A caller
    that records a batch passes ``logged``: the "created" event joins it (one dispatch)."""
    at = at or timezone.now()
    query = Conversation.objects.select_related("account", "contact").filter(account=account)
    if thread_external_id:
        conversation = query.filter(external_thread_id=thread_external_id).first()
    else:
        conversation = latest_dm_thread(account, contact=identity.contact, kind=kind)
    if conversation is not None:
        return conversation, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                account=account,
                kind=kind,
                external_thread_id=thread_external_id,
                contact=identity.contact,
                last_activity_at=at,
                created_at=at,
                status=Conversation.Status.RESOLVED if history else Conversation.Status.OPEN,
                is_test=is_test,
            )
    except IntegrityError:
        return query.get(external_thread_id=thread_external_id), False
    conversation.participants.add(identity)
    opened = domain_events.entry(
        conversation, ConversationEvent.Kind.CREATED, data=_marked({"kind": kind}, history), at=at
    )
    if logged is None:
        domain_events.record_many([opened])
    else:
        logged.append(opened)
    return conversation, True


def _marked(data: dict[str, Any], history: bool) -> dict[str, Any]:
    """An event's data, marked when it records imported history (``DomainEvent.history``)."""
    return {**data, "history": True} if history else data


def _preview(text: str, attachments: Iterable[Any] = ()) -> str:
    text = " ".join(text.split())
    if not text:
        kinds = [getattr(a, "kind", "") for a in attachments]
        text = f"[{kinds[0]}]" if kinds else ""
    return text[:200]


# --- Inbound ----------------------------------------------------------------------------------


def receive_message(*, account: PlatformAccount, event: events.MessageReceived) -> Message:
    """Store a customer's message. The same platform id twice gives the same single message."""
    return receive_messages(account=account, received=[event])[0]


def receive_messages(
    account: PlatformAccount, received: Sequence[events.MessageReceived], *, history: bool = False
) -> list[Message]:
    """Store customers' messages to one account, in the order given (platform time): one query
    per kind of row for the whole batch, each conversation's state once however many of its
    messages came, and the batch's events in one INSERT (their listeners see them together).
    A platform id already stored, or twice in the batch, gives the same single message.
    ``history``: read from the platform's history (``inbox.history``), stored as closed history.
    Returns the messages in the events' order."""
    with transaction.atomic(), batch.scope():
        stored = _existing_messages(account, [e.external_id for e in received])
        fresh: dict[str, events.MessageReceived] = {}
        for event in received:
            if event.external_id not in stored:
                fresh.setdefault(event.external_id, event)
        if fresh:
            stored.update(_store_inbound(account, list(fresh.values()), history=history))
            # Stored by another worker at the same moment: ``_insert_messages`` left them out.
            if missing := [key for key in fresh if key not in stored]:
                stored.update(_existing_messages(account, missing))
        return [stored[event.external_id] for event in received]


def _existing_messages(account: PlatformAccount, external_ids: Iterable[str]) -> dict[str, Message]:
    return {
        m.external_id: m
        for m in Message.objects.filter(account=account, external_id__in=set(external_ids))
    }


def _identities(
    account: PlatformAccount, people: Iterable[events.Person]
) -> dict[str, ContactIdentity]:
    """Identities by platform user id: the known ones in one query, the new ones created."""
    people = {p.platform_user_id: p for p in people}
    found = {
        i.platform_user_id: i
        for i in ContactIdentity.objects.select_related("contact").filter(
            account=account, platform_user_id__in=list(people)
        )
    }
    for user_id, person in sorted(people.items()):  # one order for concurrent batches
        if user_id in found:
            update_identity_profile(identity=found[user_id], person=person)
        else:
            found[user_id] = get_or_create_identity(account=account, person=person)
    return found


def _conversation_ids(
    account: PlatformAccount,
    fresh: list[events.MessageReceived],
    identities: dict[str, ContactIdentity],
    history: bool,
    logged: list[ConversationEvent],
) -> dict[str, int]:
    """Each event's thread id (by the event's external id): by platform thread id where there is
    one, else the contact's latest DM thread of that kind; two queries for the known ones, new
    ones opened (their events into ``logged``). Only ids: the rows are read under lock
    (``_locked_in_order``)."""
    threads = {e.thread_external_id for e in fresh if e.thread_external_id}
    by_thread: dict[Any, int] = (
        dict(
            Conversation.objects.filter(
                account=account, external_thread_id__in=threads
            ).values_list("external_thread_id", "pk")
        )
        if threads
        else {}
    )
    contacts = {identities[e.sender.platform_user_id].contact_id for e in fresh}
    by_contact: dict[Any, int] = {
        (contact_id, kind): latest
        for contact_id, kind, latest in Conversation.objects.filter(
            account=account, contact_id__in=contacts, external_thread_id__isnull=True
        )
        .values("contact_id", "kind")
        .annotate(latest=Max("id"))
        .values_list("contact_id", "kind", "latest")
    }
    found: dict[str, int] = {}
    for event in fresh:
        identity = identities[event.sender.platform_user_id]
        if event.thread_external_id:
            known, key = by_thread, event.thread_external_id
        else:
            known, key = by_contact, (identity.contact_id, event.kind)
        if key not in known:
            opened, _ = find_or_open_conversation(
                account=account,
                identity=identity,
                kind=event.kind,
                thread_external_id=event.thread_external_id,
                at=event.timestamp,
                history=history,
                is_test=testevents.is_test_event(event),
                logged=logged,
            )
            known[key] = opened.pk
        found[event.external_id] = known[key]
    return found


def _locked_in_order(found: dict[str, int]) -> dict[str, Conversation]:
    """The batch's conversations row-locked in id order: ingest batches on several workers
    that share conversations take them in one order (taken in event order, two batches
    deadlocked), and each updates from what the other committed."""
    # NO KEY: rows that only reference the conversation (an agent's reply, an event) are not
    # held up by the batch.
    locked = {
        c.pk: c
        for c in Conversation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("account", "sla_policy")
        .filter(pk__in=set(found.values()))
        .order_by("pk")
    }
    return {key: locked[pk] for key, pk in found.items()}


def _store_inbound(
    account: PlatformAccount, fresh: list[events.MessageReceived], *, history: bool
) -> dict[str, Message]:
    identities = _identities(
        account, [e.sender for e in fresh] + [p for e in fresh for p in e.participants]
    )
    # The batch's events, recorded together at the end: conversations opened, then messages.
    logged: list[ConversationEvent] = []
    conversations = _locked_in_order(_conversation_ids(account, fresh, identities, history, logged))
    for event in fresh:
        conversation = conversations[event.external_id]
        for person in event.participants:
            conversation.participants.add(identities[person.platform_user_id])
        if event.thread_external_id and event.kind != Conversation.Kind.DM:
            conversation.participants.add(identities[event.sender.platform_user_id])

    awaited = {} if history else _awaited(fresh, conversations)
    messages = _insert_messages(account, fresh, identities, conversations, history, awaited)
    created = {m.external_id: m for m in messages}
    _link_replies(account, fresh, created)

    # Each conversation's upkeep once, with all of its new messages.
    grouped: dict[int, list[tuple[Message, bool]]] = {}
    for event in fresh:
        if event.external_id in created:
            message = created[event.external_id]
            grouped.setdefault(message.conversation_id, []).append((message, event.opens_window))
    moved = {
        pk: _inbound_changes(items[0][0].conversation, items, history)
        for pk, items in grouped.items()
    }
    batch.update_each(Conversation, moved)  # one statement for the batch's conversations
    for pk, items in grouped.items():
        conversation = items[0][0].conversation
        # Returning: the customer writes again after it was resolved or snoozed (the
        # assignment listener keeps its agent only if they are online).
        reopened_from = conversation.status if "status" in moved[pk] else None
        for field, value in moved[pk].items():
            setattr(conversation, field, value)
        if reopened_from:
            logged.append(
                domain_events.entry(
                    conversation,
                    ConversationEvent.Kind.STATUS_CHANGED,
                    data={
                        "from": reopened_from,
                        "to": conversation.status,
                        "reason": CUSTOMER_WROTE,
                    },
                )
            )
        logged += [
            domain_events.entry(
                conversation,
                ConversationEvent.Kind.MESSAGE_RECEIVED,
                data=_marked(_answer_marked({"message": message.pk}, message), history),
                at=message.created_at,
            )
            for message, _ in items
        ]
    # One INSERT and one dispatch for the batch's events.
    domain_events.record_many(logged)
    return created


def _awaited(
    fresh: list[events.MessageReceived], conversations: dict[str, Conversation]
) -> dict[str, str]:
    """Who awaited each message that answers something Parley asked on a resolved conversation
    (``inbox.answers``), by external id. No query unless a conversation is resolved."""
    asked = [
        e
        for e in fresh
        if conversations[e.external_id].status == Conversation.Status.RESOLVED
        and not conversations[e.external_id].is_test
    ]
    names = answers.classify(
        [
            answers.Inbound(conversations[e.external_id], e.text, e.metadata, e.timestamp)
            for e in asked
        ]
    )
    return {e.external_id: name for e, name in zip(asked, names, strict=True) if name}


def _answer_marked(data: dict[str, Any], message: Message) -> dict[str, Any]:
    """An event's data, marked when its message answers what Parley asked (``inbox.answers``)."""
    name = (message.metadata or {}).get(answers.MARK)
    return {**data, answers.MARK: name} if name else data


def _insert_messages(
    account: PlatformAccount,
    fresh: list[events.MessageReceived],
    identities: dict[str, ContactIdentity],
    conversations: dict[str, Conversation],
    history: bool,
    awaited: dict[str, str],
) -> list[Message]:
    """One INSERT for the batch. Another worker storing one of them at the same moment makes
    it fail: those are dropped (they are stored) and the rest inserted again."""
    pending = fresh
    while True:
        rows = [
            Message(
                conversation=conversations[e.external_id],
                account=account,
                direction=Message.Direction.INBOUND,
                sender_kind=Message.SenderKind.CONTACT,
                sender_identity=identities[e.sender.platform_user_id],
                external_id=e.external_id,
                text=e.text,
                status=Message.Status.RECEIVED,
                metadata=(
                    {**e.metadata, answers.MARK: awaited[e.external_id]}
                    if e.external_id in awaited
                    else e.metadata
                ),
                sent_at=e.timestamp,
                imported=history,
            )
            for e in pending
        ]
        try:
            with transaction.atomic():
                messages = Message.objects.bulk_create(rows)
                _add_attachments(
                    [(m, e.attachments) for m, e in zip(messages, pending, strict=True)]
                )
            return messages
        except IntegrityError:
            taken = _existing_messages(account, [e.external_id for e in pending])
            if not taken:
                raise
            pending = [e for e in pending if e.external_id not in taken]
            if not pending:
                return []


def _link_replies(
    account: PlatformAccount, fresh: list[events.MessageReceived], created: dict[str, Message]
) -> None:
    """Replies to an earlier message (which may be in the same batch)."""
    wanted = {e.reply_to_external_id for e in fresh if e.reply_to_external_id}
    if not wanted:
        return
    targets = _existing_messages(account, wanted)
    linked: dict[int, dict[str, Any]] = {}
    for event in fresh:
        message = created.get(event.external_id)
        target = targets.get(event.reply_to_external_id or "")
        if message is not None and target is not None and target.pk != message.pk:
            message.reply_to = target
            linked[message.pk] = {"reply_to_id": target.pk}
    batch.update_each(Message, linked)


def _inbound_changes(
    conversation: Conversation, items: list[tuple[Message, bool]], history: bool = False
) -> dict[str, Any]:
    """How new customer messages (with whether each opens the reply window) move the thread
    on: the fields to write. Imported history waits for no one and reopens nothing."""
    latest = max((m for m, _ in items), key=lambda m: m.sent_at)
    changes: dict[str, Any] = {
        "last_activity_at": max(conversation.last_activity_at, latest.sent_at)
    }
    # Out-of-order deliveries: the platform's timestamps decide what is "last".
    if conversation.last_message_at is None or latest.sent_at >= conversation.last_message_at:
        changes["last_message_at"] = latest.sent_at
        changes["last_message_preview"] = _preview(latest.text, latest.incoming_attachments)
    opening = [m.sent_at for m, opens_window in items if opens_window]
    if opening and (
        conversation.last_inbound_at is None or max(opening) > conversation.last_inbound_at
    ):
        changes["last_inbound_at"] = max(opening)
    # Answers Parley awaited (a survey's rating) leave the conversation resolved.
    asking = [m for m, _ in items if not answers.is_answer(m.metadata)]
    if history or not asking:
        return changes
    if conversation.waiting_since is None:
        changes["waiting_since"] = min(m.sent_at for m in asking)
    if conversation.status in (
        Conversation.Status.RESOLVED,
        Conversation.Status.SNOOZED,
        Conversation.Status.PENDING,
    ):
        # A customer writing again brings the conversation back to the agents.
        changes["status"] = Conversation.Status.OPEN
        changes["snoozed_until"] = None
    return changes


def _add_attachments(
    items: Iterable[tuple[Message, Iterable[events.IncomingAttachment]]],
) -> None:
    """Attachment rows for these messages (one INSERT)."""
    rows = []
    for message, attachments in items:
        message.incoming_attachments = list(attachments)
        rows += [
            Attachment(
                message=message,
                kind=item.kind,
                url=item.url,
                content_type=item.content_type,
                name=item.name,
                size=item.size,
                store_media=item.store_media,
                metadata=item.metadata,
            )
            for item in message.incoming_attachments
        ]
    # Their media is fetched by a listener of the message's event (``inbox.listeners``).
    Attachment.objects.bulk_create(rows)


def _message_by_external_id(account: PlatformAccount, external_id: str | None) -> Message | None:
    if not external_id:
        return None
    return Message.objects.filter(account=account, external_id=external_id).first()


def record_echo(
    *, account: PlatformAccount, event: events.MessageEchoed, history: bool = False
) -> Message:
    """A message the account sent. Parley's own sends are recognised (by client_ref or platform
    id) and only confirmed; anything else is shown as an agent message sent outside Parley
    (``history``: read from the platform's history, as closed history)."""
    if event.client_ref:
        own = Message.objects.filter(account=account, client_ref=event.client_ref).first()
        if own is not None:
            if not own.external_id:
                Message.objects.filter(pk=own.pk, external_id__isnull=True).update(
                    external_id=event.external_id
                )
            _advance_status(own, Message.Status.SENT, at=event.timestamp)
            return own
    existing = _message_by_external_id(account, event.external_id)
    if existing is not None:
        return existing
    identity = get_or_create_identity(account=account, person=event.recipient)
    conversation, _ = find_or_open_conversation(
        account=account,
        identity=identity,
        kind=event.kind,
        thread_external_id=event.thread_external_id,
        at=event.timestamp,
        history=history,
    )
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                account=account,
                direction=Message.Direction.OUTBOUND,
                sender_kind=Message.SenderKind.AGENT,
                external_id=event.external_id,
                text=event.text,
                status=Message.Status.SENT,
                sent_outside_parley=True,
                metadata=event.metadata,
                sent_at=event.timestamp,
                imported=history,
            )
            _add_attachments([(message, event.attachments)])
    except IntegrityError:
        return Message.objects.get(account=account, external_id=event.external_id)
    updates = {"last_activity_at": max(conversation.last_activity_at, event.timestamp)}
    if conversation.last_message_at is None or event.timestamp >= conversation.last_message_at:
        updates["last_message_at"] = event.timestamp
        updates["last_message_preview"] = _preview(event.text, event.attachments)
    if not history:
        # An agent answered from the platform's own tools: a human reply like any other.
        updates["bot_enabled"] = False
    Conversation.objects.filter(pk=conversation.pk).update(**updates)
    domain_events.record(
        conversation,
        ConversationEvent.Kind.MESSAGE_SENT,
        data=_marked({"message": message.pk, "outside_parley": True}, history),
    )
    return message


def _advance_status(message: Message, status: str, *, at: datetime | None = None) -> bool:
    """Move an outbound message forward in the delivery state machine; never backward."""
    if message.status == Message.Status.FAILED and status not in (
        Message.Status.DELIVERED,
        Message.Status.READ,
    ):
        return False
    if message.status in _DELIVERY_ORDER and _DELIVERY_ORDER.index(
        message.status
    ) >= _DELIVERY_ORDER.index(status):
        return False
    updates: dict[str, Any] = {"status": status}
    if status == Message.Status.DELIVERED:
        updates["delivered_at"] = at or timezone.now()
    if status == Message.Status.READ:
        updates["read_at"] = at or timezone.now()
        if message.delivered_at is None:
            updates["delivered_at"] = updates["read_at"]
    Message.objects.filter(pk=message.pk).update(**updates)
    for field, value in updates.items():
        setattr(message, field, value)
    domain_events.record(
        message.conversation,
        ConversationEvent.Kind.MESSAGE_UPDATED,
        data={"message": message.pk, "status": status},
    )
    return True


def _mark_outbound(
    *,
    account: PlatformAccount,
    counterpart_id: str,
    external_ids: Iterable[str],
    watermark: datetime | None,
    status: str,
    at: datetime,
) -> int:
    """Delivered/read receipts: by message ids, or everything up to a watermark in the thread
    with this counterpart."""
    outbound = Message.objects.select_related("conversation").filter(
        account=account,
        direction=Message.Direction.OUTBOUND,
        status__in=[Message.Status.SENT, Message.Status.DELIVERED, Message.Status.SENDING],
    )
    ids = list(external_ids)
    if ids:
        candidates = outbound.filter(external_id__in=ids)
    elif watermark is not None:
        candidates = outbound.filter(
            conversation__participants__account=account,
            conversation__participants__platform_user_id=counterpart_id,
            sent_at__lte=watermark,
        )
    else:
        return 0
    return sum(_advance_status(message, status, at=at) for message in candidates)


def mark_delivered(*, account: PlatformAccount, event: events.MessagesDelivered) -> int:
    return _mark_outbound(
        account=account,
        counterpart_id=event.counterpart_id,
        external_ids=event.external_ids,
        watermark=event.watermark,
        status=Message.Status.DELIVERED,
        at=event.timestamp,
    )


def mark_read(*, account: PlatformAccount, event: events.MessagesRead) -> int:
    return _mark_outbound(
        account=account,
        counterpart_id=event.counterpart_id,
        external_ids=event.external_ids,
        watermark=event.watermark,
        status=Message.Status.READ,
        at=event.timestamp,
    )


def apply_reaction(*, account: PlatformAccount, event: events.ReactionChanged) -> bool:
    """Show (or remove) a contact's reaction on the message it reacts to."""
    message = _message_by_external_id(account, event.message_external_id)
    if message is None:
        log.info("reaction to unknown message %s ignored", event.message_external_id)
        return False
    by = event.by.platform_user_id
    if event.removed:
        changed = Reaction.objects.filter(message=message, by=by).delete()[0] > 0
    else:
        _, created = Reaction.objects.update_or_create(
            message=message, by=by, defaults={"emoji": event.emoji, "created_at": event.timestamp}
        )
        changed = True
    if changed:
        domain_events.record(
            message.conversation,
            ConversationEvent.Kind.MESSAGE_UPDATED,
            data={"message": message.pk, "reaction": event.emoji, "removed": event.removed},
        )
    return changed


def delete_message(*, account: PlatformAccount, event: events.MessageDeleted) -> bool:
    """The customer unsent a message: hide its text from agents, keep the row and the event."""
    message = _message_by_external_id(account, event.external_id)
    if message is None or message.is_deleted:
        return False
    Message.objects.filter(pk=message.pk).update(is_deleted=True)
    domain_events.record(
        message.conversation,
        ConversationEvent.Kind.MESSAGE_UPDATED,
        data={"message": message.pk, "deleted": True},
    )
    return True


def edit_message(*, account: PlatformAccount, event: events.MessageEdited) -> bool:
    message = _message_by_external_id(account, event.external_id)
    if message is None or message.text == event.text:
        return False
    history = list(message.metadata.get("edits", []))
    history.append({"text": message.text, "replaced_at": event.timestamp.isoformat()})
    Message.objects.filter(pk=message.pk).update(
        text=event.text, edited_at=event.timestamp, metadata={**message.metadata, "edits": history}
    )
    domain_events.record(
        message.conversation,
        ConversationEvent.Kind.MESSAGE_UPDATED,
        data={"message": message.pk, "edited": True},
    )
    return True


def mark_account_needs_reauth(*, account: PlatformAccount, reason: str) -> None:
    PlatformAccount.objects.filter(pk=account.pk).update(
        status=PlatformAccount.Status.NEEDS_REAUTH, last_error=reason
    )
    account.status, account.last_error = PlatformAccount.Status.NEEDS_REAUTH, reason
    log.warning("account %s needs re-authorisation: %s", account.pk, reason)


def revoke_account(*, account: PlatformAccount, event: events.AccountRevoked) -> None:
    PlatformAccount.objects.filter(pk=account.pk).update(
        status=PlatformAccount.Status.DISCONNECTED,
        last_error=event.reason or "The platform revoked this account's authorisation.",
    )


# --- Outbound ---------------------------------------------------------------------------------


def queue_reply(
    *,
    conversation: Conversation,
    text: str,
    author: User | None = None,
    sender_kind: str = Message.SenderKind.AGENT,
    quick_replies: Iterable[str] = (),
    is_promotional: bool = False,
    metadata: dict[str, Any] | None = None,
    now: datetime | None = None,
    has_attachments: bool = False,
) -> Message:
    """Queue a reply for delivery after checking every platform rule; ReplyRefused otherwise.
    ``has_attachments``: the caller adds attachments in the same transaction (text optional)."""
    now = now or timezone.now()
    text = text.strip()
    if not text and not has_attachments:
        raise ReplyRefused("empty", gettext("A reply needs some text."))
    rules = get_connector(conversation.account.platform).rules
    if len(text) > rules.max_text_length:
        raise ReplyRefused(
            "text_too_long",
            f"{conversation.account.get_platform_display()} accepts at most "
            f"{rules.max_text_length} characters; this reply has {len(text)}.",
        )
    policy = reply_policy(
        conversation, sender_kind=sender_kind, is_promotional=is_promotional, now=now
    )
    if not policy.allowed:
        raise ReplyRefused(policy.code, policy.detail)
    return enqueue_outbound(
        conversation=conversation,
        text=text,
        author=author,
        sender_kind=sender_kind,
        is_promotional=is_promotional,
        metadata={
            **(metadata or {}),
            "window": str(policy.window),
            "quick_replies": list(quick_replies),
        },
        now=now,
    )


def enqueue_outbound(
    *,
    conversation: Conversation,
    text: str,
    author: User | None,
    sender_kind: str = Message.SenderKind.AGENT,
    is_promotional: bool = False,
    metadata: dict[str, Any] | None = None,
    event_data: dict[str, Any] | None = None,
    now: datetime,
) -> Message:
    """Store an outbound message whose rules were already checked, with the conversation's
    state and the event (its listeners deliver it and keep SLA and reports up to date)."""
    message = Message.objects.create(
        conversation=conversation,
        account_id=conversation.account_id,
        direction=Message.Direction.OUTBOUND,
        sender_kind=sender_kind,
        author=author,
        client_ref=uuid.uuid4().hex,
        text=text,
        status=Message.Status.QUEUED,
        is_promotional=is_promotional,
        metadata=metadata or {},
        sent_at=now,
        created_at=now,
    )
    updates: dict[str, Any] = {
        "last_message_at": now,
        "last_activity_at": now,
        "last_message_preview": _preview(text),
    }
    if sender_kind in (Message.SenderKind.AGENT, Message.SenderKind.BOT):
        updates["waiting_since"] = None
    if sender_kind == Message.SenderKind.AGENT:
        # A human took over: the bot stays quiet here until given back or resolved.
        updates["bot_enabled"] = False
    Conversation.objects.filter(pk=conversation.pk).update(**updates)
    for field, value in updates.items():
        setattr(conversation, field, value)
    domain_events.record(
        conversation,
        ConversationEvent.Kind.MESSAGE_SENT,
        actor=author,
        data={"message": message.pk, "sender_kind": sender_kind, **(event_data or {})},
        at=now,
    )
    return message


def add_note(*, conversation: Conversation, author: User | None, text: str) -> Note:
    text = text.strip()
    if not text:
        raise ReplyRefused("empty", gettext("A note needs some text."))
    note = Note.objects.create(conversation=conversation, author=author, text=text)
    domain_events.record(
        conversation, ConversationEvent.Kind.NOTE_ADDED, actor=author, data={"note": note.pk}
    )
    return note


# --- Triage -----------------------------------------------------------------------------------


def assign(
    *,
    conversation: Conversation,
    actor: User | None,
    assignee: User | None = None,
    team: Team | None = None,
) -> Conversation:
    if assignee is not None and not assignee.is_active:
        raise ValueError(gettext("cannot assign to an inactive user"))
    if conversation.assignee_id == (assignee.pk if assignee else None) and (
        team is None or conversation.team_id == team.pk
    ):
        return conversation
    previous = conversation.assignee_id
    previous_team = conversation.team_id
    conversation.assignee = assignee
    fields = ["assignee"]
    if team is not None:
        conversation.team = team
        fields.append("team")
    conversation.save(update_fields=fields)
    domain_events.record(
        conversation,
        ConversationEvent.Kind.ASSIGNED,
        actor=actor,
        data={
            "from": previous,
            "to": assignee.pk if assignee else None,
            "to_name": assignee.display_name if assignee else "",
            "team": conversation.team_id,
            "team_from": previous_team,
        },
    )
    return conversation


def set_team(*, conversation: Conversation, team: Team | None, actor: User | None) -> Conversation:
    """Hand the conversation to another team, or to none, keeping its agent. Recorded like an
    assignment (the event ``assign`` records for a team-only change)."""
    if conversation.team_id == (team.pk if team else None):
        return conversation
    previous_team = conversation.team_id
    conversation.team = team
    conversation.save(update_fields=["team"])
    assignee = conversation.assignee
    domain_events.record(
        conversation,
        ConversationEvent.Kind.ASSIGNED,
        actor=actor,
        data={
            "from": conversation.assignee_id,
            "to": conversation.assignee_id,
            "to_name": assignee.display_name if assignee else "",
            "team": team.pk if team else None,
            "team_from": previous_team,
        },
    )
    return conversation


def change_status(
    *,
    conversation: Conversation,
    status: str,
    actor: User | None,
    snoozed_until: datetime | None = None,
) -> Conversation:
    if status not in Conversation.Status.values:
        raise ValueError(gettext("unknown status %(status)r") % {"status": status})
    if status == Conversation.Status.SNOOZED and snoozed_until is None:
        raise ValueError(gettext("snoozing needs a time"))
    if conversation.status == status and conversation.snoozed_until == snoozed_until:
        return conversation
    previous = conversation.status
    conversation.status = status
    conversation.snoozed_until = snoozed_until if status == Conversation.Status.SNOOZED else None
    fields = ["status", "snoozed_until"]
    if status == Conversation.Status.RESOLVED:
        # A resolved conversation gives the bot back for the next time the customer writes.
        conversation.bot_enabled = True
        fields.append("bot_enabled")
    conversation.save(update_fields=fields)
    domain_events.record(
        conversation,
        ConversationEvent.Kind.STATUS_CHANGED,
        actor=actor,
        data={
            "from": previous,
            "to": status,
            "snoozed_until": snoozed_until.isoformat() if snoozed_until else None,
        },
    )
    return conversation


def reopen_snoozed(*, now: datetime | None = None) -> int:
    """Snoozed conversations whose time has come go back to open."""
    now = now or timezone.now()
    due = Conversation.objects.select_related("account").filter(
        status=Conversation.Status.SNOOZED, snoozed_until__lte=now
    )
    count = 0
    for conversation in due:
        with transaction.atomic():
            change_status(conversation=conversation, status=Conversation.Status.OPEN, actor=None)
        count += 1
    return count


def set_labels(*, conversation: Conversation, labels: Iterable[Label], actor: User | None) -> None:
    labels = list(labels)
    before = set(conversation.labels.values_list("pk", flat=True))
    after = {label.pk for label in labels}
    if before == after:
        return
    conversation.labels.set(labels)
    domain_events.record(
        conversation,
        ConversationEvent.Kind.LABELS_CHANGED,
        actor=actor,
        data={"added": sorted(after - before), "removed": sorted(before - after)},
    )


def set_priority(*, conversation: Conversation, priority: int, actor: User | None) -> None:
    if priority not in Conversation.Priority.values:
        raise ValueError(gettext("unknown priority %(priority)r") % {"priority": priority})
    if conversation.priority == priority:
        return
    previous = conversation.priority
    Conversation.objects.filter(pk=conversation.pk).update(priority=priority)
    conversation.priority = priority
    domain_events.record(
        conversation,
        ConversationEvent.Kind.PRIORITY_CHANGED,
        actor=actor,
        data={"from": previous, "to": priority},
    )
