"""A platform's refusal to deliver a DM because of the contact's own settings (X answers 403 when
a contact does not accept DMs from the account), remembered so the composer of every
conversation with that contact says so before an agent writes again, until a send succeeds.

The connector only says what happened (``DeliveryError(code="dm_refused")``); delivery keeps the
memory here, on the conversations' metadata, which the reply policy reads.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from connectors.base import OutboundMessage
from inbox.models import ContactIdentity, Conversation, PlatformAccount

# Conversation.metadata key the reply policy reads (see ``send_warning``).
SEND_WARNING = "send_warning"


def remember_send_refusal(
    *, account: PlatformAccount, outbound: OutboundMessage, reason: str
) -> int:
    """The platform refused a DM: the composer of every conversation with that contact (or
    that group thread) says so until a send there succeeds."""
    warning = {
        "code": "dm_refused",
        # Stored, then shown to every agent: in the language of the site (LANGUAGE_CODE).
        "detail": gettext(
            "This contact's settings may refuse DMs from this account: %(platform)s refused "
            "the last one. %(reason)s"
        )
        % {"platform": account.get_platform_display(), "reason": reason},
        "at": timezone.now().isoformat(),
    }
    count = 0
    for conversation in _conversations(account, outbound):
        Conversation.objects.filter(pk=conversation.pk).update(
            metadata={**conversation.metadata, SEND_WARNING: warning}
        )
        count += 1
    return count


def clear_send_refusal(*, account: PlatformAccount, outbound: OutboundMessage) -> int:
    """A send went through: a refusal remembered for that contact (or thread) no longer holds."""
    count = 0
    for conversation in _conversations(account, outbound).filter(metadata__has_key=SEND_WARNING):
        metadata = dict(conversation.metadata)
        metadata.pop(SEND_WARNING, None)
        Conversation.objects.filter(pk=conversation.pk).update(metadata=metadata)
        count += 1
    return count


def _conversations(account: PlatformAccount, outbound: OutboundMessage) -> QuerySet[Conversation]:
    """A 1:1 refusal concerns the contact in every DM with them; a group's, its thread."""
    query = Conversation.objects.filter(account=account)
    if outbound.conversation_kind == Conversation.Kind.DM and outbound.recipient_id:
        contacts = ContactIdentity.objects.filter(
            account=account, platform_user_id=outbound.recipient_id
        ).values("contact_id")
        return query.filter(contact__in=contacts, kind=Conversation.Kind.DM)
    if outbound.thread_external_id:
        return query.filter(external_thread_id=outbound.thread_external_id)
    return query.none()


def send_warning(conversation: Conversation) -> dict[str, str] | None:
    """The refusal remembered on this conversation (``code``, ``detail``), if any."""
    warning = (conversation.metadata or {}).get(SEND_WARNING)
    if isinstance(warning, dict) and warning.get("detail"):
        return warning
    return None
