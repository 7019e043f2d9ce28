"""``GET /api/v1/notifications/`` and ``POST /api/v1/notifications/read/``: the caller's own
only, newest first, paginated, the unread filter, catch-up after an id, mark read by ids or all."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from notifications.models import Notification
from tests.helpers import token_client as api

pytestmark = pytest.mark.django_db


def make(user, n: int, **fields) -> list[Notification]:
    return [
        Notification.objects.create(user=user, kind="test", text=f"{user.username} {i}", **fields)
        for i in range(n)
    ]


def test_the_list_is_the_callers_own_newest_first(agent, teammate):
    mine = make(agent, 3)
    make(teammate, 2)
    response = api(agent).get("/api/v1/notifications/")
    assert response.status_code == 200
    body = response.json()
    assert [n["id"] for n in body["results"]] == [n.pk for n in reversed(mine)]
    assert body["results"][0] == {
        "id": mine[-1].pk,
        "kind": "test",
        "text": "alice 2",
        "conversation": None,
        "actor": None,
        "created_at": body["results"][0]["created_at"],
        "read": False,
        "read_at": None,
    }
    assert body["next"] is None


def test_the_list_is_paginated_and_filters_unread_and_after(agent):
    rows = make(agent, 5)
    Notification.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).update(read_at="2026-12-01T00:00Z")
    client = api(agent)
    first = client.get("/api/v1/notifications/?page_size=2").json()
    assert len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert [n["id"] for n in second["results"]] == [rows[2].pk, rows[1].pk]
    unread = client.get("/api/v1/notifications/?unread=1").json()["results"]
    assert [n["id"] for n in unread] == [rows[4].pk, rows[3].pk, rows[2].pk]
    after = client.get(f"/api/v1/notifications/?after={rows[3].pk}").json()["results"]
    assert [n["id"] for n in after] == [rows[4].pk]
    assert client.get("/api/v1/notifications/?after=x").status_code == 400


def test_mark_read_by_ids_never_touches_another_users(agent, teammate):
    mine = make(agent, 2)
    theirs = make(teammate, 1)
    response = api(agent).post(
        "/api/v1/notifications/read/", {"ids": [mine[0].pk, theirs[0].pk]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"read": 1, "unread": 1}
    assert Notification.objects.get(pk=theirs[0].pk).read_at is None
    assert Notification.objects.get(pk=mine[0].pk).read_at is not None


def test_mark_all_read(agent, teammate):
    make(agent, 3)
    make(teammate, 1)
    response = api(agent).post("/api/v1/notifications/read/", {"all": True}, format="json")
    assert response.json() == {"read": 3, "unread": 0}
    assert Notification.objects.filter(user=teammate, read_at__isnull=True).count() == 1
    assert api(agent).get("/api/v1/notifications/?unread=1").json()["results"] == []


@pytest.mark.parametrize(
    "body",
    [{}, {"ids": []}, {"ids": "1"}, {"ids": ["a"]}, {"ids": list(range(1, 600))}, {"all": "maybe"}],
)
def test_mark_read_refuses_bad_input_and_changes_nothing(agent, body):
    make(agent, 1)
    response = api(agent).post("/api/v1/notifications/read/", body, format="json")
    assert response.status_code == 400
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_anonymous_callers_are_refused(agent):
    make(agent, 1)
    assert APIClient().get("/api/v1/notifications/").status_code in (401, 403)
    assert APIClient().post("/api/v1/notifications/read/", {"all": True}).status_code in (401, 403)
