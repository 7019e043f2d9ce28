"""Who may see what. Every page, API call, search, export and socket reads these selectors."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from inbox.models import Conversation, PlatformAccount, User


def visible_accounts(user: User) -> QuerySet[PlatformAccount]:
    """Admins see every account; everyone else the accounts their teams are granted."""
    if not user.is_authenticated or not user.is_active:
        return PlatformAccount.objects.none()
    if user.is_admin:
        return PlatformAccount.objects.all()
    return PlatformAccount.objects.filter(teams__members=user).distinct()


def visible_account_ids(user: User) -> list[int]:
    return list(visible_accounts(user).values_list("id", flat=True))


def visible_conversations(user: User) -> QuerySet[Conversation]:
    if not user.is_authenticated or not user.is_active:
        return Conversation.objects.none()
    if user.is_admin:
        return Conversation.objects.all()
    return Conversation.objects.filter(account_id__in=visible_account_ids(user))


def get_visible_conversation(user: User, pk: int) -> Conversation:
    """The conversation, or 404 — the same answer whether it does not exist or is not yours."""
    conversation = visible_conversations(user).select_related("account", "contact").filter(pk=pk)
    found = conversation.first()
    if found is None:
        raise Http404("No such conversation")
    return found


def users_who_may_see(conversation: Conversation) -> QuerySet[User]:
    """The active users who may see a conversation (the rule above, from the other side):
    admins, and members of a team granted its account. For notifying and mentioning people."""
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(role=User.Role.ADMIN)
            | Q(teams__accounts=conversation.account_id)
        )
        .distinct()
    )


def account_group(account_id: int) -> str:
    """The Channels group that carries one account's live events."""
    return f"account.{account_id}"


def user_group(user_id: int) -> str:
    """The Channels group of one user's sockets (personal events, forced disconnects)."""
    return f"user.{user_id}"
