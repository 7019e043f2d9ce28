"""Auto-assignment: round-robin among online members under their cap, a queue for the rest,
returning conversations keep an online agent."""

from __future__ import annotations

import pytest
from django.utils import timezone

from inbox import assignment, presence, services
from inbox.models import AgentPresence
from tests.factories import UserFactory
from tests.helpers import committed, customer_writes, online, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def auto_team(team):
    team.auto_assign = True
    team.max_open_per_agent = 2
    team.save()
    return team


def test_nothing_happens_without_auto_assignment(account, agent):
    online(agent)
    assert customer_writes(account, "c1", "m1").assignee is None


def test_round_robin_among_online_members(account, auto_team, agent, teammate, outsider):
    auto_team.members.add(UserFactory(username="offline-olga"))
    online(agent, teammate, outsider)  # the outsider is online but not in the team
    assignees = [customer_writes(account, f"c{i}", f"m{i}").assignee for i in range(4)]
    assert assignees == [agent, teammate, agent, teammate]


def test_cap_then_queue_then_handed_out_as_capacity_frees(account, auto_team, agent):
    online(agent)
    first, second, third = (customer_writes(account, f"c{i}", f"m{i}") for i in range(3))
    assert first.assignee == agent and second.assignee == agent
    third.refresh_from_db()
    assert third.assignee is None and third.team == auto_team  # waiting in the queue
    assert list(assignment.queued(auto_team)) == [third]

    services.change_status(conversation=first, status="resolved", actor=agent)
    assert assignment.fill_queues_for(agent) == 1
    third.refresh_from_db()
    assert third.assignee == agent


def test_agent_coming_online_takes_from_the_queue(account, auto_team, agent):
    queued = customer_writes(account, "c1", "m1")
    assert queued.assignee is None
    online(agent)
    assert assignment.fill_all_queues() == 1
    queued.refresh_from_db()
    assert queued.assignee == agent


def test_returning_conversation_keeps_its_agent_only_while_online(
    account, auto_team, agent, teammate
):
    online(agent, teammate)
    conversation = customer_writes(account, "c1", "m1")
    owner = conversation.assignee
    services.change_status(conversation=conversation, status="resolved", actor=owner)
    assert customer_writes(account, "c1", "m2").assignee == owner

    conversation.refresh_from_db()
    services.change_status(conversation=conversation, status="resolved", actor=owner)
    AgentPresence.objects.filter(user=owner).update(connections=0)
    came_back = customer_writes(account, "c1", "m3")
    assert came_back.assignee not in (None, owner)


def test_stale_heartbeat_is_offline(account, auto_team, agent):
    online(agent)
    AgentPresence.objects.filter(user=agent).update(
        last_seen_at=timezone.now() - presence.ONLINE_WINDOW * 2
    )
    assert customer_writes(account, "c1", "m1").assignee is None


def _full_with_one_waiting(account, auto_team, agent):
    online(agent)
    first, second, third = (customer_writes(account, f"c{i}", f"m{i}") for i in range(3))
    assert first.assignee == agent and second.assignee == agent
    third.refresh_from_db()
    assert third.assignee is None  # waiting in the team's queue
    return first, third


def test_resolving_on_the_dashboard_hands_the_agent_the_next_waiting_one(
    client, account, auto_team, agent
):
    first, third = _full_with_one_waiting(account, auto_team, agent)
    client.force_login(agent)
    with committed():
        client.post(f"/conversations/{first.pk}/actions/", {"action": "resolve"})
    third.refresh_from_db()
    assert third.assignee == agent


def test_handing_a_conversation_on_through_the_api_gives_the_agent_the_next_waiting_one(
    account, auto_team, agent, teammate
):
    first, third = _full_with_one_waiting(account, auto_team, agent)
    with committed():
        response = token_client(agent).patch(
            f"/api/v1/conversations/{first.pk}/", {"assignee": teammate.pk}, format="json"
        )
    assert response.status_code == 200
    third.refresh_from_db()
    assert third.assignee == agent


def test_a_service_change_with_no_page_behind_it_frees_capacity_too(account, auto_team, agent):
    """An automation rule resolves through the same service: the listener, not the page,
    gives the agent the next conversation."""
    first, third = _full_with_one_waiting(account, auto_team, agent)
    with committed():
        services.change_status(conversation=first, status="resolved", actor=None)
    third.refresh_from_db()
    assert third.assignee == agent
