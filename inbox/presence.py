"""Who is on the dashboard. The socket counts connections and the page sends a heartbeat;
an agent is online while a socket is open and the heartbeat is recent (a web process that dies
leaves its count behind, the heartbeat ages out). What teammates see is that, combined with the
availability the agent chose (``inbox.availability``): offline, or online / busy / away."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from inbox.models import AgentPresence, User

ONLINE_WINDOW = timedelta(seconds=90)
OFFLINE = "offline"
# What teammates read beside a name, in the reader's language.
STATUS_LABELS = {
    "online": pgettext_lazy("availability", "online"),
    "busy": pgettext_lazy("availability", "busy"),
    "away": pgettext_lazy("availability", "away"),
    OFFLINE: pgettext_lazy("availability", "offline"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def connected(user: User) -> bool:
    """A socket opened. Returns True when the user just came online."""
    presence, created = AgentPresence.objects.get_or_create(
        user=user, defaults={"connections": 1, "last_seen_at": timezone.now()}
    )
    if created:
        return True
    was_online = is_online_row(presence)
    AgentPresence.objects.filter(pk=presence.pk).update(
        connections=F("connections") + 1, last_seen_at=timezone.now()
    )
    return not was_online


def disconnected(user: User) -> None:
    # last_seen_at too: the requeue grace period counts from the last socket closing.
    AgentPresence.objects.filter(user=user).update(
        connections=Greatest(F("connections") - 1, 0), last_seen_at=timezone.now()
    )


def heartbeat(user: User) -> None:
    AgentPresence.objects.filter(user=user).update(last_seen_at=timezone.now())


def is_online_row(presence: AgentPresence, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return presence.connections > 0 and presence.last_seen_at >= now - ONLINE_WINDOW


def online_user_ids(now: datetime | None = None) -> set[int]:
    now = now or timezone.now()
    return set(
        AgentPresence.objects.filter(
            connections__gt=0, last_seen_at__gte=now - ONLINE_WINDOW
        ).values_list("user_id", flat=True)
    )


def with_status(
    users: QuerySet[User], *, viewer: User | None = None, now: datetime | None = None
) -> list[User]:
    """The users, each with ``status`` for display: "offline" without a live dashboard, else
    the availability they chose. In the same query. The viewer is here whatever their socket
    says (it opens only after the page they are loading)."""
    now = now or timezone.now()
    online = Q(presence__connections__gt=0, presence__last_seen_at__gte=now - ONLINE_WINDOW)
    if viewer is not None:
        online |= Q(pk=viewer.pk)
    return list(
        users.annotate(status=Case(When(online, then=F("availability")), default=Value(OFFLINE)))
    )
