"""The two actions that leave the inbox through other apps: notify people (``notifications``)
and send an outbound webhook (``outbound_webhooks``), with the functions agreed for them.

Those apps are built alongside this one; where one is not installed the action is refused with
that reason (never silently), and rules that use it say so in their runs.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from inbox.models import Conversation, Team, User

try:  # helper D's app: notify(recipients, *, kind, conversation, text, actor) -> [Notification]
    from notifications import services as notifications
except ImportError:  # not merged in this deployment yet
    notifications = None

try:  # helper E's app: send_to_subscription(subscription_id, *, event, data) -> None
    from outbound_webhooks import services as outbound_webhooks
except ImportError:  # not merged in this deployment yet
    outbound_webhooks = None


class Unavailable(Exception):
    pass


def notify(
    *, value: dict[str, Any], conversation: Conversation, actor: User | None, kind: str
) -> int:
    """Notify the users and team members named in the action; returns how many were notified."""
    if notifications is None:
        raise Unavailable(_("Notifications are not installed here."))
    recipients = {u.pk: u for u in User.objects.filter(pk__in=value["users"], is_active=True)}
    for team in Team.objects.filter(name__in=value["teams"]):
        for member in notifications.team_members(team):
            recipients.setdefault(member.pk, member)
    made = notifications.notify(
        list(recipients.values()),
        kind=kind,
        conversation=conversation,
        text=value["text"],
        actor=actor,
    )
    # notify() leaves out whoever may not see the conversation.
    return len(made)


def send_webhook(*, subscription: int, event: str, data: dict[str, Any]) -> None:
    if outbound_webhooks is None:
        raise Unavailable(_("Outbound webhooks are not installed here."))
    outbound_webhooks.send_to_subscription(subscription, event=event, data=data)
