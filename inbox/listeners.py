"""Who reacts to what happened in the inbox: the one table of listeners (event type →
listeners), and their dispatch.

Services record domain events (``inbox.events``) and know nothing of who follows them. After
the recording transaction commits:

- the live push runs at once in the committing process (the socket is only a notification
  path: a push that is lost is caught up by clients over HTTP from the event ids);
- the durable listeners run in a Celery task (``dispatch_events``; eager in the embedded
  default and in unit tests), their work committed with a ``ListenerReceipt`` per listener and
  event, so an event a listener already handled is skipped the second time (``handle``: a few
  transactions per dispatch, and one per listener when one of them fails);
- Redis keeps nothing on disk, so ``sweep_unhandled_events`` (periodic, ``parley/celery.py``)
  dispatches again the recent events that lack a receipt of one of their listeners.

A rolled-back change has no event row and no callback: nothing reacts to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from automation import engine as automation
from campaigns import tracking as campaign_tracking
from chatbot.tasks import answer_new_messages
from contacts import clues as contact_clues
from contacts import consent as contact_consent
from inbox import answers, assignment, engagement, live
from inbox.events import (
    Assigned,
    ConsentChanged,
    ConversationOpened,
    DomainEvent,
    LabelsChanged,
    MessageFailed,
    MessageReceived,
    MessageSent,
    NoteAdded,
    PriorityChanged,
    SlaBreached,
    SlaWarned,
    StatusChanged,
    from_row,
)
from inbox.models import ConversationEvent, ListenerReceipt
from inbox.tasks import deliver_queued, fetch_new_media
from notifications import listeners as notifications
from outbound_webhooks import services as outbound_webhooks
from reports import metrics as report_metrics
from sla import timers
from surveys import listeners as surveys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listener:
    # Its receipts' name: never rename one that has receipts in flight.
    name: str
    # Called with the events of one dispatch that it listens to, in id order.
    handle: Callable[[list[DomainEvent]], None]
    # False: run in the committing process without a receipt (nothing to lose but a push).
    durable: bool = True


LIVE_PUSH = Listener("live_push", live.publish_events, durable=False)
ASSIGNMENT = Listener("assignment", assignment.on_events)
SLA = Listener("sla", timers.on_events)
REPORT_METRICS = Listener("report_metrics", report_metrics.on_events)
CHATBOT = Listener("chatbot", answer_new_messages)
DELIVERY = Listener("delivery", deliver_queued)
MEDIA = Listener("media", fetch_new_media)
AUTOMATION = Listener("automation", automation.on_events)
NOTIFICATIONS = Listener("notifications", notifications.on_events)
CONTACT_CLUES = Listener("contact_clues", contact_clues.on_events)
CONSENT_HISTORY = Listener("consent_history", contact_consent.on_events)
OUTBOUND_WEBHOOKS = Listener("outbound_webhooks", outbound_webhooks.on_events)
# A customer invited publicly to write a DM wrote one: linked to the comment by origin.
DM_INVITATIONS = Listener("dm_invitations", engagement.link_invited_dms)
SURVEYS = Listener("surveys", surveys.on_events)
CAMPAIGNS = Listener("campaigns", campaign_tracking.on_events)

# Event type → its listeners (a subtype has its parents' too: a MessageFailed is a
# MessageUpdated, every event is a DomainEvent).
LISTENERS: dict[type[DomainEvent], tuple[Listener, ...]] = {
    DomainEvent: (LIVE_PUSH,),
    MessageReceived: (
        ASSIGNMENT,
        SLA,
        REPORT_METRICS,
        CHATBOT,
        MEDIA,
        AUTOMATION,
        NOTIFICATIONS,
        CONTACT_CLUES,
        OUTBOUND_WEBHOOKS,
        DM_INVITATIONS,
        SURVEYS,
        CAMPAIGNS,
    ),
    MessageSent: (SLA, REPORT_METRICS, DELIVERY, MEDIA, OUTBOUND_WEBHOOKS),
    MessageFailed: (REPORT_METRICS, SURVEYS),
    NoteAdded: (NOTIFICATIONS,),
    # The assignment listener reads "a resolved conversation's customer came back" from here.
    StatusChanged: (ASSIGNMENT, SLA, REPORT_METRICS, AUTOMATION, OUTBOUND_WEBHOOKS, SURVEYS),
    Assigned: (ASSIGNMENT, REPORT_METRICS, NOTIFICATIONS, AUTOMATION, OUTBOUND_WEBHOOKS),
    LabelsChanged: (SLA, AUTOMATION, OUTBOUND_WEBHOOKS),
    PriorityChanged: (SLA, OUTBOUND_WEBHOOKS),
    SlaWarned: (NOTIFICATIONS,),
    SlaBreached: (NOTIFICATIONS, OUTBOUND_WEBHOOKS),
    # Outbound webhooks turn these into subscribers' events (outbound_webhooks.payloads).
    ConversationOpened: (OUTBOUND_WEBHOOKS,),
    ConsentChanged: (CONSENT_HISTORY, CAMPAIGNS),
}

# The order listeners run in for one dispatch: someone waits for the bot's answer and for a
# reply to leave, so those tasks are enqueued first (they read nothing the others write).
# Automation runs before assignment: a rule that routes to a team is seen by the round-robin.
# Notifications come after assignment: a customer's reply goes to the agent it was given to.
ORDER: tuple[Listener, ...] = (
    LIVE_PUSH,
    CHATBOT,
    DELIVERY,
    OUTBOUND_WEBHOOKS,
    AUTOMATION,
    ASSIGNMENT,
    SLA,
    REPORT_METRICS,
    NOTIFICATIONS,
    MEDIA,
    CONTACT_CLUES,
    CONSENT_HISTORY,
    DM_INVITATIONS,
    SURVEYS,
    CAMPAIGNS,
)


# Events that only some listeners follow, by the mark in their data. Imported history
# (``DomainEvent.history``) is shown and its media kept; a test event (the settings area's,
# ``DomainEvent.is_test``) is shown and may be answered. Neither starts an SLA clock, a bot reply,
# an assignment, a report metric or a notification, and a listener added later stays away from
# them unless it is listed here.
ONLY: dict[str, frozenset[Listener]] = {
    # A customer's own words still tell who they are (contact merge suggestions).
    "history": frozenset({LIVE_PUSH, MEDIA, CONTACT_CLUES}),
    "test": frozenset({LIVE_PUSH, DELIVERY, MEDIA}),
    # A survey's rating or comment (``inbox.answers``): shown, its media kept, recorded by the
    # survey; not a new question (no SLA clock, assignment, metric or notification; the bot
    # only applies a consent keyword, ``chatbot.engine.decide``).
    answers.MARK: frozenset({LIVE_PUSH, CHATBOT, MEDIA, CONTACT_CLUES, SURVEYS}),
}


def listeners_for(event: DomainEvent) -> list[Listener]:
    found = {
        listener
        for cls in type(event).__mro__
        for listener in LISTENERS.get(cls, ())  # type: ignore[arg-type]
    }
    for mark, allowed in ONLY.items():
        if event.data.get(mark):
            found &= allowed
    return [listener for listener in ORDER if listener in found]


def _durable(event: DomainEvent) -> bool:
    return any(listener.durable for listener in listeners_for(event))


# --- Dispatch ---------------------------------------------------------------------------------


def dispatch_on_commit(rows: list[ConversationEvent]) -> None:
    """``inbox.events``' dispatcher: after commit, the live push now and the durable listeners
    in one task, once for all of the transaction's rows given together."""
    events = [from_row(row) for row in rows]
    transaction.on_commit(lambda: _after_commit(events))


def _after_commit(events: list[DomainEvent]) -> None:
    for listener in ORDER:
        if not listener.durable:
            _run(listener, [e for e in events if listener in listeners_for(e)])
    durable = [e.id for e in events if _durable(e)]
    if durable:
        dispatch_events.delay(durable)


def _run(listener: Listener, events: list[DomainEvent]) -> None:
    if not events:
        return
    try:
        listener.handle(events)
    except Exception:  # noqa: BLE001 - one listener's failure must not stop the others
        log.exception("listener %s failed on events %s", listener.name, [e.id for e in events])


@shared_task(acks_late=True, ignore_result=True)
def dispatch_events(event_ids: list[int]) -> dict[str, int]:
    """Hand these events to their durable listeners (a retry or a sweep re-runs it safely)."""
    rows = ConversationEvent.objects.filter(pk__in=event_ids).order_by("pk")
    return handle([from_row(row) for row in rows])


# Where one dispatch commits, in ``ORDER``: after the listeners someone waits for (the bot's
# answer, a reply leaving: their tasks are enqueued on commit, before the others run), and
# after those that write the conversation row (automation to report metrics: the row stays
# locked until the commit, and the ingest pass of the customer's next message waits for it).
# The listeners between two commits share a transaction.
COMMIT_AFTER: frozenset[Listener] = frozenset({DELIVERY, REPORT_METRICS})


def _transaction_of(listener: Listener) -> int:
    return sum(1 for earlier in ORDER[: ORDER.index(listener)] if earlier in COMMIT_AFTER)


def handle(events: Iterable[DomainEvent]) -> dict[str, int]:
    """Each durable listener, in order, with the events it has not handled yet; returns how
    many each handled. A listener's work and its receipts commit together; one that fails is
    rolled back alone and left to the sweep.

    The listeners share transactions (``COMMIT_AFTER``: three for a message received), with
    the receipts of each read in one query and written in one: a transaction, a receipts query
    and an INSERT per listener were most of a dispatch's queries (12 listeners per message
    received). If any listener fails, its transaction is rolled back whole and each of its
    listeners runs again alone, in a transaction of its own, so the others still commit."""
    events = list(events)
    groups: dict[int, list[tuple[Listener, list[DomainEvent]]]] = {}
    for listener in ORDER:
        mine = [e for e in events if listener in listeners_for(e)]
        if listener.durable and mine:
            groups.setdefault(_transaction_of(listener), []).append((listener, mine))
    handled: dict[str, int] = {}
    for group in groups.values():
        try:
            handled.update(_handle_together(group))
        except Exception:  # noqa: BLE001 - each alone: the others commit without the failing one
            log.warning(
                "listeners %s failed together; running each alone",
                [listener.name for listener, _ in group],
            )
            for listener, mine in group:
                handled.update(_handle_together([(listener, mine)], alone=True))
    return handled


def _handle_together(
    plan: list[tuple[Listener, list[DomainEvent]]], *, alone: bool = False
) -> dict[str, int]:
    """The listeners of ``plan`` in one transaction with their receipts. ``alone``: one
    listener, whose failure is logged and left to the sweep; else the failure propagates."""
    try:
        with transaction.atomic():
            done = set(
                ListenerReceipt.objects.filter(
                    listener__in=[listener.name for listener, _ in plan],
                    event_id__in={e.id for _, mine in plan for e in mine},
                ).values_list("listener", "event_id")
            )
            todo = [
                (listener, [e for e in mine if (listener.name, e.id) not in done])
                for listener, mine in plan
            ]
            todo = [(listener, mine) for listener, mine in todo if mine]
            # Receipts first: a concurrent dispatch of the same events waits on them and
            # then fails, rolled back, instead of doing the work twice.
            ListenerReceipt.objects.bulk_create(
                ListenerReceipt(event_id=e.id, listener=listener.name)
                for listener, mine in todo
                for e in mine
            )
            for listener, mine in todo:
                listener.handle(mine)
            return {listener.name: len(mine) for listener, mine in todo}
    except Exception:
        if not alone:
            raise
        listener, mine = plan[0]
        log.exception("listener %s failed on events %s", listener.name, [e.id for e in mine])
        return {}


# --- The sweep --------------------------------------------------------------------------------

# Events younger than the grace are left to their own dispatch; older than the window, to no
# one (their receipts are pruned). The scan is bounded to the newest SWEEP_SCAN events.
SWEEP_GRACE = timedelta(seconds=30)
SWEEP_WINDOW = timedelta(minutes=10)
SWEEP_SCAN = 5000


@shared_task(ignore_result=True)
def sweep_unhandled_events() -> int:
    """Events of the last minutes that a durable listener has no receipt for are dispatched
    again (their task was lost with Redis, or a listener failed); returns how many."""
    now = timezone.now()
    newest = list(
        ConversationEvent.objects.order_by("-pk").values_list("pk", flat=True)[:SWEEP_SCAN]
    )
    if not newest:
        return 0
    recent = list(
        ConversationEvent.objects.filter(
            pk__gte=newest[-1], created_at__gte=now - SWEEP_WINDOW
        ).order_by("pk")
    )
    rows = [row for row in recent if row.created_at <= now - SWEEP_GRACE]
    receipts: dict[int, set[str]] = {}
    for event_id, name in ListenerReceipt.objects.filter(
        event_id__in=[row.pk for row in rows]
    ).values_list("event_id", "listener"):
        receipts.setdefault(event_id, set()).add(name)
    missed = [
        event.id
        for event in map(from_row, rows)
        if {listener.name for listener in listeners_for(event) if listener.durable}
        - receipts.get(event.id, set())
    ]
    if missed:
        dispatch_events.delay(missed)
        log.info("listener sweep dispatched %d event(s) again", len(missed))
    # Receipts of events the sweep no longer looks at are of no further use.
    oldest = recent[0].pk if recent else newest[0] + 1
    ListenerReceipt.objects.filter(event_id__lt=oldest).delete()
    return len(missed)
