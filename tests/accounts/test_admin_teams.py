"""Team changes made in Django admin close the affected sockets, as the settings area does."""

from __future__ import annotations

import pytest

from inbox.models import Team
from inbox.settings_area.models import AuditLog
from tests.settings_area.test_people import SocketProbe

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def team_form(team: Team, **changes) -> dict:
    form = {
        "name": team.name,
        "members": [u.pk for u in team.members.all()],
        "accounts": [a.pk for a in team.accounts.all()],
        "max_open_per_agent": team.max_open_per_agent,
    }
    return {**form, **changes}


def test_removing_a_member_in_django_admin_closes_only_their_socket(
    admin_client, agent, teammate, team, account, django_capture_on_commit_callbacks
):
    probe, teammate_probe = SocketProbe(agent), SocketProbe(teammate)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/inbox/team/{team.pk}/change/", team_form(team, members=[teammate.pk])
        )

    assert response.status_code == 302
    assert list(team.members.all()) == [teammate]
    assert [m["type"] for m in probe.received()] == ["inbox.disconnect"]
    assert teammate_probe.received() == []
    assert AuditLog.objects.get(action="team.updated").changes["members"] == [
        ["alice", "bob"],
        ["bob"],
    ]


def test_taking_an_account_away_in_django_admin_closes_every_members_socket(
    admin_client, agent, teammate, team, account, django_capture_on_commit_callbacks
):
    probes = [SocketProbe(agent), SocketProbe(teammate)]

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/admin/inbox/team/{team.pk}/change/", team_form(team, accounts=[]))

    assert not team.accounts.exists()
    assert [len(p.received()) for p in probes] == [1, 1]


def test_deleting_a_team_in_django_admin_closes_its_members_sockets(
    admin_client, agent, team, django_capture_on_commit_callbacks
):
    probe = SocketProbe(agent)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/admin/inbox/team/{team.pk}/delete/", {"post": "yes"})

    assert not Team.objects.filter(pk=team.pk).exists()
    assert len(probe.received()) == 1
