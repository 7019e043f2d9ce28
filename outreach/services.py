"""Outreach to creators and partners: make a list, explain per handle what each platform's
first-contact rule allows, send through the normal delivery path, show who replied, and remind
the owner to follow up.

The rules are the platforms' (``PlatformRules`` through ``inbox.outreach`` and
``inbox.policy``): X DMs anyone whose settings allow it (X refuses otherwise, and the refusal
is recorded on the message), in groups of up to 50; Messenger and Instagram reach only people
who wrote first, inside their window, Instagram at most 15 at once — where a first DM is
impossible, the list offers the public-comment path instead. Sends are ``inbox.outreach``'s:
one queued message per contact, each conversation labelled with the list.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from connectors.base import DeliveryError
from connectors.registry import get_connector
from inbox import outreach as bulk
from inbox import services
from inbox.models import (
    ContactIdentity,
    Conversation,
    Label,
    Message,
    PlatformAccount,
    User,
)
from inbox.policy import reply_policy
from inbox.send_refusals import send_warning
from notifications.models import Notification
from notifications.services import notify
from outreach.models import OutreachList, Recipient

log = logging.getLogger(__name__)

# Handles one list holds at most (a form, not a campaign: campaigns reach thousands).
MAX_HANDLES = 500
MAX_FOLLOW_UP_DAYS = 60
NAME_LENGTH = 120
# A handle as people type it: a username or a platform id, without spaces.
HANDLE = re.compile(r"[\w.\-:]{1,100}")


class OutreachError(Exception):
    """A list or a send refused as a whole; nothing was changed."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Plan:
    """What happens to one handle, in words a manager reads before sending."""

    recipient: Recipient
    # A first DM may go (X: subject to the recipient's settings, which X decides).
    can_dm: bool
    code: str
    detail: str
    # Where the public-comment path starts: a comment conversation of theirs, if any.
    comment_conversation: Conversation | None = None


@dataclass(frozen=True)
class SendSummary:
    sent: int
    refused: int
    public: int
    # Still pending: beyond what the platform allows in one send.
    left: int


# --- Making a list ----------------------------------------------------------------------------


def parse_handles(text: str) -> list[str]:
    """Handles from a textarea: one per line (or separated by commas or spaces), "@" optional,
    repeats dropped (case-insensitively). OutreachError for one that is not a handle."""
    return clean_handles(re.split(r"[\s,;]+", text))


def clean_handles(given: list[str]) -> list[str]:
    found: dict[str, str] = {}
    for raw in given:
        handle = raw.strip().lstrip("@")
        if not handle:
            continue
        if not HANDLE.fullmatch(handle):
            raise OutreachError(
                "bad_handle", _("“%(handle)s” is not a handle.") % {"handle": raw[:100]}
            )
        found.setdefault(handle.lower(), handle)
    return list(found.values())


@transaction.atomic
def create_list(
    *,
    name: str,
    account: PlatformAccount,
    owner: User,
    first_message: str,
    handles: list[str],
    as_group: bool = False,
    follow_up_days: int = 3,
) -> OutreachList:
    """A new list; each handle is matched to the account's contacts now (by username or
    platform id), the others are looked up when sent (where the platform can)."""
    name, first_message = name.strip(), first_message.strip()
    handles = clean_handles(handles)
    rules = get_connector(account.platform).rules
    if not name or len(name) > NAME_LENGTH:
        raise OutreachError(
            "bad_name",
            _("Give the list a name of 1 to %(limit)s characters.") % {"limit": NAME_LENGTH},
        )
    if not first_message:
        raise OutreachError("no_message", _("Write the first message."))
    if len(first_message) > rules.max_text_length:
        raise OutreachError(
            "text_too_long",
            _("%(platform)s accepts at most %(limit)s characters; this message has %(count)s.")
            % {
                "platform": account.get_platform_display(),
                "limit": rules.max_text_length,
                "count": len(first_message),
            },
        )
    if not handles:
        raise OutreachError("no_handles", _("Add at least one handle."))
    if len(handles) > MAX_HANDLES:
        raise OutreachError(
            "too_many_handles",
            _("A list holds at most %(limit)s handles.") % {"limit": MAX_HANDLES},
        )
    if as_group and rules.max_group_participants is None:
        raise OutreachError(
            "no_groups",
            _("%(platform)s has no group conversations Parley can start.")
            % {"platform": account.get_platform_display()},
        )
    if not 0 <= follow_up_days <= MAX_FOLLOW_UP_DAYS:
        raise OutreachError(
            "bad_follow_up",
            _("Follow up after 0 to %(limit)s days.") % {"limit": MAX_FOLLOW_UP_DAYS},
        )
    label, _created = Label.objects.get_or_create(name=f"Outreach: {name}"[:64])
    outreach = OutreachList.objects.create(
        name=name,
        account=account,
        owner=owner,
        first_message=first_message,
        as_group=as_group,
        follow_up_days=follow_up_days,
        label=label,
    )
    known = _known_identities(account, handles)
    Recipient.objects.bulk_create(
        Recipient(outreach=outreach, handle=handle, identity=known.get(handle.lower()))
        for handle in handles
    )
    return outreach


def _known_identities(account: PlatformAccount, handles: list[str]) -> dict[str, ContactIdentity]:
    """The account's identities these handles name, by lower-cased handle: a platform id, or a
    username in any case."""
    lowered = [h.lower() for h in handles]
    found: dict[str, ContactIdentity] = {}
    for identity in ContactIdentity.objects.filter(account=account, platform_user_id__in=handles):
        found[identity.platform_user_id.lower()] = identity
    by_username = ContactIdentity.objects.annotate(handle=Lower("username")).filter(
        account=account, handle__in=lowered
    )
    for identity in by_username:
        found.setdefault(identity.handle, identity)
    return found


# --- The plan: each platform's first-contact rule, explained per handle ------------------------


def plan(outreach: OutreachList) -> list[Plan]:
    """Every recipient with what happened or what will happen to it."""
    recipients = with_replies(
        outreach.recipients.select_related("identity__contact", "message")
    ).order_by("id")
    return explain_all(outreach, list(recipients))


def explain_all(outreach: OutreachList, recipients: list[Recipient]) -> list[Plan]:
    """``explain`` for many recipients, their contacts' threads read in two queries."""
    threads = Threads.of(outreach.account, [r for r in recipients if r.identity is not None])
    return [explain(outreach, recipient, threads) for recipient in recipients]


@dataclass(frozen=True)
class Threads:
    """The latest DM thread and the latest comment conversation of each contact on the
    account (what the first-contact rules look at), by contact id."""

    dms: dict[int, Conversation]
    comments: dict[int, Conversation]

    @classmethod
    def of(cls, account: PlatformAccount, recipients: list[Recipient]) -> Threads:
        contacts = {r.identity.contact_id for r in recipients}
        found = (
            Conversation.objects.select_related("account", "contact")
            .filter(account=account, contact_id__in=contacts)
            .filter(kind__in=[Conversation.Kind.DM, Conversation.Kind.COMMENT])
        )
        dms: dict[int, Conversation] = {}
        comments: dict[int, Conversation] = {}
        # Oldest first: the newest overwrites (``latest_dm_thread`` takes the newest id).
        for conversation in found.order_by("id") if contacts else ():
            if conversation.kind == Conversation.Kind.DM:
                dms[conversation.contact_id] = conversation
            else:
                comments[conversation.contact_id] = conversation
        return cls(dms, comments)


def explain(outreach: OutreachList, recipient: Recipient, threads: Threads) -> Plan:
    if recipient.status != Recipient.Status.PENDING:
        return _explain_done(recipient)
    account = outreach.account
    rules = get_connector(account.platform).rules
    platform = account.get_platform_display()
    words = {"platform": platform, "handle": recipient.handle}
    identity = recipient.identity
    if not rules.direct_messages:
        return Plan(
            recipient,
            False,
            "no_dms",
            _(
                "%(platform)s has no direct messages Parley can send: reach @%(handle)s with a public comment instead."
            )
            % words,
        )
    if rules.business_can_initiate:
        if outreach.as_group:
            detail = _(
                "In one new group conversation with everyone on the list (at most "
                "%(people)s people with the account). X refuses someone whose settings do not "
                "allow it, and the reason is recorded."
            ) % {"people": rules.max_group_participants}
            return Plan(recipient, True, "group", detail)
        dm = threads.dms.get(identity.contact_id) if identity else None
        warning = send_warning(dm) if dm is not None else None
        if warning is not None:
            return Plan(recipient, True, "dm_refused", warning["detail"])
        if identity is None:
            detail = _(
                "Looked up on %(platform)s when sent. A DM where their settings allow it: "
                "%(platform)s refuses otherwise, and the reason is recorded."
            )
        else:
            detail = _(
                "A DM where their settings allow it: %(platform)s refuses otherwise, and the "
                "reason is recorded."
            )
        return Plan(recipient, True, "dm", detail % words)
    # Messenger and Instagram: only people who wrote first, inside their window.
    dm = threads.dms.get(identity.contact_id) if identity else None
    comment = threads.comments.get(identity.contact_id) if identity else None
    if dm is not None:
        policy = reply_policy(dm)
        if policy.allowed:
            return Plan(
                recipient,
                True,
                "wrote_first",
                _("They wrote first. %(rule)s") % {"rule": policy.detail or ""},
            )
        reason = policy.detail
    else:
        reason = (
            _(
                "%(platform)s allows a first DM only to people who wrote to the account first, "
                "and @%(handle)s has not."
            )
            % words
        )
    if comment is not None:
        path = _(
            "Public-comment path: answer their comment publicly (or with the one private "
            "reply); a DM is possible once they write."
        )
    else:
        path = _(
            "Public-comment path: comment on or reply to one of their posts, or mention them; "
            "a DM is possible once they write."
        )
    return Plan(recipient, False, "public_path", f"{reason} {path}", comment)


def _explain_done(recipient: Recipient) -> Plan:
    if recipient.status == Recipient.Status.SENT and recipient.message is not None:
        message = recipient.message
        if message.status == Message.Status.FAILED:
            return Plan(recipient, False, "failed", message.error)
        detail = message.get_status_display()
        if message.error:
            detail = f"{detail}: {message.error}"
        return Plan(recipient, True, message.status, detail)
    return Plan(
        recipient,
        recipient.status == Recipient.Status.SENT,
        recipient.code or recipient.status,
        recipient.reason,
    )


def batch_limit(outreach: OutreachList) -> int:
    """Recipients one send may take (Instagram 15; X 49 others in one group of 50)."""
    return bulk.recipient_limit(outreach.account, as_group=outreach.as_group)


# --- Sending ----------------------------------------------------------------------------------


def send_list(*, outreach: OutreachList, actor: User) -> SendSummary:
    """Send the first message to the pending handles, at most ``batch_limit`` of them (the rest
    wait for the next send); a handle no rule lets Parley DM gets its reason or the public
    path. Every message goes through the normal delivery path, its conversation labelled with
    the list. OutreachError when the send as a whole breaks a rule (nothing is sent)."""
    not_found = _look_up_unknown(outreach)
    with transaction.atomic():
        outreach = (
            OutreachList.objects.select_for_update(of=("self",))
            .select_related("account", "label")
            .get(pk=outreach.pk)
        )
        pending = list(
            outreach.recipients.filter(status=Recipient.Status.PENDING).select_related(
                "identity__contact"
            )
        )
        plans = explain_all(outreach, pending)
        ready = [p.recipient for p in plans if p.can_dm and p.recipient.identity is not None]
        limit = batch_limit(outreach)
        if outreach.as_group and len(ready) > limit:
            raise OutreachError(
                "too_many_for_group",
                _(
                    "An X group holds at most %(people)s people: the account and %(limit)s "
                    "others; this list has %(count)s. Split the list or send one by one."
                )
                % {"people": limit + 1, "limit": limit, "count": len(ready)},
            )
        batch = ready[:limit] if limit else []
        now = timezone.now()
        public, refused = 0, not_found
        for p in plans:
            if not p.can_dm:
                status = (
                    Recipient.Status.PUBLIC if p.code == "public_path" else Recipient.Status.REFUSED
                )
                _settle(p.recipient, status, p.code, p.detail)
                public += status == Recipient.Status.PUBLIC
                refused += status == Recipient.Status.REFUSED
        if not batch:
            return SendSummary(0, refused, public, len(ready))
        try:
            result = bulk.send_to_many(
                account=outreach.account,
                contacts=[r.identity.contact for r in batch],
                text=outreach.first_message,
                author=actor,
                as_group=outreach.as_group,
            )
        except services.ReplyRefused as whole:
            raise OutreachError(whole.code, whole.detail) from whole
        refusals = {r.contact.pk: r for r in result.refused}
        by_contact = {m.conversation.contact_id: m for m in result.messages}
        sent = 0
        for recipient in batch:
            contact_id = recipient.identity.contact_id
            refusal = refusals.get(contact_id)
            message = result.messages[0] if outreach.as_group else by_contact.get(contact_id)
            if refusal is not None or message is None:
                code = refusal.code if refusal else "not_sent"
                _settle(
                    recipient, Recipient.Status.REFUSED, code, refusal.detail if refusal else ""
                )
                refused += 1
                continue
            recipient.status, recipient.message, recipient.sent_at = (
                Recipient.Status.SENT,
                message,
                now,
            )
            recipient.code, recipient.reason = "", ""
            recipient.save(update_fields=["status", "message", "sent_at", "code", "reason"])
            sent += 1
        if outreach.label is not None:
            for conversation in {
                m.conversation_id: m.conversation for m in result.messages
            }.values():
                labels = [*conversation.labels.all(), outreach.label]
                services.set_labels(conversation=conversation, labels=labels, actor=actor)
        return SendSummary(sent, refused, public, len(ready) - len(batch))


def _settle(recipient: Recipient, status: str, code: str, reason: str) -> None:
    recipient.status, recipient.code, recipient.reason = status, code, reason[:500]
    recipient.save(update_fields=["status", "code", "reason"])


def _look_up_unknown(outreach: OutreachList) -> int:
    """Handles the account does not know yet, asked of the platform where it can look people
    up (X), before the send's transaction (no network call under its locks). A handle the
    platform does not know is refused with that reason; a platform that cannot answer leaves
    the handle pending for the next send. Returns how many the platform does not know."""
    connector = get_connector(outreach.account.platform)
    if not connector.rules.business_can_initiate:
        return 0
    not_found = 0
    for recipient in outreach.recipients.filter(
        status=Recipient.Status.PENDING, identity__isnull=True
    ):
        try:
            person = connector.find_person(outreach.account, recipient.handle)
        except DeliveryError as exc:
            log.info("outreach lookup of @%s failed: %s", recipient.handle, exc.reason)
            continue
        with transaction.atomic():
            if person is None:
                _settle(
                    recipient,
                    Recipient.Status.REFUSED,
                    "not_found",
                    _("%(platform)s knows no user @%(handle)s.")
                    % {
                        "platform": outreach.account.get_platform_display(),
                        "handle": recipient.handle,
                    },
                )
                not_found += 1
                continue
            recipient.identity = services.get_or_create_identity(
                account=outreach.account, person=person
            )
            recipient.save(update_fields=["identity"])
    return not_found


# --- Replies and follow-ups -------------------------------------------------------------------


def with_replies(recipients: QuerySet[Recipient]) -> QuerySet[Recipient]:
    """Each recipient's first reply time (``replied_at``): their first message after the send
    in the conversation the first message went to — where the inbox shows it, labelled."""
    first_reply = (
        Message.objects.filter(
            conversation_id=OuterRef("message__conversation_id"),
            direction=Message.Direction.INBOUND,
            sender_identity_id=OuterRef("identity_id"),
            sent_at__gt=OuterRef("sent_at"),
        )
        .order_by("sent_at")
        .values("sent_at")[:1]
    )
    return recipients.annotate(replied_at=Subquery(first_reply))


def remind_follow_ups(*, now: datetime | None = None) -> int:
    """The owner of each list hears once about the handles that have not replied
    ``follow_up_days`` after the send. Returns how many recipients were reminded about."""
    now = now or timezone.now()
    reminded = 0
    lists = OutreachList.objects.filter(
        follow_up_days__gt=0,
        owner__isnull=False,
        recipients__status=Recipient.Status.SENT,
        recipients__follow_up_notified_at__isnull=True,
    ).distinct()
    for outreach in lists.select_related("owner"):
        with transaction.atomic():
            due = list(
                with_replies(
                    Recipient.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                        outreach=outreach,
                        status=Recipient.Status.SENT,
                        follow_up_notified_at__isnull=True,
                        sent_at__lte=now - timedelta(days=outreach.follow_up_days),
                    )
                ).filter(replied_at__isnull=True)
            )
            if not due:
                continue
            handles = ", ".join(f"@{r.handle}" for r in due[:10])
            text = ngettext(
                "Outreach “%(name)s”: %(count)s contact has not replied in %(days)s days "
                "(%(handles)s). Time to follow up.",
                "Outreach “%(name)s”: %(count)s contacts have not replied in %(days)s days "
                "(%(handles)s). Time to follow up.",
                len(due),
            ) % {
                "name": outreach.name,
                "count": len(due),
                "days": outreach.follow_up_days,
                "handles": handles,
            }
            notify(
                [outreach.owner],
                kind=Notification.Kind.OUTREACH_FOLLOW_UP,
                conversation=None,
                text=text,
            )
            Recipient.objects.filter(pk__in=[r.pk for r in due]).update(follow_up_notified_at=now)
            reminded += len(due)
    return reminded
