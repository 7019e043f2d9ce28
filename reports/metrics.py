"""The report metrics of a conversation, kept up to date when its events happen.

Reports never walk the message table: they aggregate three small tables that this module keeps
(``ConversationMetric`` per opening, ``ReplyMetric`` per answered wait, ``VolumeHour`` per
conversation-hour). The definitions are in ``docs/metrics.md``; in short:

- an **opening** starts with a customer message when the conversation is new or its last
  opening was resolved, and ends when the conversation is resolved. An agent reopening a
  resolved conversation by hand continues the same opening (its resolution moves to the next
  resolve).
- **first response**: opening → the first reply by a human agent (from Parley or sent outside
  Parley from the platform's own tools). The bot's first reply is kept apart as **bot first
  response**. Notes never count; failed sends and promotional messages are not replies.
- **reply time**: each stretch of customer messages not yet answered, from its first message to
  the reply that answered it: a human reply makes a human row, a bot reply a bot row (a bot
  answer does not stop the clock for the human one).
- **resolution**: opening → resolution. Both wall-clock and in business hours.

How it stays correct: its listener (`on_events`, registered in `inbox.listeners` for messages
received, sent and failed, status changes and assignments) asks for :func:`refresh` of the
conversation after the write commits (task ``refresh_report_metrics`` below), which recomputes its latest
opening (and any opening begun since) from its messages and status events. That is idempotent
and order-independent: a retried webhook, an out-of-order delivery or a send that fails later
all give the same rows. It costs a read of the latest opening's messages — a handful of rows —
per conversation touched; an ingest batch asks once per conversation (``inbox.batch``), so
a burst of messages costs one refresh, and the metrics never slow the write that caused them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import shared_task
from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from inbox import batch, triggers
from inbox.events import DomainEvent, MessageReceived, MessageSent
from inbox.models import Conversation, ConversationEvent, Message
from reports import sla
from reports.models import ConversationMetric, ReplyMetric, VolumeHour
from sla.business_hours import Schedule, business_seconds_between, schedule_from_model
from sla.models import SlaRecord
from sla.timers import hours_for

log = logging.getLogger(__name__)

# What an item of the walk is.
IN, HUMAN, BOT, OTHER_OUT, RESOLVE, UNRESOLVE = "in", "human", "bot", "out", "resolve", "unresolve"


@dataclass(frozen=True)
class Item:
    """A message or a status change, placed on the conversation's time line."""

    at: datetime
    kind: str
    message_id: int | None = None
    author_id: int | None = None
    # Ties: at the same instant, messages come before status changes, then by id.
    order: tuple[int, int] = (0, 0)


@dataclass
class Wait:
    message_id: int
    sender_kind: str
    agent_id: int | None
    waited_from: datetime
    replied_at: datetime


@dataclass
class Opening:
    sequence: int
    opened_at: datetime
    first_response_at: datetime | None = None
    first_responder_id: int | None = None
    bot_first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    messages_in: int = 0
    messages_out: int = 0
    waits: list[Wait] = field(default_factory=list)
    # Running state: the first customer message not yet answered, by a human / by the bot.
    human_waiting_since: datetime | None = None
    bot_waiting_since: datetime | None = None

    @property
    def bot_deflected(self) -> bool:
        return (
            self.resolved_at is not None
            and self.bot_first_response_at is not None
            and self.first_response_at is None
        )


def walk(items: Iterable[Item], *, first_sequence: int = 1) -> list[Opening]:
    """The openings described by a conversation's messages and status changes (any order).

    Pure: no database. This is the executable definition of the metrics."""
    openings: list[Opening] = []
    current: Opening | None = None
    for item in sorted(items, key=lambda i: (i.at, i.order)):
        if item.kind == IN:
            if current is None or current.resolved_at is not None:
                current = Opening(sequence=first_sequence + len(openings), opened_at=item.at)
                openings.append(current)
            current.messages_in += 1
            current.human_waiting_since = current.human_waiting_since or item.at
            current.bot_waiting_since = current.bot_waiting_since or item.at
        elif current is None:
            continue  # the business wrote first: nothing is waiting, no opening yet
        elif item.kind == RESOLVE:
            if current.resolved_at is None:
                current.resolved_at = item.at
                # Resolved without an answer: the wait is dropped, not counted as a reply.
                current.human_waiting_since = current.bot_waiting_since = None
        elif item.kind == UNRESOLVE:
            # An agent reopened it by hand (a customer writing makes a new opening instead).
            current.resolved_at = None
        else:
            current.messages_out += 1
            if current.resolved_at is not None:
                continue  # a follow-up after resolution answers nothing
            if item.kind == HUMAN:
                if current.human_waiting_since is not None:
                    current.waits.append(
                        Wait(
                            item.message_id,
                            Message.SenderKind.AGENT,
                            item.author_id,
                            current.human_waiting_since,
                            item.at,
                        )
                    )
                if current.first_response_at is None:
                    current.first_response_at = item.at
                    current.first_responder_id = item.author_id
                # A human answer also answers what the bot had not.
                current.human_waiting_since = current.bot_waiting_since = None
            elif item.kind == BOT:
                if current.bot_waiting_since is not None:
                    current.waits.append(
                        Wait(
                            item.message_id,
                            Message.SenderKind.BOT,
                            None,
                            current.bot_waiting_since,
                            item.at,
                        )
                    )
                if current.bot_first_response_at is None:
                    current.bot_first_response_at = item.at
                current.bot_waiting_since = None
    return openings


def message_kind(direction: str, sender_kind: str, is_promotional: bool) -> str:
    if direction == Message.Direction.INBOUND:
        return IN
    if is_promotional:
        return OTHER_OUT
    if sender_kind == Message.SenderKind.AGENT:
        return HUMAN
    if sender_kind == Message.SenderKind.BOT:
        return BOT
    return OTHER_OUT


def status_item(event_id: int, at: datetime, data: dict) -> Item | None:
    """A status change as the walk sees it, or None when it does not bear on openings."""
    if data.get("reason") == "customer wrote":
        return None  # the customer's message itself starts the new opening
    if data.get("to") == Conversation.Status.RESOLVED:
        return Item(at, RESOLVE, order=(1, event_id))
    if data.get("from") == Conversation.Status.RESOLVED:
        return Item(at, UNRESOLVE, order=(1, event_id))
    return None


# --- Business hours -------------------------------------------------------------------------


def schedule_for(conversation: Conversation) -> Schedule | None:
    """The business hours that apply to a conversation — its team's, else its account's, else
    the default (the same choice the SLA timers make) — as a ``business_hours.Schedule``;
    None means around the clock, so business time then equals wall-clock time."""
    return schedule_from_model(hours_for(conversation))


def _business(hours: Schedule | None, start: datetime, end: datetime | None) -> float | None:
    if end is None:
        return None
    return business_seconds_between(hours, start, end)


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds()


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


# --- Keeping the rows -----------------------------------------------------------------------


def refresh(conversation_id: int) -> list[ConversationMetric]:
    """Recompute the latest opening of a conversation (and any begun since) and its reply and
    volume rows. Safe to call any number of times, in any order."""
    with transaction.atomic():
        # The row lock serialises two workers refreshing the same conversation.
        conversation = _locking(Conversation.objects.filter(pk=conversation_id)).first()
        if conversation is None:
            raise Conversation.DoesNotExist(conversation_id)
        return _refresh_many([conversation], _latest_openings([conversation_id]))[conversation_id]


def _locking(conversations: QuerySet[Conversation], **lock) -> QuerySet[Conversation]:
    return conversations.select_for_update(of=("self",), **lock).select_related(
        "account", "sla_policy"
    )


def _latest_openings(conversation_ids: list[int]) -> dict[int, ConversationMetric]:
    """Each conversation's opening with the highest sequence (the only one a refresh
    rewrites), in one query."""
    highest = (
        ConversationMetric.objects.filter(conversation_id=OuterRef("conversation_id"))
        .order_by("-sequence")
        .values("sequence")[:1]
    )
    return {
        m.conversation_id: m
        for m in ConversationMetric.objects.filter(
            conversation_id__in=conversation_ids, sequence=Subquery(highest)
        )
    }


def _since_each(field_name: str, windows: dict[int, datetime | None]) -> Q:
    """Rows of each conversation from its own start (all of them where it has none)."""
    condition = Q(pk__in=[])
    for conversation_id, start in windows.items():
        mine = Q(conversation_id=conversation_id)
        condition |= mine & Q(**{f"{field_name}__gte": start}) if start is not None else mine
    return condition


def _refresh_many(
    conversations: list[Conversation], latest: dict[int, ConversationMetric]
) -> dict[int, list[ConversationMetric]]:
    """``refresh`` of row-locked conversations whose latest opening rows are ``latest``: a
    fixed number of queries however many there are (the refresh pass takes them by the
    hundred). Returns each conversation's saved openings."""
    if not conversations:
        return {}
    ids = [c.pk for c in conversations]
    windows = {pk: (latest[pk].opened_at if pk in latest else None) for pk in ids}
    # Volume rows are per hour: messages are read from the window's hour so it is rebuilt
    # complete; the walk itself starts at the window.
    hour_windows = {pk: (_hour(w) if w else None) for pk, w in windows.items()}
    messages: dict[int, list[tuple]] = {pk: [] for pk in ids}
    for conversation_id, *row in (
        Message.objects.filter(_since_each("sent_at", hour_windows), imported=False)
        .exclude(status=Message.Status.FAILED)
        .values_list(
            "conversation_id",
            "id",
            "direction",
            "sender_kind",
            "is_promotional",
            "author_id",
            "sent_at",
        )
    ):
        messages[conversation_id].append(tuple(row))
    statuses: dict[int, list[Item]] = {pk: [] for pk in ids}
    for conversation_id, pk, at, data in ConversationEvent.objects.filter(
        _since_each("created_at", windows), kind=ConversationEvent.Kind.STATUS_CHANGED
    ).values_list("conversation_id", "id", "created_at", "data"):
        item = status_item(pk, at, data or {})
        if item is not None:
            statuses[conversation_id].append(item)
    known = [w for w in windows.values() if w is not None]
    breaches = sla.breach_records(ids, min(known) if len(known) == len(ids) else None)

    now = timezone.now()
    changed: list[ConversationMetric] = []
    added: list[ConversationMetric] = []
    replies: dict[int, list[ReplyMetric]] = {}  # by the opening's position in changed + added
    dropped: list[int] = []
    saved: dict[int, list[ConversationMetric]] = {}
    for conversation in conversations:
        pk, stored = conversation.pk, latest.get(conversation.pk)
        window = windows[pk]
        first_sequence = stored.sequence if stored else 1
        items = [
            Item(at, message_kind(direction, sender, promo), message_id, author, (0, message_id))
            for message_id, direction, sender, promo, author, at in messages[pk]
            if window is None or at >= window
        ] + statuses[pk]
        openings = walk(items, first_sequence=first_sequence)
        hours = schedule_for(conversation)
        saved[pk] = []
        for opening in openings:
            rewritten = stored if stored and stored.sequence == opening.sequence else None
            metric, waits = _opening_row(
                conversation, opening, rewritten, hours, breaches.get(pk, [])
            )
            metric.updated_at = now  # bulk writes skip auto_now; the rollups follow it
            (changed if rewritten else added).append(metric)
            replies[id(metric)] = waits
            saved[pk].append(metric)
        if stored and stored.sequence >= first_sequence + len(openings):
            dropped.append(stored.pk)

    batch.update_each(
        ConversationMetric,
        {
            metric.pk: {name: getattr(metric, name) for name in _OPENING_FIELDS}
            for metric in changed
        },
    )
    if dropped:
        ConversationMetric.objects.filter(pk__in=dropped).delete()
    if added:
        ConversationMetric.objects.bulk_create(added)
    ReplyMetric.objects.filter(opening__in=changed).delete()
    ReplyMetric.objects.bulk_create(
        reply for metric in changed + added for reply in _with_opening(replies[id(metric)], metric)
    )
    _save_volumes(conversations, messages, hour_windows, saved)
    return saved


# What a refresh rewrites on a stored opening: everything but its identity.
_OPENING_FIELDS = [
    f.attname
    for f in ConversationMetric._meta.concrete_fields
    if f.name not in ("id", "conversation", "sequence")
]


def _opening_row(
    conversation: Conversation,
    opening: Opening,
    stored: ConversationMetric | None,
    hours: Schedule | None,
    breaches: list[tuple[str, datetime]],
) -> tuple[ConversationMetric, list[ReplyMetric]]:
    """The opening's metric row (``stored`` updated, or a new one) and its reply rows, unsaved."""
    metric = stored or ConversationMetric(conversation=conversation, sequence=opening.sequence)
    # Who is credited is frozen once an opening is resolved: a later reassignment of the
    # conversation belongs to later openings.
    frozen = (
        stored is not None
        and stored.resolved_at is not None
        and stored.resolved_at == opening.resolved_at
    )
    if not frozen:
        metric.agent_id = conversation.assignee_id or opening.first_responder_id
        metric.team_id = conversation.team_id
    start = opening.opened_at
    metric.account_id = conversation.account_id
    metric.platform = conversation.account.platform
    metric.opened_at = start
    metric.first_response_at = opening.first_response_at
    metric.first_response_seconds = _seconds(start, opening.first_response_at)
    metric.first_response_business_seconds = _business(hours, start, opening.first_response_at)
    metric.bot_first_response_at = opening.bot_first_response_at
    metric.bot_first_response_seconds = _seconds(start, opening.bot_first_response_at)
    metric.bot_first_response_business_seconds = _business(
        hours, start, opening.bot_first_response_at
    )
    metric.resolved_at = opening.resolved_at
    metric.resolution_seconds = _seconds(start, opening.resolved_at)
    metric.resolution_business_seconds = _business(hours, start, opening.resolved_at)
    metric.messages_in = opening.messages_in
    metric.messages_out = opening.messages_out
    metric.bot_deflected = opening.bot_deflected
    # SLA outcome of the opening, from what the SLA timers recorded.
    states, metric.sla_breaches = sla.outcome(conversation, metric, breaches)
    metric.sla_first_response_met = sla.as_flag(states[sla.FIRST_RESPONSE])
    metric.sla_next_response_met = sla.as_flag(states[sla.NEXT_RESPONSE])
    metric.sla_resolution_met = sla.as_flag(states[sla.RESOLUTION])
    metric.sla_met = sla.overall(states)
    waits = [
        ReplyMetric(
            conversation=conversation,
            account_id=conversation.account_id,
            platform=metric.platform,
            team_id=metric.team_id,
            agent_id=wait.agent_id,
            sender_kind=wait.sender_kind,
            message_id=wait.message_id,
            waited_from=wait.waited_from,
            replied_at=wait.replied_at,
            seconds=(wait.replied_at - wait.waited_from).total_seconds(),
            business_seconds=_business(hours, wait.waited_from, wait.replied_at),
        )
        for wait in opening.waits
    ]
    return metric, waits


def _with_opening(replies: list[ReplyMetric], metric: ConversationMetric) -> list[ReplyMetric]:
    for reply in replies:
        reply.opening = metric  # saved by now: its primary key is known
    return replies


def _save_volumes(
    conversations: list[Conversation],
    messages: dict[int, list[tuple]],
    hour_windows: dict[int, datetime | None],
    saved: dict[int, list[ConversationMetric]],
) -> None:
    """Rebuild each conversation's per-hour message counts from its window's hour on."""
    VolumeHour.objects.filter(_since_each("hour", hour_windows)).delete()
    rows = []
    for conversation in conversations:
        counts: dict[datetime, list[int]] = {}
        for _pk, direction, _sender, _promo, _author, at in messages[conversation.pk]:
            bucket = counts.setdefault(_hour(at), [0, 0])
            bucket[0 if direction == Message.Direction.INBOUND else 1] += 1
        # Filters by team and agent use the latest opening's (the one being worked on).
        openings = saved[conversation.pk]
        credited = openings[-1] if openings else None
        rows += [
            VolumeHour(
                conversation=conversation,
                hour=hour,
                account_id=conversation.account_id,
                platform=conversation.account.platform,
                team_id=credited.team_id if credited else conversation.team_id,
                agent_id=credited.agent_id if credited else conversation.assignee_id,
                messages_in=inbound,
                messages_out=outbound,
            )
            for hour, (inbound, outbound) in sorted(counts.items())
        ]
    VolumeHour.objects.bulk_create(rows)


# --- Hooks called by the services -----------------------------------------------------------


def _stale_opening(latest: ConversationMetric | None, since: datetime | None) -> bool:
    """A message older than the latest opening (a late delivery with an old platform time)
    belongs to an earlier opening: the whole conversation is rebuilt."""
    return since is not None and latest is not None and since < _hour(latest.opened_at)


# How long after a write the pass runs: the writes to a conversation in that time cost one
# refresh. Reports read days; a quarter of a minute behind costs them nothing.
REFRESH_DELAY_SECONDS = 15.0
# Conversations one pass takes; more left → the pass runs again.
REFRESH_PASS_SIZE = 500
# Conversations refreshed per transaction, with a fixed number of queries.
REFRESH_CHUNK = 100


def refresh_later(conversation_id: int, *, since: datetime | None = None) -> None:
    """Mark the conversation's metrics to be recomputed, with the write that changed it; the
    pass (:func:`refresh_stale`) is kicked after commit. ``since``: the platform time of the
    message that changed it, if a message did. An ingest batch marks its conversations in one
    UPDATE (``inbox.batch``)."""
    batch.gather((conversation_id, since or timezone.now()), _mark_stale)


def _mark_stale(requests: list[tuple[int, datetime]]) -> None:
    earliest: dict[int, datetime] = {}
    for conversation_id, since in requests:
        earliest[conversation_id] = min(since, earliest.get(conversation_id, since))
    alike: dict[datetime, list[int]] = {}
    for conversation_id, since in earliest.items():
        alike.setdefault(since, []).append(conversation_id)
    for since, ids in alike.items():
        # The earlier of the mark and this one (SQLite's MIN is NULL when one is).
        Conversation.objects.filter(pk__in=ids).update(
            metrics_stale_since=Coalesce(
                Least(F("metrics_stale_since"), Value(since)), Value(since)
            )
        )
    transaction.on_commit(kick)


def kick() -> None:
    """Have the refresh pass run soon, once for every write of the coming seconds."""
    triggers.request(refresh_report_metrics, delay=REFRESH_DELAY_SECONDS)


# Beside what it runs: it is kicked from here (``inbox.tasks`` imports this module).
@shared_task(ignore_result=True)
def refresh_report_metrics() -> int:
    """The report metrics' refresh pass (conversations marked stale by their listener)."""
    triggers.started(refresh_report_metrics)
    done = refresh_stale()
    if done == REFRESH_PASS_SIZE:
        triggers.request(refresh_report_metrics)  # more are waiting
    return done


def refresh_stale(limit: int = REFRESH_PASS_SIZE) -> int:
    """The refresh pass: recompute the metrics of the conversations marked stale, oldest mark
    first, and clear their mark; returns how many. The mark is cleared under the conversation's
    row lock, after the refresh read its messages: a write that lands meanwhile waits for the
    lock and marks it again."""
    marked = list(
        Conversation.objects.filter(metrics_stale_since__isnull=False)
        .order_by("metrics_stale_since")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    with batch.scope():  # business hours and SLA settings read once for the pass
        for start in range(0, len(marked), REFRESH_CHUNK):
            done += _refresh_chunk(marked[start : start + REFRESH_CHUNK])
    return done


def _refresh_chunk(conversation_ids: list[int]) -> int:
    with transaction.atomic():
        # SKIP LOCKED: a conversation an ingest batch holds stays marked for the next pass
        # (waiting for it while holding the others could deadlock with that batch).
        conversations = list(
            _locking(
                Conversation.objects.filter(
                    pk__in=conversation_ids, metrics_stale_since__isnull=False
                ).order_by("pk"),
                skip_locked=True,
            )
        )
        latest = _latest_openings([c.pk for c in conversations])
        late = [c for c in conversations if _stale_opening(latest.get(c.pk), c.metrics_stale_since)]
        try:
            with transaction.atomic():
                for conversation in late:
                    rebuild(conversation.pk)
                _refresh_many([c for c in conversations if c not in late], latest)
        except Exception:
            log.exception("report metrics of %s conversations: one at a time", len(conversations))
            for conversation in conversations:
                try:
                    with transaction.atomic():
                        if conversation in late:
                            rebuild(conversation.pk)
                        else:
                            _refresh_many([conversation], latest)
                except Exception:
                    # The mark is cleared all the same: a conversation the metrics cannot
                    # follow must not hold up the pass (``rebuild_report_metrics`` redoes it).
                    log.exception("report metrics of conversation %s not updated", conversation.pk)
        Conversation.objects.filter(pk__in=[c.pk for c in conversations]).update(
            metrics_stale_since=None
        )
        return len(conversations)


def on_events(events: list[DomainEvent]) -> None:
    """The report-metrics listener: the conversations these events changed are marked to be
    recomputed (one UPDATE for the dispatch), from the platform time of a message that
    changed them, else now; a failed reply leaves the metrics, it was never an answer."""
    messages = [
        e.message_id
        for e in events
        if isinstance(e, MessageSent) or (isinstance(e, MessageReceived) and not e.is_system)
    ]
    sent_at = dict(Message.objects.filter(pk__in=messages).values_list("pk", "sent_at"))
    with batch.scope():
        for event in events:
            if isinstance(event, MessageReceived) and event.is_system:
                continue
            since = None
            if isinstance(event, MessageReceived | MessageSent):
                since = sent_at.get(event.message_id)
            refresh_later(event.conversation_id, since=since)


def rebuild(conversation_id: int) -> list[ConversationMetric]:
    """Recompute every opening of a conversation from its whole history."""
    with transaction.atomic():
        ConversationMetric.objects.filter(conversation_id=conversation_id).delete()
        VolumeHour.objects.filter(conversation_id=conversation_id).delete()
        return refresh(conversation_id)


# The SLA pass records breaches on its own schedule, between the conversation's events; this
# look-back (several periodic runs long) lets ``sync_sla_breaches`` fold them into the openings.
SLA_SYNC_LOOKBACK = timedelta(minutes=5)


def sync_sla_breaches(*, now: datetime | None = None) -> int:
    """Refresh the conversations with an SLA breach recorded in the look-back window; returns
    how many. Run every minute by Celery beat (``reports.tasks.sync_sla_breaches``)."""
    since = (now or timezone.now()) - SLA_SYNC_LOOKBACK
    ids = (
        SlaRecord.objects.filter(level="breached", recorded_at__gte=since)
        .values_list("conversation_id", flat=True)
        .distinct()
    )
    ids = list(ids)
    # Through the refresh pass, which reads them together and keeps a failure to itself.
    _mark_stale([(conversation_id, now or timezone.now()) for conversation_id in ids])
    refresh_stale()
    return len(ids)
