"""The inbox list: views, filters, sorts, search, keyset pages, unread counts — always within
what the user may see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox import reading, selectors, services
from inbox.models import Conversation, Label, Message
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ConversationFactory,
    IdentityFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db


def page(user, query: str = "", **kwargs):
    filters = selectors.ListFilters.from_query(QueryDict(query))
    return selectors.conversation_page(user, filters, **kwargs)


def ids(result) -> list[int]:
    return [c.pk for c in result.rows]


def test_views_mine_unassigned_all(account, other_account, agent, teammate):
    now = timezone.now()
    mine = ConversationFactory(account=account, assignee=agent, last_activity_at=now)
    theirs = ConversationFactory(
        account=account, assignee=teammate, last_activity_at=now - timedelta(minutes=1)
    )
    nobody = ConversationFactory(account=account, last_activity_at=now - timedelta(minutes=2))
    ConversationFactory(account=other_account)  # not visible to the agent

    assert ids(page(agent, "view=mine")) == [mine.pk]
    assert ids(page(agent, "view=unassigned")) == [nobody.pk]
    assert ids(page(agent)) == [mine.pk, theirs.pk, nobody.pk]


def test_filters_by_account_team_label_status_platform_priority(account, team, agent):
    second = AccountFactory(platform="sandbox")
    team.accounts.add(second)
    label = Label.objects.create(name="vip")
    a = ConversationFactory(account=account, team=team, priority=3)
    a.labels.add(label)
    b = ConversationFactory(account=second, status=Conversation.Status.PENDING)

    assert ids(page(agent, f"account={second.pk}&status=pending")) == [b.pk]
    assert ids(page(agent, f"account={second.pk}")) == []  # open by default
    assert ids(page(agent, f"team={team.pk}")) == [a.pk]
    assert ids(page(agent, f"label={label.pk}")) == [a.pk]
    assert ids(page(agent, "priority=3")) == [a.pk]
    assert set(ids(page(agent, "status=any&platform=sandbox"))) == {a.pk, b.pk}
    assert ids(page(agent, "platform=messenger")) == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("account=abc", "account"),
        ("status=weird", "status"),
        ("sort=nope", "sort"),
        ("view=others", "view"),
        ("platform=myspace", "platform"),
        ("sla=late", "sla"),
        ("priority=9", "priority"),
    ],
)
def test_a_filter_value_that_is_not_a_choice_is_refused_by_name(agent, query, field):
    with pytest.raises(selectors.BadFilter) as refused:
        selectors.ListFilters.from_query(QueryDict(query))
    assert refused.value.field_name == field
    assert str(refused.value).startswith(f"{field}: ")


def test_search_covers_every_status_unless_one_is_chosen(account, agent):
    open_one = ConversationFactory(account=account, contact=ContactFactory(name="Kenji Open"))
    resolved = ConversationFactory(
        account=account,
        status=Conversation.Status.RESOLVED,
        contact=ContactFactory(name="Kenji Resolved"),
    )

    assert set(ids(page(agent, "q=kenji"))) == {open_one.pk, resolved.pk}
    assert set(ids(page(agent, "q=kenji&status="))) == {open_one.pk, resolved.pk}
    assert ids(page(agent, "q=kenji&status=open")) == [open_one.pk]
    assert ids(page(agent, "q=kenji&status=resolved")) == [resolved.pk]
    assert ids(page(agent)) == [open_one.pk]  # browsing still starts with the open ones


def test_sla_due_soon_reads_the_sla_field_when_the_model_has_one(account, agent):
    conversation = ConversationFactory(account=account)
    result = page(agent, "sla=soon")
    field = selectors.sla_due_field()
    if field is None:
        assert result.rows == []  # nothing can be due without deadlines
        return
    Conversation.objects.filter(pk=conversation.pk).update(
        **{field: timezone.now() + timedelta(minutes=20)}
    )
    later = ConversationFactory(account=account)
    Conversation.objects.filter(pk=later.pk).update(**{field: timezone.now() + timedelta(days=1)})
    assert ids(page(agent, "sla=soon")) == [conversation.pk]


def test_waiting_longest_sorts_unanswered_oldest_first(account, agent):
    now = timezone.now()
    recent = ConversationFactory(account=account, waiting_since=now - timedelta(minutes=5))
    oldest = ConversationFactory(account=account, waiting_since=now - timedelta(hours=3))
    ConversationFactory(account=account, waiting_since=None)  # answered: not waiting

    assert ids(page(agent, "sort=waiting")) == [oldest.pk, recent.pk]


def test_keyset_pagination_walks_every_row_once_in_order(account, agent):
    now = timezone.now()
    made = [
        ConversationFactory(account=account, last_activity_at=now - timedelta(seconds=i // 2))
        for i in range(7)  # pairs share a timestamp: the id breaks ties
    ]
    seen, cursor = [], ""
    while True:
        result = page(agent, f"cursor={cursor}", page_size=3)
        seen += ids(result)
        cursor = result.next_cursor
        if not cursor:
            break
    expected = sorted(made, key=lambda c: (c.last_activity_at, c.pk), reverse=True)
    assert seen == [c.pk for c in expected]


def test_a_forged_cursor_is_ignored(account, agent):
    ConversationFactory(account=account)
    assert len(page(agent, "cursor=not-base64!!").rows) == 1


def test_search_finds_names_usernames_and_message_text(account, other_account, agent):
    priya = ConversationFactory(account=account, contact=ContactFactory(name="Priya Raman"))
    by_username = ConversationFactory(account=account, identity=None)
    identity = IdentityFactory(account=account, username="coatlover99")
    by_username.participants.set([identity])
    by_text = ConversationFactory(account=account)
    MessageFactory(conversation=by_text, text="Is the green coat in stock?")
    hidden = ConversationFactory(account=other_account, contact=ContactFactory(name="Priya Hidden"))

    assert ids(page(agent, "q=priya")) == [priya.pk]
    assert ids(page(agent, "q=coatlover")) == [by_username.pk]
    assert ids(page(agent, "q=green coat")) == [by_text.pk]
    assert hidden.pk not in ids(page(agent, "q=hidden&status=any"))
    assert ids(page(agent, "q=' | & !:*")) == []  # operators in user text are only text


def test_unread_counts_follow_each_agents_read_mark(account, agent, teammate):
    conversation = ConversationFactory(account=account)
    first = MessageFactory(conversation=conversation)
    MessageFactory(conversation=conversation)
    MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        status=Message.Status.SENT,
    )

    assert page(agent).rows[0].unread == 2
    reading.mark_read(user=agent, conversation_id=conversation.pk, up_to=first.pk)
    assert page(agent).rows[0].unread == 1
    assert page(teammate).rows[0].unread == 2  # read state is per agent
    reading.mark_read(user=agent, conversation_id=conversation.pk, up_to=first.pk - 1)
    assert page(agent).rows[0].unread == 1  # the mark never moves back


def test_list_query_count_does_not_grow_with_rows(account, agent):
    label = Label.objects.create(name="billing")
    for _ in range(3):
        ConversationFactory(account=account).labels.add(label)
    with CaptureQueriesContext(connection) as few:
        page(agent)
    for _ in range(10):
        ConversationFactory(account=account, assignee=agent).labels.add(label)
    with CaptureQueriesContext(connection) as many:
        assert len(page(agent).rows) == 13
    assert len(many) == len(few)


def test_the_label_filter_sees_labels_from_every_writer(account, agent):
    """The list's label filter reads the labels kept on the conversation's row (PostgreSQL,
    migration 0022): whoever writes the links — the service, the admin's form (``set``), a
    plain ``add``/``remove``/``clear``, a label deleted with its links — the filter shows
    what the links say."""
    vip, late, gone = (Label.objects.create(name=name) for name in ("vip", "late", "gone"))
    by_service, by_add, by_set, unlabelled = (ConversationFactory(account=account) for _ in "abcd")
    services.set_labels(conversation=by_service, labels=[vip, late], actor=agent)
    by_add.labels.add(vip, gone)

    def labelled(label: Label | int) -> set[int]:
        return set(ids(page(agent, f"label={getattr(label, 'pk', label)}&status=any")))

    assert labelled(vip) == {by_service.pk, by_add.pk}
    assert labelled(late) == {by_service.pk}

    services.set_labels(conversation=by_service, labels=[late], actor=agent)
    by_add.labels.remove(vip)
    assert labelled(vip) == set()
    assert labelled(gone) == {by_add.pk}

    by_set.labels.set([late, gone])  # what the admin's form saves
    assert labelled(late) == {by_service.pk, by_set.pk}

    gone_id = gone.pk
    gone.delete()  # its links go with it
    assert labelled(gone_id) == set()
    by_service.labels.clear()
    assert labelled(late) == {by_set.pk}
    assert unlabelled.pk not in labelled(late) | labelled(vip)
    # A status change (a save of the whole row) keeps the labels the links gave it.
    stale = Conversation.objects.get(pk=by_set.pk)
    by_set.labels.add(vip)
    stale.status = Conversation.Status.PENDING
    stale.save()
    assert labelled(vip) == {by_set.pk}
