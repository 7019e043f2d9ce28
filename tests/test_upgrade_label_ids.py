"""A database from before migration 0022 keeps its labels in the list's label filter: the
migration fills each conversation's ``label_ids`` from the links that exist (PostgreSQL; the
embedded SQLite keeps reading the links)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import QueryDict

from inbox import selectors
from inbox.models import Team, User

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("inbox", "0021_user_language")]


@pytest.fixture
def before_label_ids():
    """The database as migration 0021 left it; brought back to today's afterwards."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        yield executor.loader.project_state(BEFORE, at_end=True).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_labels_linked_before_the_migration_are_found_by_the_label_filter(before_label_ids):
    apps = before_label_ids
    account = apps.get_model("inbox", "PlatformAccount").objects.create(
        platform="sandbox", name="Shop", external_id="shop"
    )
    contact = apps.get_model("inbox", "Contact").objects.create(name="Ada")
    conversation_model = apps.get_model("inbox", "Conversation")
    label_model = apps.get_model("inbox", "Label")
    vip, late = label_model.objects.create(name="vip"), label_model.objects.create(name="late")
    both, one, none = (
        conversation_model.objects.create(account=account, contact=contact) for _ in range(3)
    )
    both.labels.set([vip, late])
    one.labels.set([late])

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    team = Team.objects.create(name="Support")
    team.accounts.add(account.pk)
    agent = User.objects.create(username="agent")
    team.members.add(agent)

    def labelled(label) -> list[int]:
        filters = selectors.ListFilters.from_query(QueryDict(f"label={label.pk}"))
        return sorted(c.pk for c in selectors.conversation_page(agent, filters).rows)

    assert labelled(vip) == [both.pk]
    assert labelled(late) == sorted([both.pk, one.pk])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, label_ids FROM inbox_conversation WHERE id = ANY(%s) ORDER BY id",
                [[both.pk, one.pk, none.pk]],
            )
            assert cursor.fetchall() == [
                (both.pk, sorted([vip.pk, late.pk])),
                (one.pk, [late.pk]),
                (none.pk, []),
            ]
