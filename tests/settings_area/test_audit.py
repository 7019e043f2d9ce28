"""The audit log: who changed what, filterable, exportable as CSV, never a credential value."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from inbox.models import User
from inbox.settings_area import audit
from inbox.settings_area.models import AuditLog
from inbox.templatetags.parley import when
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_record_keeps_credential_names_and_hides_secret_looking_fields(admin_user, account):
    entry = audit.record(
        actor=admin_user,
        action="account.updated",
        target=account,
        changes={"name": ("Old", "New"), "api_token": ("a", "b"), "same": (1, 1)},
        credential_keys=["page_access_token", "app_secret"],
    )
    assert entry.changes == {
        "name": ["Old", "New"],
        "api_token": "changed",
        "credentials": ["app_secret", "page_access_token"],
    }
    assert entry.target_type == "platformaccount" and entry.target_repr == str(account)


def test_audit_page_filters_and_csv_export(client, admin_user, agent, account):
    audit.record(actor=admin_user, action="user.deactivated", target=agent)
    audit.record(actor=admin_user, action="account.connected", target=account)
    audit.record(actor=None, action="bot_rule.changed", target_type="bot_rule", target_repr="=cmd")
    client.force_login(admin_user)

    page = client.get(reverse("settings:audit"), {"action": "user."}).content.decode()
    assert "user.deactivated" in page and "account.connected" not in page
    page = client.get(
        reverse("settings:audit"), {"target_type": "platformaccount"}
    ).content.decode()
    assert "account.connected" in page and "user.deactivated" not in page

    response = client.get(reverse("settings:audit_csv"), {"actor": admin_user.pk})
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == audit.CSV_COLUMNS
    assert sorted(r[2] for r in rows[1:]) == ["account.connected", "user.deactivated"]

    everything = b"".join(client.get(reverse("settings:audit_csv")).streaming_content).decode()
    assert "'=cmd" in everything  # a formula-looking cell is neutralised
    entry = AuditLog.objects.get(action="account.connected")
    assert when(entry.created_at) in page  # the one date format of the pages


def test_audit_csv_shows_formula_looking_cells_as_text_in_every_column(client, admin_user):
    # Django usernames may start with @, + or -: the username column is neutralised too.
    actor = UserFactory(username="@SUM(1+1)", role=User.Role.ADMIN)
    audit.record(
        actor=actor,
        action="bot_rule.changed",
        target_type="-bot_rule",
        target_repr='=HYPERLINK("http://x")',
        changes={"=cmd": ("a", "\tb")},
    )
    audit.record(actor=None, action="user.updated", target_type="user", target_repr="\rCR")
    client.force_login(admin_user)

    body = b"".join(client.get(reverse("settings:audit_csv")).streaming_content).decode()

    rows = list(csv.reader(io.StringIO(body, newline="")))
    by_action = {row[2]: row for row in rows[1:]}
    hostile = by_action["bot_rule.changed"]
    assert hostile[1] == "'@SUM(1+1)"
    assert hostile[3] == "'-bot_rule"
    assert hostile[5] == '\'=HYPERLINK("http://x")'
    assert hostile[6] == "'=cmd: a → \tb"
    assert by_action["user.updated"][5] == "'\rCR"


def test_a_filter_value_that_is_not_a_choice_is_a_400_naming_the_field(client, admin_user):
    audit.record(actor=admin_user, action="user.updated", target_type="user", target_repr="x")
    client.force_login(admin_user)

    page = client.get(reverse("settings:audit"), {"target_type": "bogus"})
    export = client.get(reverse("settings:audit_csv"), {"target_type": "bogus"})

    assert page.status_code == 400
    assert "Select a valid choice" in page.content.decode()
    assert export.status_code == 400
    assert "target_type" in export.content.decode()


def test_audit_api_for_admins(client, admin_user, agent):
    audit.record(
        actor=admin_user, action="user.updated", target=agent, changes={"role": ("a", "b")}
    )
    client.force_login(admin_user)
    results = client.get("/api/v1/settings/audit/").json()["results"]
    assert results[0]["action"] == "user.updated" and results[0]["changes"] == {"role": ["a", "b"]}
    assert AuditLog.objects.count() == 1


def test_changes_made_in_django_admin_are_audited(admin_user, account):
    """Bot rules and SLA policies are edited in Django admin: its log entries are mirrored."""
    from django.contrib.admin.models import ADDITION, CHANGE, LogEntry

    from chatbot.models import Rule

    rule = Rule.objects.create(account=account, name="Hours", triggers="hours", response="9-5")
    LogEntry.objects.log_actions(admin_user.pk, [rule], ADDITION, change_message=[{"added": {}}])
    LogEntry.objects.log_actions(
        admin_user.pk,
        [rule],
        CHANGE,
        change_message=[{"changed": {"fields": ["Response", "Triggers"]}}],
    )
    added, changed = AuditLog.objects.order_by("id")
    assert (added.action, added.actor, added.target_repr) == ("bot_rule.added", admin_user, "Hours")
    assert changed.action == "bot_rule.changed"
    assert changed.changes["fields"] == ["Response", "Triggers"]
    assert "9-5" not in str(changed.changes)
