"""Domain events and their listeners: after commit only, once per listener and event, swept
again when a dispatch was lost; services know none of their followers."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chatbot import tasks as chatbot_tasks
from connectors.base import MessageReceived as PlatformMessage
from connectors.base import Person
from inbox import events, listeners, services
from inbox.models import ConversationEvent, ListenerReceipt
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def heard(monkeypatch) -> list[events.DomainEvent]:
    """A durable listener of every event, added to the table for the test."""
    received: list[events.DomainEvent] = []
    recorder = listeners.Listener("test_recorder", received.extend)
    table = dict(listeners.LISTENERS)
    table[events.DomainEvent] = (*table[events.DomainEvent], recorder)
    monkeypatch.setattr(listeners, "LISTENERS", table)
    monkeypatch.setattr(listeners, "ORDER", (*listeners.ORDER, recorder))
    return received


def test_listeners_run_after_commit_with_typed_events(account, agent, heard):
    conversation = ConversationFactory(account=account)
    with transaction.atomic():
        note = services.add_note(conversation=conversation, author=agent, text="Call back")
        assert heard == []  # not before the commit
    assert [type(e) for e in heard] == [events.NoteAdded]
    assert heard[0].data == {"note": note.pk}
    assert heard[0].actor_id == agent.pk
    assert ListenerReceipt.objects.filter(event_id=heard[0].id, listener="test_recorder").exists()


def test_nothing_reacts_to_a_rolled_back_change(account, agent, heard):
    conversation = ConversationFactory(account=account)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.add_note(conversation=conversation, author=agent, text="Call back")
        raise RuntimeError("the view failed after the write")
    assert heard == []
    assert not ConversationEvent.objects.exists()


def test_a_listener_that_handled_an_event_does_nothing_the_second_time(account, agent, heard):
    conversation = ConversationFactory(account=account)
    services.add_note(conversation=conversation, author=agent, text="Call back")
    event_id = heard[0].id
    handled = listeners.dispatch_events(event_ids=[event_id])  # a retried task, a sweep
    assert "test_recorder" not in handled
    assert [e.id for e in heard] == [event_id]


def test_a_failing_listener_is_rolled_back_alone(account, agent, heard, monkeypatch):
    def broken(_events):
        raise RuntimeError("listener bug")

    failing = listeners.Listener("test_broken", broken)
    table = dict(listeners.LISTENERS)
    table[events.NoteAdded] = (failing,)
    monkeypatch.setattr(listeners, "LISTENERS", table)
    monkeypatch.setattr(listeners, "ORDER", (failing, *listeners.ORDER))
    conversation = ConversationFactory(account=account)
    services.add_note(conversation=conversation, author=agent, text="Call back")
    assert len(heard) == 1  # the others still ran
    assert not ListenerReceipt.objects.filter(listener="test_broken").exists()


def test_a_failing_listener_does_not_undo_the_work_of_those_before_it(account, agent, monkeypatch):
    committed: list[int] = []

    def works(events_):
        transaction.on_commit(lambda: committed.extend(e.id for e in events_))

    def broken(_events):
        raise RuntimeError("listener bug")

    working = listeners.Listener("test_works", works)
    failing = listeners.Listener("test_broken", broken)
    table = dict(listeners.LISTENERS)
    table[events.NoteAdded] = (working, failing)
    monkeypatch.setattr(listeners, "LISTENERS", table)
    monkeypatch.setattr(listeners, "ORDER", (*listeners.ORDER, working, failing))
    conversation = ConversationFactory(account=account)
    services.add_note(conversation=conversation, author=agent, text="Call back")
    event_id = ConversationEvent.objects.get(kind="note_added").pk
    assert committed == [event_id]  # once: its first run went with the failed transaction
    assert ListenerReceipt.objects.filter(listener="test_works", event_id=event_id).exists()
    assert not ListenerReceipt.objects.filter(listener="test_broken").exists()
    # The sweep's dispatch retries the failing one only.
    listeners.dispatch_events(event_ids=[event_id])
    assert committed == [event_id]


def _received(account, monkeypatch) -> list[int]:
    """A customer's message stored, its dispatch held back: the event ids."""
    dispatched: list[list[int]] = []
    message = PlatformMessage(
        platform="sandbox",
        account_external_id=account.external_id,
        timestamp=timezone.now(),
        external_id="m-1",
        sender=Person(platform_user_id="cust-1"),
        text="where is my parcel?",
    )
    with monkeypatch.context() as held:
        held.setattr(listeners.dispatch_events, "delay", dispatched.append)
        services.receive_messages(account, [message])
    return dispatched[0]


def test_a_message_received_reaches_its_listeners_in_three_transactions(account, monkeypatch):
    ids = _received(account, monkeypatch)
    received = ConversationEvent.objects.get(kind="message_received")
    with CaptureQueriesContext(connection) as queries:
        handled = listeners.dispatch_events(ids)
    durable = {
        listener.name
        for listener in listeners.listeners_for(events.from_row(received))
        if listener.durable
    }
    assert len(durable) >= 10
    assert durable <= set(handled)
    assert (
        set(ListenerReceipt.objects.filter(event_id=received.pk).values_list("listener", flat=True))
        == durable
    )
    receipts = [q["sql"] for q in queries.captured_queries if '"inbox_listenerreceipt"' in q["sql"]]
    # Three transactions (the chatbot's; those writing the conversation row; the others'),
    # each reading and writing its receipts once: a transaction per listener was 4 statements
    # and a commit each.
    assert [sql.split()[0] for sql in receipts] == ["SELECT", "INSERT"] * 3


def test_the_bot_task_is_enqueued_before_the_other_listeners_run(account, monkeypatch):
    ids = _received(account, monkeypatch)
    received = ConversationEvent.objects.get(kind="message_received")
    seen_at_enqueue: list[set[str]] = []

    def enqueue(message_ids):
        seen_at_enqueue.append(
            set(
                ListenerReceipt.objects.filter(event_id=received.pk).values_list(
                    "listener", flat=True
                )
            )
        )

    monkeypatch.setattr(chatbot_tasks.answer_messages, "delay", enqueue)
    listeners.dispatch_events(ids)
    # Committed with the chatbot's receipt, before the assignment, SLA, … listeners ran.
    assert seen_at_enqueue == [{"chatbot"}]


def test_the_sweep_dispatches_again_what_a_lost_task_left_behind(
    account, agent, heard, monkeypatch
):
    conversation = ConversationFactory(account=account)
    with monkeypatch.context() as lost:
        lost.setattr(listeners.dispatch_events, "delay", lambda *args, **kwargs: None)
        services.add_note(conversation=conversation, author=agent, text="Call back")
    assert heard == []  # Redis restarted: the task is gone
    # Too young for the sweep: its own dispatch may still be on its way.
    assert listeners.sweep_unhandled_events() == 0
    ConversationEvent.objects.update(
        created_at=timezone.now() - listeners.SWEEP_GRACE - timedelta(seconds=1)
    )
    assert listeners.sweep_unhandled_events() == 1
    assert [type(e) for e in heard] == [events.NoteAdded]
    assert listeners.sweep_unhandled_events() == 0  # handled: nothing more to do


def test_the_sweep_forgets_receipts_of_events_it_no_longer_looks_at(account, agent, heard):
    conversation = ConversationFactory(account=account)
    services.add_note(conversation=conversation, author=agent, text="Old")
    ConversationEvent.objects.update(
        created_at=timezone.now() - listeners.SWEEP_WINDOW - timedelta(minutes=1)
    )
    services.add_note(conversation=conversation, author=agent, text="New")
    listeners.sweep_unhandled_events()
    kept = ListenerReceipt.objects.values_list("event_id", flat=True)
    assert set(kept) == {heard[1].id}


def test_an_ingest_batch_is_one_dispatch(account, monkeypatch):
    dispatched: list[list[int]] = []
    monkeypatch.setattr(listeners.dispatch_events, "delay", dispatched.append)
    received = [
        PlatformMessage(
            platform="sandbox",
            account_external_id=account.external_id,
            timestamp=timezone.now(),
            external_id=f"m-{n}",
            sender=Person(platform_user_id=f"cust-{n % 2}"),
            text="hello",
        )
        for n in range(4)
    ]
    services.receive_messages(account, received)
    # The conversations it opened and the messages (outbound webhooks follow both).
    logged = ConversationEvent.objects.order_by("pk")
    assert logged.filter(kind="message_received").count() == 4
    assert dispatched == [list(logged.values_list("pk", flat=True))]


def test_every_logged_kind_has_a_typed_event():
    assert set(events.BY_KIND) == set(ConversationEvent.Kind.values)
    assert issubclass(events.MessageFailed, events.MessageUpdated)
    assert issubclass(events.ConsentChanged, events.ContactUpdated)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_services_import_none_of_their_followers():
    followers = {
        "sla.timers",
        "reports.metrics",
        "inbox.assignment",
        "inbox.tasks",
        "inbox.delivery",
        "inbox.listeners",
        "inbox.live",
        "chatbot.tasks",
        "chatbot.engine",
    }
    for module in ("inbox/services.py", "inbox/events.py"):
        assert _imports(ROOT / module) & followers == set(), module


def test_events_of_a_test_conversation_reach_only_the_live_push_delivery_and_media(account):
    conversation = ConversationFactory(account=account, is_test=True)
    with transaction.atomic():
        row = events.record(
            conversation, ConversationEvent.Kind.MESSAGE_RECEIVED, data={"message": 1}
        )
    event = events.from_row(row)
    assert event.is_test and row.data["test"] is True
    assert set(listeners.listeners_for(event)) <= listeners.ONLY["test"]
    assert listeners.SLA not in listeners.listeners_for(event)
    assert listeners.CHATBOT not in listeners.listeners_for(event)
    real = events.from_row(
        events.record(
            ConversationFactory(account=account),
            ConversationEvent.Kind.MESSAGE_RECEIVED,
            data={"message": 2},
        )
    )
    assert listeners.SLA in listeners.listeners_for(
        real
    ) and listeners.CHATBOT in listeners.listeners_for(real)
