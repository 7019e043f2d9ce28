"""People and access: adding and deactivating users, roles, teams and their accounts. Taking
access away ends sessions, kills API tokens, closes sockets, and shows at the next request."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from inbox.access import user_group
from inbox.models import User
from inbox.settings_area.models import AuditLog
from tests.factories import PASSWORD, ConversationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


class SocketProbe:
    """A channel in the user's group, as the user's open socket is."""

    def __init__(self, user):
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(user_group(user.pk), self.channel)

    def received(self) -> list[dict]:
        import asyncio

        async def drain():
            got = []
            while True:
                try:
                    got.append(await asyncio.wait_for(self.layer.receive(self.channel), 0.3))
                except TimeoutError:
                    return got

        return async_to_sync(drain)()


def test_add_a_user_who_can_sign_in(admin_client, team):
    admin_client.post(
        reverse("settings:user_create"),
        {"username": "dana", "role": "agent", "password": PASSWORD, "teams": [team.pk]},
    )
    dana = User.objects.get(username="dana")
    assert list(dana.teams.all()) == [team]
    signed_in = Client().post("/login/", {"username": "dana", "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    entry = AuditLog.objects.get(action="user.created")
    assert PASSWORD not in str(entry.changes)


def test_deactivating_ends_sessions_tokens_and_sockets(
    admin_client, agent, account, django_capture_on_commit_callbacks
):
    agent_client = Client()
    agent_client.force_login(agent)
    token = Token.objects.create(user=agent)
    probe = SocketProbe(agent)
    assert agent_client.get("/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("settings:user_active", args=[agent.pk]), {"active": "0"})

    assert [m["type"] for m in probe.received()] == ["inbox.disconnect"]
    assert agent_client.get("/")["Location"].startswith("/login/")
    assert not Token.objects.filter(key=token.key).exists()
    api = Client().get("/api/v1/conversations/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.status_code == 401
    assert not [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(agent.pk)
    ]
    assert AuditLog.objects.filter(action="user.deactivated", target_id=str(agent.pk)).exists()


def test_removing_an_agent_from_a_team_closes_their_socket_and_hides_conversations(
    admin_client, agent, teammate, team, account, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(account=account)
    agent_client = Client()
    agent_client.force_login(agent)
    token = Token.objects.create(user=agent)
    assert agent_client.get(f"/conversations/{conversation.pk}/").status_code == 200
    probe, teammate_probe = SocketProbe(agent), SocketProbe(teammate)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("settings:team", args=[team.pk]),
            {"name": team.name, "members": [teammate.pk], "accounts": [account.pk]},
        )

    assert [m["type"] for m in probe.received()] == ["inbox.disconnect"]
    assert teammate_probe.received() == []  # nothing changed for the teammate
    assert agent_client.get(f"/conversations/{conversation.pk}/").status_code == 404
    api = Client().get(
        f"/api/v1/conversations/{conversation.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert api.status_code == 404
    entry = AuditLog.objects.get(action="team.updated")
    assert entry.changes["members"] == [["alice", "bob"], ["bob"]]


def test_taking_an_account_from_a_team_closes_every_members_socket(
    admin_client, agent, teammate, team, account, django_capture_on_commit_callbacks
):
    probes = [SocketProbe(agent), SocketProbe(teammate)]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("settings:team", args=[team.pk]),
            {"name": team.name, "members": [agent.pk, teammate.pk]},
        )
    assert [len(p.received()) for p in probes] == [1, 1]


def test_role_change_closes_sockets_and_is_audited(
    admin_client, agent, django_capture_on_commit_callbacks
):
    probe = SocketProbe(agent)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("settings:user", args=[agent.pk]),
            {"role": "manager", "first_name": "Alice", "teams": []},
        )
    agent.refresh_from_db()
    assert agent.role == "manager" and not agent.teams.exists()
    assert len(probe.received()) == 1
    assert AuditLog.objects.get(action="user.updated").changes["role"] == ["agent", "manager"]


def test_the_last_admin_cannot_be_removed(admin_client, admin_user):
    other = User.objects.create(username="peer", role="agent")
    response = admin_client.post(
        reverse("settings:user", args=[admin_user.pk]), {"role": "agent"}, follow=True
    )
    assert "at least one active admin" in response.content.decode()
    response = admin_client.post(
        reverse("settings:user_active", args=[admin_user.pk]), {"active": "0"}, follow=True
    )
    assert "cannot deactivate yourself" in response.content.decode()
    assert User.objects.get(pk=admin_user.pk).is_active and other.pk


def test_teams_create_and_delete(admin_client, agent, django_capture_on_commit_callbacks):
    response = admin_client.post(reverse("settings:teams"), {"name": "Billing"})
    from inbox.models import Team

    billing = Team.objects.get(name="Billing")
    assert response["Location"] == reverse("settings:team", args=[billing.pk])
    assert (
        "already exists"
        in (
            admin_client.post(reverse("settings:teams"), {"name": "billing"}, follow=True)
        ).content.decode()
    )
    billing.members.add(agent)
    probe = SocketProbe(agent)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("settings:team_delete", args=[billing.pk]))
    assert not Team.objects.filter(name="Billing").exists()
    assert len(probe.received()) == 1


def test_a_user_deactivated_outside_the_settings_area_is_cut_off_too(
    agent, django_capture_on_commit_callbacks
):
    """Django admin or a shell saves the user: the same sessions, tokens and sockets end."""
    agent_client = Client()
    agent_client.force_login(agent)
    token = Token.objects.create(user=agent)
    probe = SocketProbe(agent)
    with django_capture_on_commit_callbacks(execute=True):
        agent.is_active = False
        agent.save()
    assert [m["type"] for m in probe.received()] == ["inbox.disconnect"]
    assert not Token.objects.filter(key=token.key).exists()
    assert agent_client.get("/")["Location"].startswith("/login/")


def test_a_login_does_not_close_anything(agent, django_assert_num_queries):
    from django.utils import timezone

    agent.last_login = timezone.now()
    with django_assert_num_queries(1):
        agent.save(update_fields=["last_login"])


def test_demoting_a_superuser_whose_role_says_agent_removes_admin_rights(
    admin_client, django_capture_on_commit_callbacks
):
    legacy = User.objects.create(username="legacy", role="agent", is_superuser=True)
    probe = SocketProbe(legacy)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("settings:user", args=[legacy.pk]), {"role": "agent"})
    legacy.refresh_from_db()
    assert not legacy.is_admin
    assert AuditLog.objects.get(action="user.updated").changes["role"] == ["admin", "agent"]
    assert len(probe.received()) == 1
