"""Who may see which campaigns: managers and admins, on the accounts they may see."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from campaigns.models import Campaign
from inbox.access import visible_accounts
from inbox.models import PlatformAccount, User


def may_use(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_manager)


def accounts(user: User) -> QuerySet[PlatformAccount]:
    """Accounts a campaign may be made on by this user."""
    if not may_use(user):
        return PlatformAccount.objects.none()
    return visible_accounts(user).order_by("name", "id")


def visible_campaigns(user: User) -> QuerySet[Campaign]:
    if not may_use(user):
        return Campaign.objects.none()
    return Campaign.objects.filter(account__in=accounts(user)).select_related("account")


def get_visible_campaign(user: User, pk: int) -> Campaign:
    campaign = visible_campaigns(user).filter(pk=pk).first()
    if campaign is None:
        raise Http404("No such campaign.")
    return campaign
