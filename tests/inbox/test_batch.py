"""``inbox.batch.update_each``: rows updated each with its own values, in one statement per set
of fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.batch import update_each
from inbox.models import Conversation
from tests.factories import ConversationFactory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_each_row_gets_its_own_values_and_others_are_untouched():
    first, second, third, untouched = [
        ConversationFactory(last_message_preview="before", snoozed_until=NOW) for _ in range(4)
    ]
    hostile = "it's 100% \"done\" -- '); DROP TABLE inbox_conversation; --"
    changes = {
        first.pk: {"last_message_preview": hostile, "last_message_at": NOW, "snoozed_until": None},
        second.pk: {
            "last_message_preview": "Ünïcödé ✓",
            "last_message_at": NOW + timedelta(minutes=1),
            "snoozed_until": NOW + timedelta(hours=2),
        },
        # Another set of fields: a statement of its own.
        third.pk: {"metadata": {"source": "ad", "n": 3}, "status": Conversation.Status.PENDING},
    }
    with CaptureQueriesContext(connection) as queries:
        update_each(Conversation, changes)

    assert len(queries) == 2
    rows = {c.pk: c for c in Conversation.objects.all()}
    assert rows[first.pk].last_message_preview == hostile
    assert rows[first.pk].last_message_at == NOW and rows[first.pk].snoozed_until is None
    assert rows[second.pk].last_message_preview == "Ünïcödé ✓"
    assert rows[second.pk].snoozed_until == NOW + timedelta(hours=2)
    assert rows[third.pk].metadata == {"source": "ad", "n": 3}
    assert rows[third.pk].status == Conversation.Status.PENDING
    assert rows[third.pk].last_message_preview == "before"
    assert rows[untouched.pk].last_message_preview == "before"
    assert rows[untouched.pk].snoozed_until == NOW


@pytest.mark.django_db
def test_a_column_null_in_every_row_is_set_to_null():
    conversations = [ConversationFactory(snoozed_until=NOW) for _ in range(3)]

    update_each(
        Conversation, {c.pk: {"snoozed_until": None, "status": "open"} for c in conversations}
    )

    assert list(Conversation.objects.values_list("snoozed_until", "status").distinct()) == [
        (None, "open")
    ]
