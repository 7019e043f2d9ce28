"""``/api/v1/automation-rules/`` (admins and managers) and the macros' endpoints."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from automation import services
from automation.models import Macro, Rule
from inbox.models import Conversation
from inbox.settings_area.models import AuditLog
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/automation-rules/"
BODY = {
    "name": "Refunds to billing",
    "trigger": "message_received",
    "conditions": [{"field": "text", "operator": "contains", "value": "refund"}],
    "actions": [{"type": "add_label", "value": "billing"}],
    "enabled": True,
}


def as_user(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_create_list_read_change_and_delete(manager, labels):
    api = as_user(manager)
    created = api.post(URL, BODY, format="json")
    assert created.status_code == 201
    rule = created.json()
    assert {k: rule[k] for k in BODY} == BODY
    assert rule["hits"] == 0 and rule["id"]
    listed = api.get(URL).json()
    assert [r["name"] for r in listed["results"]] == ["Refunds to billing"]
    assert listed["next"] is None
    detail = f"{URL}{rule['id']}/"
    assert api.get(detail).json()["trigger"] == "message_received"
    changed = api.patch(
        detail, {"enabled": False, "trigger": {"no_reply_minutes": 15}}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["enabled"] is False
    assert changed.json()["trigger"] == {"no_reply_minutes": 15}
    assert changed.json()["conditions"] == BODY["conditions"]  # untouched by the PATCH
    assert api.delete(detail).status_code == 204
    assert api.get(detail).status_code == 404
    assert not Rule.objects.exists()
    assert AuditLog.objects.filter(target_type="automation_rule").count() == 3


def test_any_conditions_round_trip(admin_user, labels):
    body = {**BODY, "conditions": {"any": BODY["conditions"]}}
    response = as_user(admin_user).post(URL, body, format="json")
    assert response.status_code == 201
    assert response.json()["conditions"] == {"any": BODY["conditions"]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trigger": "when_the_moon_is_full"}, "trigger"),
        ({"trigger": {"no_reply_minutes": 0}}, "trigger"),
        (
            {"conditions": [{"field": "text", "operator": "matches", "value": "(unclosed"}]},
            "conditions[0]",
        ),
        (
            {"conditions": [{"field": "label", "operator": "contains", "value": "nope"}]},
            "conditions[0]",
        ),
        (
            {"conditions": [{"field": "colour", "operator": "equals", "value": "red"}]},
            "conditions[0]",
        ),
        ({"actions": [{"type": "add_label", "value": "no such label"}]}, "actions[0]"),
        ({"actions": [{"type": "send_saved_reply", "value": "missing"}]}, "actions[0]"),
        ({"actions": [{"type": "launch_rockets"}]}, "actions[0]"),
        ({"actions": []}, "actions"),
        ({"name": ""}, "name"),
    ],
)
def test_a_rule_that_cannot_run_is_422_with_the_reason(manager, labels, change, field):
    response = as_user(manager).post(URL, {**BODY, **change}, format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_rule"
    assert response.json()["field"] == field
    assert response.json()["detail"]
    assert not Rule.objects.exists()


@pytest.mark.parametrize(
    "body", [["not", "an", "object"], {"name": "x"}, {**BODY, "colour": "red"}]
)
def test_a_malformed_body_is_400(manager, labels, body):
    response = as_user(manager).post(URL, body, format="json")
    assert response.status_code == 400
    assert not Rule.objects.exists()


def test_agents_get_403_and_anonymous_401(agent, labels, manager):
    rule = services.create_rule(actor=manager, data=BODY)
    api = as_user(agent)
    assert api.get(URL).status_code == 403
    assert api.post(URL, BODY, format="json").status_code == 403
    assert api.get(f"{URL}{rule.pk}/").status_code == 403
    assert api.patch(f"{URL}{rule.pk}/", {"enabled": False}, format="json").status_code == 403
    assert api.delete(f"{URL}{rule.pk}/").status_code == 403
    assert APIClient().get(URL).status_code in (401, 403)
    rule.refresh_from_db()
    assert rule.enabled


def test_dry_run_endpoint(manager, labels):
    response = as_user(manager).post(f"{URL}dry-run/", BODY, format="json")
    assert response.status_code == 200
    assert response.json() | {"examples": []} == {
        "days": 7,
        "scanned": 0,
        "matched": 0,
        "truncated": False,
        "examples": [],
    }


def test_macros_listed_and_run(account, agent, outsider, labels, manager):
    shared = services.save_macro(
        actor=manager, name="VIP", actions_raw=[{"type": "add_label", "value": "vip"}], shared=True
    )
    services.save_macro(actor=manager, name="Mine", actions_raw=[{"type": "resolve"}], shared=False)
    api = as_user(agent)
    assert [m["name"] for m in api.get("/api/v1/macros/").json()["results"]] == ["VIP"]
    conversation = ConversationFactory(account=account)
    ran = api.post(
        f"/api/v1/macros/{shared.pk}/run/", {"conversation": conversation.pk}, format="json"
    )
    assert ran.status_code == 200
    assert set(conversation.labels.values_list("name", flat=True)) == {"vip"}
    # Outside the caller's access: 404, nothing done.
    other = as_user(outsider).post(
        f"/api/v1/macros/{shared.pk}/run/", {"conversation": conversation.pk}, format="json"
    )
    assert other.status_code == 404
    personal = Macro.objects.get(name="Mine")
    assert (
        api.post(
            f"/api/v1/macros/{personal.pk}/run/", {"conversation": conversation.pk}, format="json"
        ).status_code
        == 404
    )
    assert Conversation.objects.get(pk=conversation.pk).status == "open"
