"""Auto-assignment per team: new conversations go round-robin to the team's members who are
online on the dashboard and available (not busy or away, ``inbox.availability``), each holding
at most ``Team.max_open_per_agent`` open conversations (or their own cap in ``Team.agent_caps``);
members in ``Team.auto_assign_excluded`` take no part.
What cannot be assigned waits unassigned in the team's queue and is handed out, oldest waiting
first, as capacity frees (an agent comes online, resolves something, or the periodic sweep).
A conversation that comes back keeps its agent while that agent is online and not away.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Count, Q

from inbox import batch, presence, services
from inbox.events import Assigned, DomainEvent, MessageReceived, StatusChanged
from inbox.models import Conversation, Team, User

log = logging.getLogger(__name__)


def team_for(conversation: Conversation) -> Team | None:
    """The auto-assigning team responsible: the conversation's own team, else the first team
    (by id) granted its account that has auto-assignment on."""
    if conversation.team_id:
        team = batch.memoised(
            ("assignment:team", conversation.team_id),
            lambda: Team.objects.filter(pk=conversation.team_id, auto_assign=True).first(),
        )
        if team is not None:
            return team
    return batch.memoised(
        ("assignment:account-team", conversation.account_id),
        lambda: (
            Team.objects.filter(auto_assign=True, accounts=conversation.account_id)
            .order_by("id")
            .first()
        ),
    )


def open_counts(user_ids: list[int]) -> dict[int, int]:
    rows = (
        Conversation.objects.filter(assignee_id__in=user_ids, status=Conversation.Status.OPEN)
        .values("assignee_id")
        .annotate(n=Count("id"))
    )
    return {row["assignee_id"]: row["n"] for row in rows}


def candidates(team: Team) -> list[User]:
    """Online, available, active members who take part, below their cap, in round-robin order
    after the last one served."""
    online = presence.online_user_ids()
    members = list(
        team.members.filter(is_active=True, pk__in=online, availability=User.Availability.ONLINE)
        .exclude(pk__in=team.auto_assign_excluded.values("pk"))
        .order_by("id")
    )
    if not members:
        return []
    counts = open_counts([m.pk for m in members])
    free = [m for m in members if counts.get(m.pk, 0) < cap_of(team, m.pk)]
    last = team.last_auto_assignee_id or 0
    after = [m for m in free if m.pk > last]
    before = [m for m in free if m.pk <= last]
    return after + before


def cap_of(team: Team, user_id: int) -> int:
    """The most open conversations auto-assignment gives this member."""
    own = (team.agent_caps or {}).get(str(user_id))
    return own if isinstance(own, int) and own >= 0 else team.max_open_per_agent


def on_events(events: list[DomainEvent]) -> None:
    """The assignment listener: a conversation a customer wrote in goes to the next agent of
    its team, unless its agent keeps it. Returning (the customer came back to a resolved or
    snoozed conversation: its status change is in the same dispatch), only an agent who is
    there keeps it. Each conversation is read again under its row lock. An agent who lost a
    conversation or whose conversation was resolved takes the next one waiting, whoever made
    the change (the dashboard, the API, an automation rule)."""
    returning = {
        e.conversation_id
        for e in events
        if isinstance(e, StatusChanged)
        and e.data.get("reason") == services.CUSTOMER_WROTE
        and e.previous in (Conversation.Status.RESOLVED, Conversation.Status.SNOOZED)
    }
    wrote = {
        e.conversation_id for e in events if isinstance(e, MessageReceived) and not e.is_system
    }
    for conversation in (
        Conversation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("account")
        .filter(pk__in=wrote)
        .order_by("pk")
    ):
        on_inbound(conversation, returning=conversation.pk in returning)
    for user in User.objects.filter(pk__in=_freed(events)):
        fill_queues_for(user)


def _freed(events: list[DomainEvent]) -> set[int]:
    """The agents these events gave capacity back to."""
    freed = {
        e.data["from"]
        for e in events
        if isinstance(e, Assigned) and e.data.get("from") and e.data["from"] != e.data.get("to")
    }
    resolved = {
        e.conversation_id
        for e in events
        if isinstance(e, StatusChanged) and e.status == Conversation.Status.RESOLVED
    }
    if resolved:
        freed |= set(
            Conversation.objects.filter(pk__in=resolved, assignee__isnull=False).values_list(
                "assignee_id", flat=True
            )
        )
    return freed


def on_inbound(conversation: Conversation, *, returning: bool) -> User | None:
    if conversation.status != Conversation.Status.OPEN:
        return None
    if conversation.assignee_id is not None and (
        not returning or keeps_conversations(conversation.assignee_id)
    ):
        return None  # still with its agent
    team = team_for(conversation)
    if team is None:
        return None
    return assign_next(conversation, team)


def keeps_conversations(user_id: int) -> bool:
    """A returning customer stays with an agent who is there: online and not away (a busy
    agent keeps their own conversations, they only get no new ones)."""
    return (
        user_id in presence.online_user_ids()
        and not User.objects.filter(pk=user_id, availability=User.Availability.AWAY).exists()
    )


def assign_next(conversation: Conversation, team: Team) -> User | None:
    """Give the conversation to the next agent of the team, or leave it in the team's queue."""
    with transaction.atomic():
        # One round-robin at a time per team: concurrent ingest workers must not both pick the
        # same "next" agent past the cap.
        team = Team.objects.select_for_update().get(pk=team.pk)
        choice = next(iter(candidates(team)), None)
        if choice is None:
            if conversation.team_id != team.pk or conversation.assignee_id is not None:
                services.assign(conversation=conversation, actor=None, assignee=None, team=team)
            log.info("conversation %s queued for team %s", conversation.pk, team.pk)
            return None
        services.assign(conversation=conversation, actor=None, assignee=choice, team=team)
        Team.objects.filter(pk=team.pk).update(last_auto_assignee=choice)
    return choice


def queued(team: Team):
    """The team's queue: open, unassigned conversations of its accounts, oldest waiting first."""
    return (
        Conversation.objects.filter(
            Q(team=team) | Q(team__isnull=True, account__in=team.accounts.all()),
            status=Conversation.Status.OPEN,
            assignee__isnull=True,
            is_test=False,  # the settings area's test events are nobody's work
        )
        .select_related("account")
        .order_by("waiting_since", "id")
    )


def fill_queue(team: Team, *, limit: int = 200) -> int:
    """Assign queued conversations while the team has capacity; returns how many."""
    if not team.auto_assign:
        return 0
    assigned = 0
    for conversation in queued(team)[:limit]:
        if assign_next(conversation, team) is None:
            break
        assigned += 1
    return assigned


def fill_all_queues() -> int:
    return sum(fill_queue(team) for team in Team.objects.filter(auto_assign=True))


def fill_queues_for(user: User) -> int:
    """Capacity appeared for this user (came online, closed a conversation)."""
    return sum(fill_queue(team) for team in user.teams.filter(auto_assign=True))
