"""REST API v1 writes and pickers: PATCH a conversation (each field, access, refusals), labels,
saved replies, users, and throttling per token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import live
from inbox.models import Conversation, ConversationEvent, Label, SavedReply
from inbox.settings_area.models import AuditLog
from tests.factories import ConversationFactory, TeamFactory, UserFactory
from tests.helpers import committed, token_client

pytestmark = pytest.mark.django_db


def patch(user, conversation, body):
    with committed():
        return token_client(user).patch(
            f"/api/v1/conversations/{conversation.pk}/", body, format="json"
        )


@pytest.fixture
def conversation(account):
    return ConversationFactory(account=account)


def kinds(conversation) -> list[str]:
    return list(conversation.events.order_by("id").values_list("kind", flat=True))


# --- PATCH, field by field --------------------------------------------------------------------


def test_status_changes_and_answers_with_the_conversation(conversation, agent):
    response = patch(agent, conversation, {"status": "pending"})

    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert response.json()["id"] == conversation.pk
    conversation.refresh_from_db()
    assert conversation.status == "pending"
    event = conversation.events.get()
    assert (event.kind, event.actor_id, event.data["to"]) == ("status_changed", agent.pk, "pending")

    assert patch(agent, conversation, {"status": "resolved"}).json()["status"] == "resolved"
    assert patch(agent, conversation, {"status": "open"}).json()["status"] == "open"


def test_assignee_by_id_by_username_and_null(conversation, agent, teammate):
    assert patch(agent, conversation, {"assignee": teammate.pk}).json()["assignee"] == teammate.pk
    assert patch(agent, conversation, {"assignee": "alice"}).json()["assignee"] == agent.pk
    assert patch(agent, conversation, {"assignee": None}).json()["assignee"] is None
    assert kinds(conversation) == ["assigned"] * 3
    assert Conversation.objects.get(pk=conversation.pk).assignee_id is None


def test_team_by_name_and_null(conversation, agent, team, account):
    billing = TeamFactory(name="Billing")
    billing.accounts.add(account)

    assert patch(agent, conversation, {"team": "Billing"}).json()["team"] == "Billing"
    assert patch(agent, conversation, {"team": None}).json()["team"] is None
    assert Conversation.objects.get(pk=conversation.pk).team_id is None
    data = [e.data for e in conversation.events.order_by("id")]
    assert [(d["team_from"], d["team"]) for d in data] == [(None, billing.pk), (billing.pk, None)]


def test_priority_by_name(conversation, agent):
    for name, value in (("urgent", 3), ("low", 0), ("high", 2), ("normal", 1)):
        assert patch(agent, conversation, {"priority": name}).json()["priority"] == name
        assert Conversation.objects.get(pk=conversation.pk).priority == value


def test_labels_by_name_replace_the_set(conversation, agent):
    Label.objects.create(name="vip")
    Label.objects.create(name="refund")

    assert patch(agent, conversation, {"labels": ["vip", "refund"]}).json()["labels"] == [
        "refund",
        "vip",
    ]
    assert patch(agent, conversation, {"labels": ["vip"]}).json()["labels"] == ["vip"]
    assert patch(agent, conversation, {"labels": []}).json()["labels"] == []
    assert kinds(conversation) == ["labels_changed"] * 3


def test_snoozed_until_snoozes_and_null_wakes(conversation, agent):
    until = (timezone.now() + timedelta(hours=3)).replace(microsecond=0)

    body = patch(agent, conversation, {"snoozed_until": until.isoformat()}).json()

    assert body["status"] == "snoozed"
    conversation.refresh_from_db()
    assert conversation.snoozed_until == until
    body = patch(agent, conversation, {"snoozed_until": None}).json()
    assert (body["status"], body["snoozed_until"]) == ("open", None)


def test_several_fields_at_once_are_each_recorded(conversation, agent, teammate):
    Label.objects.create(name="vip")
    body = patch(
        agent,
        conversation,
        {"assignee": "bob", "priority": "high", "labels": ["vip"], "status": "pending"},
    ).json()

    assert (body["assignee"], body["priority"], body["labels"], body["status"]) == (
        teammate.pk,
        "high",
        ["vip"],
        "pending",
    )
    assert sorted(kinds(conversation)) == [
        "assigned",
        "labels_changed",
        "priority_changed",
        "status_changed",
    ]


def test_a_patch_pushes_live_events_like_an_agent(conversation, agent, monkeypatch):
    pushed: list = []
    monkeypatch.setattr(live, "send_to_groups", pushed.extend)
    patch(agent, conversation, {"status": "resolved"})
    assert [p["type"] for _, p in pushed] == ["inbox.status_changed"]


# --- Access and refusals ----------------------------------------------------------------------


def test_a_conversation_outside_the_callers_teams_is_404(other_account, agent, outsider):
    theirs = ConversationFactory(account=other_account)
    assert patch(agent, theirs, {"status": "resolved"}).status_code == 404
    assert patch(outsider, theirs, {"status": "resolved"}).status_code == 404
    assert (
        token_client(agent).patch("/api/v1/conversations/999999/", {}, format="json").status_code
        == 404
    )
    assert Conversation.objects.get(pk=theirs.pk).status == "open"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"status": "snoozed"}, "invalid_status"),
        ({"status": "closed"}, "invalid_status"),
        ({"priority": "huge"}, "invalid_priority"),
        ({"priority": 3}, "invalid_priority"),
        ({"labels": ["no-such-label"]}, "unknown_label"),
        ({"labels": "vip"}, "invalid_labels"),
        ({"team": "Nobody"}, "invalid_team"),
        ({"assignee": "nobody"}, "invalid_assignee"),
        ({"assignee": True}, "invalid_assignee"),
        ({"snoozed_until": "tomorrow"}, "invalid_snoozed_until"),
        ({"snoozed_until": "2001-01-01T00:00:00Z"}, "invalid_snoozed_until"),
        ({"status": "open", "snoozed_until": "2999-01-01T00:00:00Z"}, "conflicting_fields"),
        ({"asignee": "bob"}, "unknown_field"),
    ],
)
def test_refusals_are_422_with_a_code_and_change_nothing(conversation, agent, body, code):
    response = patch(
        agent, conversation, {"priority": "urgent", **body} if "priority" not in body else body
    )

    assert response.status_code == 422
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert Conversation.objects.get(pk=conversation.pk).priority == 1  # the valid part too
    assert not ConversationEvent.objects.exists()


def test_an_assignee_who_cannot_see_the_conversation_is_refused(conversation, agent, outsider):
    response = patch(agent, conversation, {"assignee": outsider.pk})
    assert (response.status_code, response.json()["code"]) == (422, "invalid_assignee")
    inactive = UserFactory(username="gone", is_active=False)
    conversation.account.teams.first().members.add(inactive)
    assert patch(agent, conversation, {"assignee": "gone"}).status_code == 422


def test_a_team_that_does_not_handle_the_account_is_refused(conversation, agent):
    TeamFactory(name="Elsewhere")
    response = patch(agent, conversation, {"team": "Elsewhere"})
    assert (response.status_code, response.json()["code"]) == (422, "invalid_team")


def test_a_body_that_is_not_an_object_is_refused(conversation, agent):
    response = patch(agent, conversation, ["status", "resolved"])
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_body"


# --- Labels, saved replies, users -------------------------------------------------------------


def test_labels_list_and_create(agent, team):
    Label.objects.create(name="vip", color="#ff0000")
    manager = UserFactory(username="mia", role="manager")

    assert token_client(agent).get("/api/v1/labels/").json() == {
        "results": [{"id": Label.objects.get().pk, "name": "vip", "color": "#ff0000"}]
    }
    response = token_client(manager).post("/api/v1/labels/", {"name": " refund "}, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "refund"
    assert AuditLog.objects.filter(action="label.created", target_repr="refund").exists()
    for taken in ("refund", "REFUND"):
        again = token_client(manager).post("/api/v1/labels/", {"name": taken}, format="json")
        assert (again.status_code, again.json()["code"]) == (422, "label_exists")
    hostile = {"name": "x", "color": "red;background:url(//evil)"}
    assert token_client(manager).post("/api/v1/labels/", hostile, format="json").status_code == 400
    assert (
        token_client(manager).post("/api/v1/labels/", {"name": ""}, format="json").status_code
        == 400
    )
    # Agents use labels; admins and managers make them.
    assert (
        token_client(agent).post("/api/v1/labels/", {"name": "x"}, format="json").status_code == 403
    )
    assert Label.objects.count() == 2


def test_saved_replies_are_those_the_caller_may_use(conversation, agent, team):
    everyone = SavedReply.objects.create(shortcut="hi", title="Hi", text="Hi {{contact.name}}")
    ours = SavedReply.objects.create(shortcut="ours", title="Ours", text="Team text")
    ours.teams.add(team)
    theirs = SavedReply.objects.create(shortcut="theirs", title="Theirs", text="Other")
    theirs.teams.add(TeamFactory(name="Other"))

    rows = token_client(agent).get("/api/v1/saved-replies/").json()["results"]

    assert [r["shortcut"] for r in rows] == ["hi", "ours"]
    assert rows[0] == {
        "id": everyone.pk,
        "shortcut": "hi",
        "title": "Hi",
        "text": "Hi {{contact.name}}",
        "teams": [],
    }
    assert rows[1]["teams"] == ["Support"]
    filled = (
        token_client(agent).get(f"/api/v1/saved-replies/?conversation={conversation.pk}").json()
    )
    assert filled["results"][0]["text"] == f"Hi {conversation.contact.name}"


def test_users_for_assignment_pickers(conversation, agent, teammate, outsider, admin_user):
    rows = token_client(agent).get("/api/v1/users/").json()["results"]

    by_name = {r["username"]: r for r in rows}
    assert set(by_name) == {"alice", "bob", "root-admin"}  # not the outsider
    assert by_name["bob"] == {
        "id": teammate.pk,
        "username": "bob",
        "name": "Bob",
        "role": "agent",
        "teams": ["Support"],
        "availability": "online",
    }
    assert {
        r["username"] for r in token_client(admin_user).get("/api/v1/users/").json()["results"]
    } == {
        "alice",
        "bob",
        "charlie",
        "root-admin",
    }
    for_conversation = (
        token_client(agent).get(f"/api/v1/users/?conversation={conversation.pk}").json()
    )
    assert "charlie" not in {r["username"] for r in for_conversation["results"]}
    assert (
        token_client(outsider).get(f"/api/v1/users/?conversation={conversation.pk}").status_code
        == 404
    )


# --- Throttling -------------------------------------------------------------------------------


def test_each_token_is_throttled_with_429_and_retry_after(agent, teammate, settings):
    settings.API_THROTTLE_RATE = "3/min"
    client = token_client(agent)

    codes = [client.get("/api/v1/labels/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/v1/conversations/")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    # Another token has its own count.
    assert token_client(teammate).get("/api/v1/labels/").status_code == 200
