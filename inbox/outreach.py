"""One message to several contacts at once (outreach to partners, one answer to many who asked
the same thing), within the platform's rules.

The platform's ``PlatformRules`` decide: ``max_recipients_per_send`` (Instagram 15, X 49 others
in one group of 50, LinkedIn none), ``business_can_initiate`` (Messenger and Instagram reach
only contacts who wrote first, inside their reply window), and promotional messages go only to
contacts who opted in. A send over the recipient limit is refused as a whole before anything is
queued; a contact a rule refuses is reported and the others still get the message.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext

from connectors.registry import get_connector
from inbox import events as domain_events
from inbox import services
from inbox.models import (
    Contact,
    ContactIdentity,
    Conversation,
    ConversationEvent,
    Message,
    PlatformAccount,
    User,
)
from inbox.selectors import latest_dm_thread
from inbox.services import ReplyRefused


@dataclass(frozen=True)
class Refusal:
    contact: Contact
    code: str
    detail: str


@dataclass
class OutreachResult:
    batch: str
    messages: list[Message] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def recipient_limit(account: PlatformAccount, *, as_group: bool = False) -> int:
    """How many contacts one send may name on this account."""
    rules = get_connector(account.platform).rules
    if as_group:
        if rules.max_group_participants is None:
            return 0
        return min(rules.max_recipients_per_send, rules.max_group_participants - 1)
    return rules.max_recipients_per_send


@transaction.atomic
def send_to_many(
    *,
    account: PlatformAccount,
    contacts: Sequence[Contact],
    text: str,
    author: User | None,
    is_promotional: bool = False,
    as_group: bool = False,
) -> OutreachResult:
    """Queue ``text`` to each contact (or, with ``as_group``, to one new group conversation of
    them all). ReplyRefused when the whole send breaks a rule; per-contact refusals are in the
    result."""
    # Consent is read from the database, not from the caller's (possibly stale) objects.
    order = list(dict.fromkeys(contact.pk for contact in contacts))
    fresh = Contact.objects.in_bulk(order)
    unique = [fresh[pk] for pk in order if pk in fresh]
    name = account.get_platform_display()
    if not unique:
        raise ReplyRefused("no_recipients", gettext("Choose at least one contact."))
    limit = recipient_limit(account, as_group=as_group)
    if as_group and limit == 0:
        raise ReplyRefused(
            "no_groups",
            gettext("%(platform)s has no group conversations Parley can start.")
            % {"platform": name},
        )
    if limit == 0:
        raise ReplyRefused(
            "no_bulk_send", f"{name} does not let Parley send one message to several contacts."
        )
    if len(unique) > limit:
        what = "people in one new group besides the account" if as_group else "recipients"
        raise ReplyRefused(
            "too_many_recipients",
            f"{name} allows at most {limit} {what} in one send; this one has {len(unique)}.",
        )
    result = OutreachResult(batch=uuid.uuid4().hex)
    rules = get_connector(account.platform).rules
    identities = {
        identity.contact_id: identity
        for identity in ContactIdentity.objects.filter(account=account, contact__in=unique)
    }
    ready: list[tuple[Contact, ContactIdentity]] = []
    for contact in unique:
        identity = identities.get(contact.pk)
        if identity is None:
            result.refused.append(
                Refusal(contact, "not_on_platform", f"{contact} has no {name} identity here.")
            )
        elif is_promotional and contact.marketing_consent != Contact.Consent.OPTED_IN:
            result.refused.append(
                Refusal(
                    contact,
                    "not_opted_in",
                    f"{contact} has not opted in to promotional messages.",
                )
            )
        else:
            ready.append((contact, identity))
    if as_group:
        if result.refused:
            names = ", ".join(str(r.contact) for r in result.refused)
            raise ReplyRefused(
                "group_member_refused", f"A group needs every member; refused: {names}."
            )
        result.messages.append(_queue_group(account, ready, text, author, is_promotional, result))
        return result
    for contact, identity in ready:
        conversation = latest_dm_thread(account, contact=contact)
        if conversation is None and not rules.business_can_initiate:
            result.refused.append(
                Refusal(
                    contact,
                    "cannot_initiate",
                    f"{name} only reaches contacts who wrote first; {contact} has not.",
                )
            )
            continue
        try:
            with transaction.atomic():
                if conversation is None:
                    conversation, _ = services.find_or_open_conversation(
                        account=account, identity=identity, kind=Conversation.Kind.DM
                    )
                result.messages.append(
                    services.queue_reply(
                        conversation=conversation,
                        text=text,
                        author=author,
                        is_promotional=is_promotional,
                        metadata={"outreach": result.batch},
                    )
                )
        except ReplyRefused as refused:
            result.refused.append(Refusal(contact, refused.code, refused.detail))
    return result


def _queue_group(
    account: PlatformAccount,
    members: list[tuple[Contact, ContactIdentity]],
    text: str,
    author: User | None,
    is_promotional: bool,
    result: OutreachResult,
) -> Message:
    """A new group conversation of these members; the platform creates it with the first
    message (X ``POST /2/dm_conversations``) and gives back its id."""
    conversation = Conversation.objects.create(
        account=account, kind=Conversation.Kind.GROUP, contact=members[0][0]
    )
    conversation.participants.add(*(identity for _, identity in members))
    domain_events.record(
        conversation,
        ConversationEvent.Kind.CREATED,
        data={"kind": Conversation.Kind.GROUP, "outreach": result.batch},
    )
    conversation = Conversation.objects.select_related("account", "contact").get(pk=conversation.pk)
    return services.queue_reply(
        conversation=conversation,
        text=text,
        author=author,
        is_promotional=is_promotional,
        metadata={
            "outreach": result.batch,
            "group_participant_ids": [identity.platform_user_id for _, identity in members],
        },
    )
