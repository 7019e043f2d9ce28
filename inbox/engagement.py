"""Writes around a conversation that are not plain replies: windows opened by non-message
actions, contact profiles fetched in the background, sender actions (seen, typing), public
comment replies and private replies (comment → DM).

The dashboard and the API call these; the platform specifics stay in the connectors (their
``rules``, ``sender_action``, ``fetch_profile`` and ``send``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from connectors import base as events
from connectors.base import DeliveryError
from connectors.registry import get_connector
from inbox import events as domain_events
from inbox import services
from inbox.models import (
    ContactIdentity,
    Conversation,
    ConversationEvent,
    Message,
    PlatformAccount,
    User,
)
from inbox.policy import reply_policy
from inbox.selectors import latest_dm_thread
from inbox.triggers import shared_cache

log = logging.getLogger(__name__)

# Meta: one private reply per comment, within 7 days of it.
PRIVATE_REPLY_WINDOW = timedelta(days=7)
# A public invitation to write a DM links the customer's next DM within this time.
DM_INVITE_WINDOW = timedelta(days=30)
# Conversation.metadata key of the comment conversation's invitation to DM.
DM_INVITE = "dm_invite"
SENDER_ACTIONS = ("mark_seen", "typing_on", "typing_off")
# Platforms show "typing…" for about 20 s: tell them again at most this often.
TYPING_REFRESH_SECONDS = 10


# --- Inbound handlers -------------------------------------------------------------------------


def open_window(*, account: PlatformAccount, event: events.WindowOpened) -> bool:
    """A reaction or a referral reopens the reply window of the contact's DM thread."""
    conversation = latest_dm_thread(account, platform_user_id=event.by.platform_user_id)
    if conversation is None:
        log.info("window-opening %s from unknown contact ignored", event.reason)
        return False
    updates: dict[str, Any] = {}
    if conversation.last_inbound_at is None or event.timestamp > conversation.last_inbound_at:
        updates["last_inbound_at"] = event.timestamp
    if event.metadata:
        updates["metadata"] = {**conversation.metadata, **event.metadata}
    if updates:
        Conversation.objects.filter(pk=conversation.pk).update(**updates)
    return bool(updates)


def request_profiles(account: PlatformAccount, seen: list[events.ContactSeen]) -> int:
    """Fetch contacts' profiles once each, in the background (never in the webhook's path)."""
    wanted = {e.person.platform_user_id for e in seen}
    identity_ids = ContactIdentity.objects.filter(
        account=account, platform_user_id__in=wanted, profile_fetched_at__isnull=True
    ).values_list("pk", flat=True)
    requested = 0
    for identity_id in identity_ids:
        # One fetch in flight per identity, however many messages arrive meanwhile, in
        # whichever worker process they are ingested.
        if shared_cache().add(f"parley:profile-fetch:{identity_id}", 1, 300):
            transaction.on_commit(partial(fetch_contact_profile_task.delay, identity_id))
            requested += 1
    return requested


def fetch_contact_profile(identity_id: int) -> bool:
    identity = (
        ContactIdentity.objects.select_related("account", "contact")
        .filter(pk=identity_id, profile_fetched_at__isnull=True)
        .first()
    )
    if identity is None:
        return False
    account = identity.account
    try:
        person = get_connector(account.platform).fetch_profile(account, identity.platform_user_id)
    except DeliveryError as exc:
        log.info("profile of identity %s not fetched: %s", identity_id, exc.reason)
        if exc.auth:
            services.mark_account_needs_reauth(account=account, reason=exc.reason)
        if not exc.permanent or exc.auth:
            shared_cache().delete(f"parley:profile-fetch:{identity_id}")
            return False
        person = None
    with transaction.atomic():
        if person is not None:
            services.update_identity_profile(identity=identity, person=person)
        ContactIdentity.objects.filter(pk=identity_id).update(profile_fetched_at=timezone.now())
    return person is not None


# --- Sender actions ---------------------------------------------------------------------------


def mark_seen(conversation: Conversation) -> bool:
    """An agent opened the conversation: tell the customer it was seen (in the background)."""
    return _queue_sender_action(conversation, "mark_seen")


def set_typing(conversation: Conversation, typing: bool) -> bool:
    """An agent is typing (or stopped): shown to the customer where the account enables
    ``typing_indicators``."""
    if not conversation.account.options.get("typing_indicators"):
        return False
    return _queue_sender_action(conversation, "typing_on" if typing else "typing_off")


def agent_typing(conversation_id: int) -> bool:
    """The dashboard's socket says an agent is typing in this conversation: the platform hears
    it at most once per ``TYPING_REFRESH_SECONDS`` per conversation, however many agents, tabs
    and processes are typing (the claim is in the shared cache)."""
    key = f"parley:typing-sent:{conversation_id}"
    if not shared_cache().add(key, 1, timeout=TYPING_REFRESH_SECONDS):
        return False
    conversation = Conversation.objects.select_related("account").filter(pk=conversation_id).first()
    return conversation is not None and set_typing(conversation, True)


def _queue_sender_action(conversation: Conversation, action: str) -> bool:
    account = conversation.account
    rules = get_connector(account.platform).rules
    if (
        not rules.sender_actions
        or conversation.kind != Conversation.Kind.DM
        or account.status != PlatformAccount.Status.CONNECTED
        # Meta refuses sender actions once the window is closed.
        or not reply_policy(conversation).allowed
    ):
        return False
    pk = conversation.pk
    transaction.on_commit(lambda: send_sender_action.delay(pk, action))
    return True


# The tasks live beside what they run (``inbox.tasks`` imports this module); their names and
# queues (``CELERY_TASK_ROUTES``) are those of ``inbox.tasks``.
@shared_task(name="inbox.tasks.send_sender_action", ignore_result=True)
def send_sender_action(conversation_id: int, action: str) -> bool:
    """Seen / typing indicators: best effort, never retried."""
    return perform_sender_action(conversation_id, action)


@shared_task(name="inbox.tasks.fetch_contact_profile", acks_late=True, ignore_result=True)
def fetch_contact_profile_task(identity_id: int) -> bool:
    """A contact's name and picture from the platform, once, off the webhook's path."""
    return fetch_contact_profile(identity_id)


def perform_sender_action(conversation_id: int, action: str) -> bool:
    """Best effort: a failed "seen" or "typing" is logged, never retried."""
    conversation = (
        Conversation.objects.select_related("account", "contact").filter(pk=conversation_id).first()
    )
    if conversation is None or action not in SENDER_ACTIONS:
        return False
    recipient = (
        ContactIdentity.objects.filter(account=conversation.account, contact=conversation.contact)
        .values_list("platform_user_id", flat=True)
        .first()
    )
    if recipient is None:
        return False
    try:
        get_connector(conversation.account.platform).sender_action(
            conversation.account, recipient, action
        )
    except DeliveryError as exc:
        if exc.auth:
            services.mark_account_needs_reauth(account=conversation.account, reason=exc.reason)
        log.info("%s for conversation %s failed: %s", action, conversation_id, exc.reason)
        return False
    return True


# --- Comments: public replies and private replies ---------------------------------------------


@dataclass(frozen=True)
class PrivateReplyPolicy:
    allowed: bool
    code: str = "ok"
    detail: str = ""
    closes_at: datetime | None = None


def latest_comment(conversation: Conversation) -> Message | None:
    return (
        conversation.messages.filter(direction=Message.Direction.INBOUND)
        .order_by("-sent_at", "-id")
        .first()
    )


def private_reply_policy(comment: Message, *, now: datetime | None = None) -> PrivateReplyPolicy:
    """Whether the commenter may get a private reply: once per comment, within 7 days."""
    now = now or timezone.now()
    conversation = comment.conversation
    if (
        conversation.kind != Conversation.Kind.COMMENT
        or comment.direction != Message.Direction.INBOUND
    ):
        return PrivateReplyPolicy(False, "not_a_comment", "Private replies answer a comment.")
    if not get_connector(conversation.account.platform).rules.private_replies:
        return PrivateReplyPolicy(
            False, "unsupported", "This platform has no private replies to comments."
        )
    if conversation.account.status == PlatformAccount.Status.DISCONNECTED:
        return PrivateReplyPolicy(False, "account_disconnected", "This account is disconnected.")
    already = Message.objects.filter(
        account_id=comment.account_id,
        direction=Message.Direction.OUTBOUND,
        metadata__private_reply_to=comment.external_id,
    ).exclude(status=Message.Status.FAILED)
    if already.exists():
        return PrivateReplyPolicy(
            False, "private_reply_used", "This comment already had its one private reply."
        )
    closes = comment.sent_at + PRIVATE_REPLY_WINDOW
    if now > closes:
        return PrivateReplyPolicy(
            False,
            "private_reply_expired",
            "A private reply is only possible within 7 days of the comment.",
        )
    return PrivateReplyPolicy(True, closes_at=closes)


def queue_comment_reply(
    *, comment: Message, text: str, author: User | None, now: datetime | None = None
) -> Message:
    """A public reply under the customer's comment (goes through ``queue_reply``'s checks)."""
    limit = get_connector(comment.conversation.account.platform).rules.max_comment_length
    if limit is not None and len(text.strip()) > limit:
        raise services.ReplyRefused(
            "text_too_long",
            f"A public reply on {comment.conversation.account.get_platform_display()} holds at "
            f"most {limit} characters; this one has {len(text.strip())}.",
        )
    with transaction.atomic():
        message = services.queue_reply(
            conversation=comment.conversation, text=text, author=author, now=now
        )
        Message.objects.filter(pk=message.pk).update(reply_to=comment)
        message.reply_to = comment
    return message


@transaction.atomic
def queue_private_reply(
    *, comment: Message, text: str, author: User | None, now: datetime | None = None
) -> Message:
    """Take the conversation from public to private: one DM to the commenter, addressed by the
    comment, in the contact's DM conversation (created if needed and linked to the comment's
    conversation through ``origin``). ``services.ReplyRefused`` when the rules say no."""
    now = now or timezone.now()
    # Serialises two agents answering the same comment at once.
    comment = (
        Message.objects.select_for_update(of=("self",))
        .select_related("conversation", "conversation__account", "sender_identity")
        .get(pk=comment.pk)
    )
    text = text.strip()
    if not text:
        raise services.ReplyRefused("empty", gettext("A reply needs some text."))
    comment_conversation = comment.conversation
    account = comment_conversation.account
    rules = get_connector(account.platform).rules
    if len(text) > rules.max_text_length:
        raise services.ReplyRefused(
            "text_too_long", f"At most {rules.max_text_length} characters; this has {len(text)}."
        )
    policy = private_reply_policy(comment, now=now)
    if not policy.allowed:
        raise services.ReplyRefused(policy.code, policy.detail)
    identity = (
        comment.sender_identity
        or ContactIdentity.objects.filter(
            account=account, contact_id=comment_conversation.contact_id
        ).first()
    )
    if identity is None:
        raise services.ReplyRefused("no_recipient", gettext("The comment's author is unknown."))
    dm = latest_dm_thread(account, contact=identity.contact)
    if dm is None:
        dm = Conversation.objects.create(
            account=account,
            kind=Conversation.Kind.DM,
            contact=identity.contact,
            origin=comment_conversation,
            assignee=comment_conversation.assignee,
            team=comment_conversation.team,
            last_activity_at=now,
            created_at=now,
        )
        dm.participants.add(identity)
        domain_events.record(
            dm,
            ConversationEvent.Kind.CREATED,
            actor=author,
            data={"kind": dm.kind, "origin": comment_conversation.pk},
            at=now,
        )
    elif dm.origin_id is None:
        Conversation.objects.filter(pk=dm.pk).update(origin=comment_conversation)
        dm.origin = comment_conversation
    message = services.enqueue_outbound(
        conversation=dm,
        text=text,
        author=author,
        metadata={
            "private_reply_to": comment.external_id,
            "origin_conversation": comment_conversation.pk,
        },
        event_data={"private_reply": True},
        now=now,
    )
    domain_events.record(
        comment_conversation,
        ConversationEvent.Kind.MESSAGE_UPDATED,
        actor=author,
        data={"message": comment.pk, "private_reply": message.pk, "dm": dm.pk},
        at=now,
    )
    return message


# --- Public to private by invitation (platforms without private replies: X) --------------------


def dm_invite_policy(comment: Message) -> PrivateReplyPolicy:
    """Whether the commenter may be invited, publicly, to write a DM: where the platform has
    DMs and public replies (X: a reply post; the DM follows once the customer writes)."""
    conversation = comment.conversation
    rules = get_connector(conversation.account.platform).rules
    if conversation.kind != Conversation.Kind.COMMENT:
        return PrivateReplyPolicy(False, "not_a_comment", "An invitation to DM answers a comment.")
    if not (rules.comment_replies and rules.direct_messages):
        return PrivateReplyPolicy(
            False, "unsupported", "This platform has no DMs to move the conversation to."
        )
    if conversation.account.status == PlatformAccount.Status.DISCONNECTED:
        return PrivateReplyPolicy(False, "account_disconnected", "This account is disconnected.")
    return PrivateReplyPolicy(True)


@transaction.atomic
def invite_to_dm(*, comment: Message, text: str, author: User | None) -> Message:
    """Move a public complaint to private: a public reply inviting the customer to write a DM.
    Their next DM on the account (within ``DM_INVITE_WINDOW``) is linked to this comment's
    conversation through ``origin`` (``link_invited_dms``), as a Meta private reply is."""
    policy = dm_invite_policy(comment)
    if not policy.allowed:
        raise services.ReplyRefused(policy.code, policy.detail)
    message = queue_comment_reply(comment=comment, text=text, author=author)
    conversation = Conversation.objects.select_for_update().get(pk=comment.conversation_id)
    invitation = {
        "pending": True,
        "at": message.sent_at.isoformat(),
        "reply": message.pk,
        "by": author.pk if author else None,
        "dm": None,
    }
    Conversation.objects.filter(pk=conversation.pk).update(
        metadata={**conversation.metadata, DM_INVITE: invitation}
    )
    comment.conversation.metadata = {**conversation.metadata, DM_INVITE: invitation}
    return message


def pending_dm_invite(conversation: Conversation) -> dict[str, Any] | None:
    invitation = (conversation.metadata or {}).get(DM_INVITE)
    return invitation if isinstance(invitation, dict) and invitation.get("pending") else None


def link_invited_dms(received: list[domain_events.DomainEvent]) -> int:
    """The ``dm_invitations`` listener: a customer invited publicly to write a DM wrote one. The
    DM conversation points at the comment's (``origin``), and the invitation is answered."""
    since = timezone.now() - DM_INVITE_WINDOW
    conversation_ids = {event.conversation_id for event in received if not event.is_test}
    dms = list(
        Conversation.objects.filter(
            pk__in=conversation_ids, kind=Conversation.Kind.DM, origin__isnull=True
        )
    )
    if not dms:
        return 0
    # The batch's pending invitations in one query (newest first per contact).
    invited: dict[tuple[int, int], Conversation] = {}
    for comment_conversation in (
        Conversation.objects.select_for_update()
        .filter(
            account_id__in={dm.account_id for dm in dms},
            contact_id__in={dm.contact_id for dm in dms},
            kind=Conversation.Kind.COMMENT,
            metadata__dm_invite__pending=True,
        )
        .order_by("-id")
    ):
        invitation = pending_dm_invite(comment_conversation)
        if invitation is None or datetime.fromisoformat(invitation["at"]) < since:
            continue
        invited.setdefault(
            (comment_conversation.account_id, comment_conversation.contact_id),
            comment_conversation,
        )
    linked = 0
    for dm in dms:
        comment_conversation = invited.pop((dm.account_id, dm.contact_id), None)
        if comment_conversation is None:
            continue
        Conversation.objects.filter(pk=dm.pk, origin__isnull=True).update(
            origin=comment_conversation
        )
        answered = {**pending_dm_invite(comment_conversation), "pending": False, "dm": dm.pk}
        Conversation.objects.filter(pk=comment_conversation.pk).update(
            metadata={**comment_conversation.metadata, DM_INVITE: answered}
        )
        linked += 1
    return linked
