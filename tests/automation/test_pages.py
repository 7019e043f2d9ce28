"""``/settings/automation/``: admins and managers edit rules (errors shown at their field), run
a dry run, reorder; agents get 403. Macros' pages for everyone's own."""

from __future__ import annotations

import json

import pytest

from automation.models import Macro, Rule
from inbox.settings_area.models import AuditLog

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Refunds",
    "enabled": "on",
    "trigger": "message_received",
    "match": "all",
    "conditions": json.dumps([{"field": "text", "operator": "contains", "value": "refund"}]),
    "actions": json.dumps([{"type": "add_label", "value": "billing"}]),
}


def test_managers_create_a_rule_from_the_settings_page(client, manager, labels):
    client.force_login(manager)
    listing = client.get("/settings/automation/")
    assert listing.status_code == 200
    assert 'href="/settings/automation/"' in listing.content.decode()  # the nav link
    response = client.post("/settings/automation/new/", FORM, follow=True)
    assert "Rule “Refunds” saved." in response.content.decode()
    rule = Rule.objects.get()
    assert rule.trigger == "message_received" and rule.enabled
    assert rule.conditions == [{"field": "text", "operator": "contains", "value": "refund"}]
    assert AuditLog.objects.filter(action="automation_rule.created", actor=manager).exists()


def test_time_triggers_from_the_form(client, admin_user, labels):
    client.force_login(admin_user)
    client.post(
        "/settings/automation/new/",
        {**FORM, "trigger": "no_reply", "minutes": "45", "business_hours": "on"},
    )
    assert Rule.objects.get().trigger == {"no_reply_minutes": 45, "business_hours": True}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"actions": "[{"}, "actions", "Not valid JSON"),
        (
            {"actions": json.dumps([{"type": "add_label", "value": "ghost"}])},
            "actions",
            "No label is called",
        ),
        (
            {"conditions": json.dumps([{"field": "text", "operator": "matches", "value": "(x"}])},
            "conditions",
            "Invalid regular expression",
        ),
        ({"trigger": "no_reply", "minutes": ""}, "minutes", "no_reply_minutes"),
    ],
)
def test_validation_errors_are_shown_at_their_field(
    client, manager, labels, change, field, message
):
    client.force_login(manager)
    response = client.post("/settings/automation/new/", {**FORM, **change})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="error-{field}"' in page and message in page
    assert not Rule.objects.exists()


def test_dry_run_from_the_form_saves_nothing(client, manager, labels):
    client.force_login(manager)
    page = client.post("/settings/automation/new/", {**FORM, "dry_run": "1"}).content.decode()
    assert 'id="dry-run-result"' in page and "Would have matched 0 of 0" in page
    assert not Rule.objects.exists()


def test_edit_shows_hits_and_reorder(client, manager, labels, make_rule):
    first = make_rule(name="first")
    second = make_rule(name="second")
    Rule.objects.filter(pk=first.pk).update(hits=3)
    client.force_login(manager)
    page = client.get(f"/settings/automation/{first.pk}/").content.decode()
    assert "3 hits" in page
    client.post(f"/settings/automation/{second.pk}/move/", {"to": "up"})
    assert list(Rule.objects.values_list("name", flat=True)) == ["second", "first"]
    client.post(f"/settings/automation/{first.pk}/delete/")
    assert list(Rule.objects.values_list("name", flat=True)) == ["second"]


def test_agents_may_not_see_or_change_rules(client, agent, labels, make_rule):
    rule = make_rule()
    client.force_login(agent)
    assert client.get("/settings/automation/").status_code == 403
    assert client.post("/settings/automation/new/", FORM).status_code == 403
    assert client.post(f"/settings/automation/{rule.pk}/delete/").status_code == 403
    assert Rule.objects.count() == 1


def test_agents_keep_their_own_macros(client, agent, teammate, labels):
    client.force_login(agent)
    response = client.post(
        "/settings/automation/macros/new/",
        {"name": "Close", "actions": json.dumps([{"type": "resolve"}]), "shared": "on"},
    )
    assert "Only admins and managers may share macros." in response.content.decode()
    client.post(
        "/settings/automation/macros/new/",
        {"name": "Close", "actions": json.dumps([{"type": "resolve"}])},
    )
    macro = Macro.objects.get()
    assert macro.owner == agent
    client.force_login(teammate)
    assert client.get(f"/settings/automation/macros/{macro.pk}/").status_code == 404
    assert (
        f'data-macro="{macro.pk}"'
        not in client.get("/settings/automation/macros/").content.decode()
    )
