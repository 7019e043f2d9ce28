"""Who of a campaign's audience may receive it, and why not: read in bulk for the preview and
the plan (10 000 contacts in a few queries), and again for each recipient at its turn.

In the order tried (the first that applies is the reason shown):

- ``not_on_platform``: no identity on the campaign's account;
- ``opted_out`` / ``not_opted_in``: promotional messages go only to contacts who opted in;
- ``platform_cannot_send``: the platform has no messages Parley can send (LinkedIn);
- ``cannot_initiate`` / ``window_closed`` (Messenger, Instagram): the customer must have
  written first, and a promotion goes only inside the standard window: none of Meta's message
  tags (human agent, confirmed event, post-purchase, account update) allows promotional content;
- ``dm_closed`` (X): the contact's DM settings refused the account's last DM;
- ``frequency_cap``: a promotional message reached the person in the last N days
  (``CAMPAIGN_FREQUENCY_CAP_DAYS``);
- ``missing_attribute``: the text names an attribute the contact does not have.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import audience
from campaigns.models import Campaign
from connectors.registry import get_connector
from inbox.models import Contact, ContactIdentity, Conversation, Message
from inbox.send_refusals import SEND_WARNING


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    reason: str = ""
    detail: str = ""


ELIGIBLE = Verdict(True)


@dataclass(frozen=True)
class _Thread:
    last_inbound_at: datetime | None
    dm_refused: bool


def frequency_cap() -> timedelta:
    return timedelta(days=settings.CAMPAIGN_FREQUENCY_CAP_DAYS)


def check(
    campaign: Campaign,
    contacts: Iterable[Contact],
    *,
    now: datetime | None = None,
    scope: QuerySet | None = None,
) -> dict[int, Verdict]:
    """A verdict per contact id. ``scope``: the query the contacts came from (their ids as a
    subquery), so a whole audience is read without sending thousands of ids back."""
    now = now or timezone.now()
    contacts = list(contacts)
    ids: QuerySet | list[int] = (
        scope.values("pk") if scope is not None else [c.pk for c in contacts]
    )
    account = campaign.account
    rules = get_connector(account.platform).rules
    platform = account.get_platform_display()
    on_account = set(
        ContactIdentity.objects.filter(account=account, contact_id__in=ids).values_list(
            "contact_id", flat=True
        )
    )
    threads = _latest_threads(campaign, ids)
    capped = _recently_promoted(ids, since=now - frequency_cap())
    verdicts: dict[int, Verdict] = {}
    for contact in contacts:
        verdicts[contact.pk] = _one(
            campaign, contact, rules, platform, contact.pk in on_account, threads, capped, now
        )
    return verdicts


def _one(campaign, contact, rules, platform, on_account, threads, capped, now) -> Verdict:
    if not on_account:
        return Verdict(
            False, "not_on_platform", _("No identity on this %(p)s account.") % {"p": platform}
        )
    if campaign.promotional and contact.marketing_consent == Contact.Consent.OPTED_OUT:
        return Verdict(False, "opted_out", _("Opted out of promotional messages."))
    if campaign.promotional and contact.marketing_consent != Contact.Consent.OPTED_IN:
        return Verdict(False, "not_opted_in", _("Has not opted in to promotional messages."))
    if rules.max_recipients_per_send == 0:
        return Verdict(
            False,
            "platform_cannot_send",
            _("%(p)s has no messages Parley can send to a contact.") % {"p": platform},
        )
    thread = threads.get(contact.pk)
    if not rules.business_can_initiate:
        if thread is None or thread.last_inbound_at is None:
            return Verdict(
                False,
                "cannot_initiate",
                _("%(p)s only reaches contacts who wrote first; this one has not.")
                % {"p": platform},
            )
        if rules.reply_window is not None and now - thread.last_inbound_at > rules.reply_window:
            return Verdict(
                False,
                "window_closed",
                _(
                    "Last wrote more than %(h)d h ago: %(p)s allows promotions only inside that "
                    "window (no message tag covers them)."
                )
                % {"h": rules.reply_window.total_seconds() // 3600, "p": platform},
            )
    elif thread is not None and thread.dm_refused:
        return Verdict(
            False,
            "dm_closed",
            _("Their %(p)s DM settings refused the account's last DM.") % {"p": platform},
        )
    if contact.pk in capped:
        return Verdict(
            False,
            "frequency_cap",
            _("Received a promotional message in the last %(n)d days.")
            % {"n": settings.CAMPAIGN_FREQUENCY_CAP_DAYS},
        )
    missing = audience.missing_attributes(campaign.text, contact)
    if missing:
        return Verdict(
            False,
            "missing_attribute",
            _("No value for the attribute “%(key)s” the text uses.") % {"key": missing[0]},
        )
    return ELIGIBLE


def _latest_threads(campaign: Campaign, ids: QuerySet | list[int]) -> dict[int, _Thread]:
    """Each contact's latest DM thread on the account (the one a campaign message goes to)."""
    rows = (
        Conversation.objects.filter(
            account=campaign.account, contact_id__in=ids, kind=Conversation.Kind.DM
        )
        .order_by("contact_id", "id")
        .values_list("contact_id", "last_inbound_at", "metadata")
    )
    # Ascending ids: the latest thread of each contact is written last.
    return {
        contact_id: _Thread(last_inbound_at, SEND_WARNING in (metadata or {}))
        for contact_id, last_inbound_at, metadata in rows
    }


def _recently_promoted(ids: QuerySet | list[int], *, since: datetime) -> set[int]:
    """Contacts a promotional message was queued or sent to since then (on any account: the
    cap is per person), failed ones aside."""
    return set(
        Message.objects.filter(
            ~Q(status=Message.Status.FAILED),
            is_promotional=True,
            direction=Message.Direction.OUTBOUND,
            created_at__gte=since,
            conversation__contact_id__in=ids,
        )
        .values_list("conversation__contact_id", flat=True)
        .distinct()
    )
