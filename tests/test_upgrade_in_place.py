"""A database made by the layout before the apps by noun (every model in ``inbox``) upgrades in
place: the SLA, report and settings-area models moved to ``sla``, ``reports`` and
``settings_area`` with their tables, rows, foreign keys, permissions and admin history.

The test migrates its database back to the last migrations of that layout, writes rows in
every moved table through the historical models (with foreign keys between them and from the
tables that stayed), migrates forward and reads everything back through today's models.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from chatbot.models import BotSettings
from inbox.models import Conversation, User
from inbox.settings_area.models import AuditLog, OAuthState, WebhookHandshake
from reports.models import (
    ConversationMetric,
    ReplyMetric,
    ReportAgentDay,
    ReportDay,
    RollupState,
    VolumeHour,
)
from sla.models import BusinessHours, Holiday, SlaPolicy, SlaRecord

pytestmark = pytest.mark.django_db(transaction=True)

# The migration graph as the old layout left it: inbox up to its last migration before the
# move, the chatbot's first, and none of the new apps' state migrations.
BEFORE_MOVE = [
    ("inbox", "0016_listener_receipts"),
    ("chatbot", "0001_initial"),
    ("sla", None),
    ("reports", None),
    ("settings_area", None),
]

# Every moved model: (its old name in inbox, today's class).
MOVED = {
    "BusinessHours": BusinessHours,
    "Holiday": Holiday,
    "SlaPolicy": SlaPolicy,
    "SlaRecord": SlaRecord,
    "ConversationMetric": ConversationMetric,
    "ReplyMetric": ReplyMetric,
    "VolumeHour": VolumeHour,
    "ReportDay": ReportDay,
    "ReportAgentDay": ReportAgentDay,
    "RollupState": RollupState,
    "AuditLog": AuditLog,
    "OAuthState": OAuthState,
    "WebhookHandshake": WebhookHandshake,
}
# Many-to-many fields of moved models (their join tables moved with them).
M2M = [("BusinessHours", "teams"), ("BusinessHours", "accounts"), ("SlaPolicy", "accounts")]
M2M += [("SlaPolicy", "labels")]

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _table_ids() -> dict[str, int]:
    """The database's own identity of each moved table (and join table): a table dropped and
    made again under the same name gets a new one."""
    tables = [model._meta.db_table for model in MOVED.values()]
    tables += [getattr(MOVED[name], field).through._meta.db_table for name, field in M2M]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT relname, oid FROM pg_class WHERE relkind = 'r' AND relname = ANY(%s)",
                [tables],
            )
            found = dict(cursor.fetchall())
        else:  # SQLite: the table's first page is its identity
            cursor.execute("SELECT name, rootpage FROM sqlite_master WHERE type = 'table'")
            found = {name: ident for name, ident in cursor.fetchall() if name in tables}
    assert set(found) == set(tables)
    return found


def _write_old_rows(apps) -> dict[str, object]:
    """One row or more in every moved table, through the historical models, pointing at each
    other and at the tables that stay in inbox."""

    def model(name, app="inbox"):
        return apps.get_model(app, name)

    user = model("User").objects.create(username="dana", role="manager")
    account = model("PlatformAccount").objects.create(
        platform="sandbox", name="Shop", external_id="shop"
    )
    team = model("Team").objects.create(name="Support")
    label = model("Label").objects.create(name="vip")
    contact = model("Contact").objects.create(name="Eve")
    conversation = model("Conversation").objects.create(
        account=account, contact=contact, team=team, assignee=user, last_activity_at=T0
    )
    message = model("Message").objects.create(
        conversation=conversation,
        account=account,
        direction="outbound",
        sender_kind="agent",
        author=user,
        text="Hello",
        status="sent",
        sent_at=T0,
    )
    event = model("ConversationEvent").objects.create(
        conversation=conversation, account=account, kind="sla_breached", data={"n": 1}
    )

    hours = model("BusinessHours").objects.create(
        name="Office", time_zone="Europe/Paris", weekly={"mon": [["09:00", "17:00"]]}
    )
    hours.teams.add(team)
    hours.accounts.add(account)
    model("Holiday").objects.create(hours=hours, date=date(2026, 12, 25), name="Christmas")
    policy = model("SlaPolicy").objects.create(
        name="Gold",
        first_response_seconds=600,
        business_hours_only=True,
        business_hours=hours,
        priorities=[2, 3],
        escalate_to_priority=3,
        reassign_to=user,
    )
    policy.accounts.add(account)
    policy.labels.add(label)
    model("Conversation").objects.filter(pk=conversation.pk).update(sla_policy=policy)
    model("SlaRecord").objects.create(
        conversation=conversation,
        account=account,
        policy=policy,
        target="first_response",
        level="breached",
        started_at=T0,
        due_at=T0,
        event=event,
    )
    model("BotSettings", "chatbot").objects.create(account=account, business_hours=hours)

    opening = model("ConversationMetric").objects.create(
        conversation=conversation,
        sequence=1,
        account=account,
        platform="sandbox",
        team=team,
        agent=user,
        opened_at=T0,
        first_response_seconds=42.5,
        sla_met=False,
        sla_breaches=1,
    )
    model("ReplyMetric").objects.create(
        opening=opening,
        conversation=conversation,
        account=account,
        platform="sandbox",
        team=team,
        agent=user,
        sender_kind="agent",
        message=message,
        waited_from=T0,
        replied_at=T0,
        seconds=42.5,
        business_seconds=40.0,
    )
    model("VolumeHour").objects.create(
        conversation=conversation,
        hour=T0,
        account=account,
        platform="sandbox",
        team=team,
        agent=user,
        messages_in=3,
        messages_out=1,
    )
    rollup = {"day": date(2026, 11, 2), "platform": "sandbox", "team": team, "opened": 1}
    rollup |= {"hourly_in": [0] * 9 + [3] + [0] * 14, "reply_seconds_buckets": [7]}
    rollup |= {"reply_seconds_counts": [1]}
    model("ReportDay").objects.create(account=account, **rollup)
    model("ReportAgentDay").objects.create(account=None, agent=user, **rollup)
    model("RollupState").objects.create(time_zone="Europe/Paris", through_day=date(2026, 11, 1))

    model("AuditLog").objects.create(
        actor=user, action="sla.policy_changed", target_type="sla_policy", changes={"x": [1, 2]}
    )
    model("OAuthState").objects.create(
        state="s" * 40, user=user, provider="x", secrets={"token": "t0ken"}, expires_at=T0
    )
    model("WebhookHandshake").objects.create(platform="x", account=account, count=4)

    # What main's post_migrate made for these models: content types under "inbox", with their
    # permissions; an admin's change of the policy and a user holding a permission on it.
    content_type = apps.get_model("contenttypes", "ContentType")
    policy_type = content_type.objects.get(app_label="inbox", model="slapolicy")
    permission = apps.get_model("auth", "Permission").objects.get(
        content_type=policy_type, codename="change_slapolicy"
    )
    user.user_permissions.add(permission)
    apps.get_model("admin", "LogEntry").objects.create(
        user=user,
        content_type=policy_type,
        object_id=str(policy.pk),
        object_repr="Gold",
        action_flag=CHANGE,
        change_message="[]",
        action_time=T0,
    )
    return {"user": user.pk, "policy": policy.pk, "conversation": conversation.pk}


def _snapshot(apps_or_none) -> dict[str, list]:
    """Every row of every moved table (and join table), column by column."""
    rows = {}
    for name, today in MOVED.items():
        cls = today if apps_or_none is None else apps_or_none.get_model("inbox", name)
        rows[name] = list(cls.objects.order_by("pk").values())
    for name, field in M2M:
        cls = MOVED[name] if apps_or_none is None else apps_or_none.get_model("inbox", name)
        rows[f"{name}.{field}"] = list(getattr(cls, field).through.objects.order_by("pk").values())
    return rows


@pytest.fixture
def old_layout():
    """The database as the old layout left it; brought back to today's migrations afterwards,
    whatever the test did."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_MOVE)
    # The historical models of that layout (the admin's for its history, which no moved app
    # depends on).
    nodes = [node for node in BEFORE_MOVE if node[1]] + executor.loader.graph.leaf_nodes("admin")
    try:
        yield executor.loader.project_state(nodes, at_end=True).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        ContentType.objects.clear_cache()


def test_a_database_of_the_old_layout_keeps_every_row_through_the_new_apps(old_layout):
    apps = old_layout
    content_type = apps.get_model("contenttypes", "ContentType")
    # Going back put the content types where main had them.
    old_types = {
        ct.model: ct.pk
        for ct in content_type.objects.filter(model__in=[name.lower() for name in MOVED])
    }
    assert set(
        content_type.objects.filter(pk__in=old_types.values()).values_list("app_label", flat=True)
    ) == {"inbox"}
    ids = _write_old_rows(apps)
    before = _snapshot(apps)
    tables = _table_ids()
    assert all(before.values())

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()

    # Same tables (not dropped and made again), same rows, same values.
    assert _table_ids() == tables
    # (Columns added by later migrations are left out: they take their defaults.)
    after = _snapshot(None)
    assert {
        name: [{column: row[column] for column in before[name][0]} for row in rows]
        for name, rows in after.items()
    } == before

    # Foreign keys resolve through today's models, across apps.
    conversation = Conversation.objects.get(pk=ids["conversation"])
    assert isinstance(conversation.sla_policy, SlaPolicy)
    policy = conversation.sla_policy
    assert policy.business_hours.holidays.get().name == "Christmas"
    assert policy.business_hours.schedule is not None
    assert list(policy.labels.values_list("name", flat=True)) == ["vip"]
    assert list(policy.business_hours.teams.values_list("name", flat=True)) == ["Support"]
    record = SlaRecord.objects.get()
    assert (record.policy, record.conversation, record.event.data) == (
        policy,
        conversation,
        {"n": 1},
    )
    assert list(conversation.sla_records.all()) == [record]
    assert BotSettings.objects.get().business_hours == policy.business_hours
    reply = ReplyMetric.objects.get()
    assert (reply.opening.sla_breaches, reply.message.text) == (1, "Hello")
    assert ReportAgentDay.objects.get().hourly_in[9] == 3
    assert OAuthState.objects.get().secrets == {"token": "t0ken"}  # still decrypts
    assert WebhookHandshake.objects.get().account == conversation.account
    assert AuditLog.objects.get().actor.username == "dana"

    # Content types moved with their models: same rows, so permissions and admin history hold.
    for name, today in MOVED.items():
        moved = ContentType.objects.get_for_model(today)
        assert moved.pk == old_types[name.lower()]
        assert moved.app_label == today._meta.app_label != "inbox"
    assert not ContentType.objects.filter(app_label="inbox", model__in=old_types).exists()
    assert User.objects.get(pk=ids["user"]).has_perm("sla.change_slapolicy")
    assert Permission.objects.filter(content_type__app_label="sla").count() >= 16
    assert LogEntry.objects.get().get_edited_object() == policy

    # The tables' id sequences carried on.
    assert SlaPolicy.objects.create(name="Silver").pk > ids["policy"]
