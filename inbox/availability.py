"""Agent availability: online, busy or away, chosen by the agent and shown to the team.

- Online: auto-assignment gives them new conversations while their dashboard is open.
- Busy: they keep what they have and get nothing new.
- Away: nothing new, and after ``AVAILABILITY_REQUEUE_MINUTES`` their open conversations go
  back to the queue. So do those of an agent whose dashboard has been closed that long
  (offline): a conversation waiting on someone who is not there is worse than a reassignment.

Every change and every requeue is written to the audit log. Teammates' pages hear of a change
over the live socket (a notification only: a page load shows the current state).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from inbox import assignment, live, presence, services
from inbox.access import visible_account_ids
from inbox.models import Conversation, Team, User, validate_time_zone
from inbox.settings_area import audit

log = logging.getLogger(__name__)

# Conversations moved per pass at most; the next pass takes the rest.
REQUEUE_BATCH = 500


def set_availability(*, user: User, availability: str, actor: User | None = None) -> bool:
    """The agent (or an admin for them) says whether they take work. True when it changed."""
    if availability not in User.Availability.values:
        raise ValueError(gettext("Choose online, busy or away."))
    if user.availability == availability:
        return False
    previous = user.availability
    with transaction.atomic():
        user.availability = availability
        user.availability_changed_at = timezone.now()
        user.save(update_fields=["availability", "availability_changed_at"])
        audit.record(
            actor=actor or user,
            action="user.availability_changed",
            target=user,
            changes={"availability": (previous, availability)},
        )
        # Someone choosing for themselves is here, whether or not a socket is open this instant
        # (they may be between two pages).
        announce(user, here=actor is None or actor == user)
        if availability == User.Availability.ONLINE:
            assignment.fill_queues_for(user)  # new capacity: the queue comes first
    return True


def set_time_zone(*, user: User, time_zone: str, actor: User | None = None) -> bool:
    """The zone the agent's snooze presets and times use (an IANA name, or "" for the
    server's). ValidationError for a name zoneinfo does not know."""
    validate_time_zone(time_zone)
    if user.time_zone == time_zone:
        return False
    previous = user.time_zone
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])
    audit.record(
        actor=actor or user,
        action="user.time_zone_changed",
        target=user,
        changes={"time_zone": (previous, time_zone)},
    )
    return True


def announce(user: User, *, here: bool = False) -> None:
    """Tell the pages of everyone who shares an account with the user (teammates, admins),
    after commit. Only chosen changes are pushed: a socket closing and opening again is every
    page load, and would flicker on every teammate's screen."""
    here = here or user.pk in presence.online_user_ids()
    status = user.availability if here else presence.OFFLINE
    live.to_accounts_on_commit(visible_account_ids(user), live.availability(user, status=status))


# --- Requeue ----------------------------------------------------------------------------------


def absent_agents(now: datetime | None = None) -> dict[int, str]:
    """{user id: "away" or "offline"} for agents gone longer than the grace period."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.AVAILABILITY_REQUEUE_MINUTES)
    online = presence.online_user_ids(now)
    gone_away = Q(availability=User.Availability.AWAY, availability_changed_at__lte=cutoff)
    gone_offline = ~Q(pk__in=online) & (
        Q(presence__isnull=True) | Q(presence__last_seen_at__lte=cutoff)
    )
    users = User.objects.filter(
        gone_away | gone_offline,
        pk__in=Conversation.objects.filter(
            status=Conversation.Status.OPEN, assignee__isnull=False
        ).values("assignee_id"),
    ).values_list("pk", flat=True)
    return {pk: presence.OFFLINE if pk not in online else User.Availability.AWAY for pk in users}


def requeue_from_absent_agents(now: datetime | None = None) -> int:
    """Open conversations of agents away or offline past the grace period go back to the queue:
    unassigned, under the auto-assigning team responsible (which hands them out at once when
    someone is free). Returns how many moved. ``AVAILABILITY_REQUEUE_MINUTES`` = 0 turns it off."""
    if settings.AVAILABILITY_REQUEUE_MINUTES <= 0:
        return 0
    absent = absent_agents(now)
    if not absent:
        return 0
    conversations = (
        Conversation.objects.filter(status=Conversation.Status.OPEN, assignee_id__in=absent)
        .select_related("account", "assignee")
        .order_by("waiting_since", "id")[:REQUEUE_BATCH]
    )
    teams: dict[int, Team] = {}
    moved = 0
    for conversation in conversations:
        agent = conversation.assignee
        with transaction.atomic():
            team = assignment.team_for(conversation)
            services.assign(conversation=conversation, actor=None, assignee=None, team=team)
            audit.record(
                actor=None,
                action="conversation.requeued",
                target=conversation,
                target_repr=f"Conversation {conversation.pk}",
                changes={"assignee": (agent.display_name, None)},
                extra={"reason": absent[agent.pk], "agent_id": agent.pk},
            )
        if team is not None:
            teams[team.pk] = team
        moved += 1
    for team in teams.values():
        assignment.fill_queue(team)
    if moved:
        log.info("requeued %s conversation(s) of %s absent agent(s)", moved, len(absent))
    return moved
