"""Agent availability: online / busy / away chosen by the agent, shown to the team, respected by
auto-assignment, and away or offline agents' conversations back in the queue after a grace
period — all audited."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone
from django.utils.module_loading import import_string

from inbox import assignment, availability, presence, services
from inbox.models import AgentPresence, Conversation, User
from inbox.settings_area.models import AuditLog
from parley.celery import PERIODIC_TASKS
from tests.factories import ConversationFactory
from tests.helpers import customer_writes, online

pytestmark = pytest.mark.django_db

BUSY = User.Availability.BUSY
AWAY = User.Availability.AWAY
ONLINE = User.Availability.ONLINE


@pytest.fixture
def auto_team(team):
    team.auto_assign = True
    team.max_open_per_agent = 5
    team.save()
    return team


def went_offline(user, minutes_ago: int) -> None:
    AgentPresence.objects.update_or_create(
        user=user,
        defaults={
            "connections": 0,
            "last_seen_at": timezone.now() - timedelta(minutes=minutes_ago),
        },
    )


def chose(user, value: str, minutes_ago: int = 0) -> None:
    availability.set_availability(user=user, availability=value)
    User.objects.filter(pk=user.pk).update(
        availability_changed_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


# --- Choosing, and the audit log ---------------------------------------------------------------


def test_an_availability_change_is_audited_once(agent):
    assert availability.set_availability(user=agent, availability=BUSY) is True
    assert availability.set_availability(user=agent, availability=BUSY) is False
    agent.refresh_from_db()
    assert agent.availability == BUSY
    (entry,) = AuditLog.objects.filter(action="user.availability_changed")
    assert entry.actor == agent and entry.target_id == str(agent.pk)
    assert entry.changes == {"availability": ["online", "busy"]}


def test_an_unknown_availability_is_refused_and_nothing_changes(agent):
    with pytest.raises(ValueError):
        availability.set_availability(user=agent, availability="asleep")
    agent.refresh_from_db()
    assert agent.availability == ONLINE
    assert not AuditLog.objects.exists()


def test_a_change_is_pushed_to_the_pages_of_the_accounts_teammates_see(
    account, other_account, agent, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    teammates_channel = async_to_sync(layer.new_channel)()
    others_channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"account.{account.pk}", teammates_channel)
    async_to_sync(layer.group_add)(f"account.{other_account.pk}", others_channel)
    online(agent)
    with django_capture_on_commit_callbacks(execute=True):
        availability.set_availability(user=agent, availability=AWAY)
    (payload,) = async_to_sync(layer.receive)(teammates_channel)["payloads"]
    assert payload["type"] == "inbox.availability" and payload["id"] is None
    assert payload["data"] == {
        "user": agent.pk,
        "name": "Alice",
        "availability": "away",
        "status": "away",
    }
    with pytest.raises(asyncio.TimeoutError):
        async_to_sync(asyncio.wait_for)(layer.receive(others_channel), 0.2)


def test_teammates_see_offline_or_the_chosen_availability(agent, teammate, outsider):
    online(agent)
    chose(agent, BUSY)
    team = User.objects.filter(pk__in=[agent.pk, teammate.pk])
    shown = {u.username: u.status for u in presence.with_status(team)}
    assert shown == {"alice": "busy", "bob": "offline"}
    # Bob is loading the page, so he is not offline to himself.
    shown = {u.username: u.status for u in presence.with_status(team, viewer=teammate)}
    assert shown == {"alice": "busy", "bob": "online"}


# --- Auto-assignment ---------------------------------------------------------------------------


def test_auto_assignment_skips_busy_and_away_agents(account, auto_team, agent, teammate):
    online(agent, teammate)
    chose(agent, BUSY)
    assert [customer_writes(account, f"c{i}", f"m{i}").assignee for i in range(3)] == [teammate] * 3
    chose(teammate, AWAY)
    waiting = customer_writes(account, "c9", "m9")
    assert waiting.assignee is None and list(assignment.queued(auto_team)) == [waiting]


def test_coming_back_online_takes_from_the_queue(account, auto_team, agent):
    online(agent)
    chose(agent, AWAY)
    waiting = customer_writes(account, "c1", "m1")
    assert waiting.assignee is None
    availability.set_availability(user=agent, availability=ONLINE)
    waiting.refresh_from_db()
    assert waiting.assignee == agent


def test_a_returning_customer_stays_with_a_busy_agent_not_an_away_one(
    account, auto_team, agent, teammate
):
    online(agent, teammate)
    first = customer_writes(account, "c1", "m1")
    second = customer_writes(account, "c2", "m2")
    assert (first.assignee, second.assignee) == (agent, teammate)
    for conversation in (first, second):
        services.change_status(
            conversation=conversation, status=Conversation.Status.RESOLVED, actor=None
        )
    chose(agent, BUSY)
    chose(teammate, AWAY)
    assert customer_writes(account, "c1", "m1b").assignee == agent  # busy: keeps their customer
    moved = customer_writes(account, "c2", "m2b")
    assert moved.assignee is None  # away: back to the queue (nobody else is free)


# --- Requeue after the grace period ------------------------------------------------------------


def test_away_past_the_grace_period_goes_back_to_the_queue(settings, account, auto_team, agent):
    settings.AVAILABILITY_REQUEUE_MINUTES = 10
    online(agent)
    conversations = [customer_writes(account, f"c{i}", f"m{i}") for i in range(2)]
    assert all(c.assignee == agent for c in conversations)

    chose(agent, AWAY, minutes_ago=9)
    assert availability.requeue_from_absent_agents() == 0
    chose(agent, AWAY, minutes_ago=11)
    User.objects.filter(pk=agent.pk).update(
        availability_changed_at=timezone.now() - timedelta(minutes=11)
    )
    assert availability.requeue_from_absent_agents() == 2

    queue = list(assignment.queued(auto_team))
    assert sorted(c.pk for c in queue) == sorted(c.pk for c in conversations)
    entries = AuditLog.objects.filter(action="conversation.requeued").order_by("id")
    assert [e.target_id for e in entries] == [str(c.pk) for c in conversations]
    assert entries[0].actor is None
    assert entries[0].changes == {
        "assignee": ["Alice", None],
        "reason": "away",
        "agent_id": agent.pk,
    }


def test_offline_past_the_grace_period_goes_to_a_teammate_who_is_there(
    settings, account, auto_team, agent, teammate
):
    settings.AVAILABILITY_REQUEUE_MINUTES = 10
    conversation = ConversationFactory(account=account, assignee=agent, team=auto_team)
    went_offline(agent, minutes_ago=5)
    assert availability.requeue_from_absent_agents() == 0
    went_offline(agent, minutes_ago=15)
    online(teammate)
    assert availability.requeue_from_absent_agents() == 1
    conversation.refresh_from_db()
    assert conversation.assignee == teammate  # the queue was served at once
    entry = AuditLog.objects.get(action="conversation.requeued")
    assert entry.changes["reason"] == "offline"


def test_online_busy_agents_and_closed_conversations_are_left_alone(
    settings, account, auto_team, agent
):
    settings.AVAILABILITY_REQUEUE_MINUTES = 10
    online(agent)
    chose(agent, BUSY, minutes_ago=60)
    mine = ConversationFactory(account=account, assignee=agent)
    assert availability.requeue_from_absent_agents() == 0
    went_offline(agent, minutes_ago=60)
    resolved = ConversationFactory(
        account=account, assignee=agent, status=Conversation.Status.RESOLVED
    )
    assert availability.requeue_from_absent_agents() == 1
    mine.refresh_from_db()
    resolved.refresh_from_db()
    assert mine.assignee is None and resolved.assignee == agent


def test_a_grace_period_of_zero_turns_the_requeue_off(settings, account, agent):
    settings.AVAILABILITY_REQUEUE_MINUTES = 0
    went_offline(agent, minutes_ago=600)
    conversation = ConversationFactory(account=account, assignee=agent)
    assert availability.requeue_from_absent_agents() == 0
    conversation.refresh_from_db()
    assert conversation.assignee == agent


def test_the_requeue_is_in_the_one_periodic_list(settings, account, agent):
    settings.AVAILABILITY_REQUEUE_MINUTES = 10
    task_name, interval = PERIODIC_TASKS["requeue-from-absent-agents"]
    assert interval <= 60
    went_offline(agent, minutes_ago=30)
    conversation = ConversationFactory(account=account, assignee=agent)
    import_string(task_name).delay()  # as beat and the embedded default run it
    conversation.refresh_from_db()
    assert conversation.assignee is None


# --- Pages -------------------------------------------------------------------------------------


def test_the_nav_control_sets_availability_and_the_team_sees_it(client, account, agent, teammate):
    conversation = ConversationFactory(account=account)
    online(agent, teammate)
    client.force_login(teammate)
    response = client.post(
        "/profile/availability/", {"availability": "busy"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert '<option value="busy" selected>' in response.content.decode()
    client.force_login(agent)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Bob · busy" in page and "Alice · online" in page
    listing = client.get("/").content.decode()
    assert f'data-availability-user="{teammate.pk}" data-status="busy"' in listing


def test_profile_page_sets_time_zone_and_availability(client, agent):
    client.force_login(agent)
    page = client.get("/profile/")
    assert page.status_code == 200 and "Asia/Tokyo" in page.content.decode()
    assert "go back to the queue after 10 minutes" in page.content.decode()
    assert 'href="/profile/"' in page.content.decode()  # reachable from the nav
    response = client.post("/profile/", {"availability": "away", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.availability, agent.time_zone) == ("away", "Asia/Tokyo")
    assert set(AuditLog.objects.values_list("action", flat=True)) == {
        "user.availability_changed",
        "user.time_zone_changed",
    }


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "x" * 500])
def test_profile_refuses_a_zone_that_does_not_exist(client, agent, zone):
    client.force_login(agent)
    response = client.post("/profile/", {"availability": "busy", "time_zone": zone})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    agent.refresh_from_db()
    assert (agent.availability, agent.time_zone) == ("online", "")


def test_the_nav_control_refuses_nonsense_and_never_redirects_off_site(client, agent):
    client.force_login(agent)
    htmx = client.post(
        "/profile/availability/", {"availability": "asleep"}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 400 and b"online, busy or away" in htmx.content
    plain = client.post(
        "/profile/availability/", {"availability": "away", "next": "https://evil.example/"}
    )
    assert plain.status_code == 302 and plain["Location"] == "/profile/"
    back = client.post("/profile/availability/", {"availability": "busy", "next": "/?view=mine"})
    assert back["Location"] == "/?view=mine"
    agent.refresh_from_db()
    assert agent.availability == "busy"
    assert client.get("/profile/availability/").status_code == 405
