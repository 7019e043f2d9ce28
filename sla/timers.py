"""SLA timers: due times kept on the conversation, warnings and breaches raised by a pass.

Three targets, each a *timer run* with a start instant:

- ``first_response``: from the first customer message until the first agent reply;
- ``next_response``: from a customer message (once the first response was given) until the
  next agent reply;
- ``resolution``: from the customer message that (re)opened the conversation until resolved.

Bot replies do not stop a timer: the SLA measures the team. The policy (``SlaPolicy``) is chosen
by account, priority and label; with ``business_hours_only`` only open business time counts
(``sla.business_hours``). Pending and snoozed time does not count: the clocks pause, and on
resume every due time moves by the paused (business) time still ahead of it.

The SLA listener (``on_events``, registered in ``inbox.listeners``) calls the ``on_*`` hooks
after the services' transactions commit; the Celery beat task
``sla.tasks.check_timers`` runs ``check_timers`` every ``CHECK_INTERVAL`` seconds.

Why a periodic pass rather than ETA tasks: due times move (pauses, replies, policy changes), so
ETA tasks would need cancelling and re-checking anyway; ETAs further out than Redis's
``visibility_timeout`` are delivered twice; and Redis here keeps nothing on disk, so a queued ETA
task can vanish. The pass reads the facts from PostgreSQL (one indexed range scan on
``sla_check_at``), so after any downtime — beat or workers stopped, Redis emptied — its next run
raises everything that fell due meanwhile, flagged ``late``. Each warning and breach is an
``SlaRecord`` (unique per conversation, target, level and run) plus a ``ConversationEvent``
(recorded as a domain event, pushed live by its listener), so repeats and concurrent passes record it once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inbox import batch, live, services
from inbox import events as domain_events
from inbox.events import (
    DomainEvent,
    LabelsChanged,
    MessageReceived,
    MessageSent,
    PriorityChanged,
    StatusChanged,
)
from inbox.models import Conversation, ConversationEvent, Message, SlaStatus, User
from sla import business_hours as bh
from sla.models import BusinessHours, SlaPolicy, SlaRecord

log = logging.getLogger(__name__)

FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION = "first_response", "next_response", "resolution"
TARGETS = (FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION)
DUE_FIELDS = {
    FIRST_RESPONSE: "first_response_due_at",
    NEXT_RESPONSE: "next_response_due_at",
    RESOLUTION: "resolution_due_at",
}
# Seconds between passes (parley/celery.py). A record raised more than two passes after its
# instant is marked ``late``: it was caught up after downtime.
CHECK_INTERVAL = 15.0
LATE_AFTER = timedelta(seconds=2 * CHECK_INTERVAL)
PAUSED = (Conversation.Status.PENDING, Conversation.Status.SNOOZED)
# Key in sla_timers remembering that the first response was given (it is never restarted).
FIRST_RESPONSE_MET = "first_response_met_at"


# --- Policy and hours -------------------------------------------------------------------------


def hours_for(conversation: Conversation) -> BusinessHours | None:
    """The conversation's business hours: its team's, else its account's, else the default."""
    return batch.memoised(
        ("sla:business-hours", conversation.team_id, conversation.account_id),
        lambda: _hours_for(conversation.team_id, conversation.account_id),
    )


def _hours_for(team_id: int | None, account_id: int) -> BusinessHours | None:
    if team_id:
        hours = BusinessHours.objects.filter(teams=team_id).first()
        if hours is not None:
            return hours
    hours = BusinessHours.objects.filter(accounts=account_id).first()
    if hours is not None:
        return hours
    return BusinessHours.objects.filter(is_default=True).first()


def select_policy(conversation: Conversation) -> SlaPolicy | None:
    """The first active policy (by order) whose conditions match: account, priority, label."""
    policies = batch.memoised(
        "sla:active-policies",
        lambda: list(
            SlaPolicy.objects.filter(is_active=True).prefetch_related("accounts", "labels")
        ),
    )
    if not policies:
        return None
    label_ids = set(conversation.labels.values_list("pk", flat=True))
    for policy in policies:
        accounts = {a.pk for a in policy.accounts.all()}
        if accounts and conversation.account_id not in accounts:
            continue
        if policy.priorities and conversation.priority not in policy.priorities:
            continue
        labels = {label.pk for label in policy.labels.all()}
        if labels and not labels & label_ids:
            continue
        return policy
    return None


def schedule_for(conversation: Conversation, policy: SlaPolicy | None) -> bh.Schedule | None:
    """The clock a policy counts on: None (wall clock) unless it counts business hours only."""
    if policy is None or not policy.business_hours_only:
        return None
    hours = policy.business_hours or hours_for(conversation)
    return bh.schedule_from_model(hours)


def _target_seconds(policy: SlaPolicy, target: str) -> int | None:
    return getattr(policy, f"{target}_seconds")


# --- Timer state --------------------------------------------------------------------------------


def _dt(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _iso(value: datetime) -> str:
    return value.isoformat()


def _timer(
    schedule: bh.Schedule | None, policy: SlaPolicy, target: str, started_at: datetime
) -> dict[str, Any] | None:
    seconds = _target_seconds(policy, target)
    if not seconds:
        return None
    try:
        warn_at = bh.add_business_seconds(
            schedule, started_at, seconds * policy.warning_percent / 100
        )
        due_at = bh.add_business_seconds(schedule, started_at, seconds)
    except bh.NeverOpen:
        log.warning("SLA policy %s: business hours never open, no %s timer", policy.pk, target)
        return None
    return {
        "started_at": _iso(started_at),
        "warn_at": _iso(warn_at),
        "due_at": _iso(due_at),
        "warned": False,
        "breached": False,
    }


def _running(conversation: Conversation) -> dict[str, dict[str, Any]]:
    return {t: conversation.sla_timers[t] for t in TARGETS if t in conversation.sla_timers}


def _next_check(timer: dict[str, Any]) -> datetime | None:
    if not timer["warned"]:
        return _dt(timer["warn_at"])
    if not timer["breached"]:
        return _dt(timer["due_at"])
    return None


def _derived(conversation: Conversation) -> dict[str, Any]:
    """The columns computed from the timers: due times, badge status, next check instant."""
    running = _running(conversation)
    values: dict[str, Any] = {field: None for field in DUE_FIELDS.values()}
    for target, timer in running.items():
        values[DUE_FIELDS[target]] = _dt(timer["due_at"])
    if not running:
        status = SlaStatus.NONE
    elif any(t["breached"] for t in running.values()):
        status = SlaStatus.BREACHED
    elif any(t["warned"] for t in running.values()):
        status = SlaStatus.WARNING
    else:
        status = SlaStatus.OK
    checks = [c for c in (_next_check(t) for t in running.values()) if c is not None]
    paused = conversation.sla_paused_at is not None
    dues = [_dt(t["due_at"]) for t in running.values()]
    values["sla_due_at"] = None if paused or not dues else min(dues)
    values["sla_status"] = status
    values["sla_check_at"] = None if paused or not checks else min(checks)
    return values


def _save(conversation: Conversation) -> None:
    values = _derived(conversation)
    values["sla_timers"] = conversation.sla_timers
    values["sla_paused_at"] = conversation.sla_paused_at
    values["sla_policy"] = conversation.sla_policy
    Conversation.objects.filter(pk=conversation.pk).update(**values)
    for field, value in values.items():
        setattr(conversation, field, value)


def _ensure_policy(conversation: Conversation) -> SlaPolicy | None:
    if conversation.sla_policy_id is None:
        conversation.sla_policy = select_policy(conversation)
    return conversation.sla_policy


# --- The listener -----------------------------------------------------------------------------


def on_events(events: list[DomainEvent]) -> None:
    """The SLA listener: customer messages start timers, agent replies stop them, status
    changes pause, resume or stop them, labels and priority may change the policy. Each
    conversation is read again under its row lock (an ingest batch may be writing it)."""
    conversations = {
        c.pk: c
        for c in Conversation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("account", "sla_policy")
        .filter(pk__in={e.conversation_id for e in events})
        .order_by("pk")
    }
    messages = [e for e in events if isinstance(e, MessageReceived | MessageSent)]
    sent_at = dict(
        Message.objects.filter(pk__in=[e.message_id for e in messages]).values_list("pk", "sent_at")
    )
    customer_wrote: dict[int, datetime] = {}
    for event in events:
        if isinstance(event, MessageReceived) and not event.is_system:
            at = sent_at.get(event.message_id)
            if at is not None:
                first = customer_wrote.get(event.conversation_id, at)
                customer_wrote[event.conversation_id] = min(first, at)
    started: set[int] = set()
    for event in events:
        conversation = conversations.get(event.conversation_id)
        if conversation is None:
            continue
        if isinstance(event, MessageReceived):
            # Once per conversation, from its earliest new message (the batch's way).
            if event.conversation_id in customer_wrote and event.conversation_id not in started:
                started.add(event.conversation_id)
                on_customer_message(conversation, at=customer_wrote[event.conversation_id])
        elif isinstance(event, MessageSent):
            if event.sender_kind == Message.SenderKind.AGENT and event.message_id in sent_at:
                on_agent_reply(conversation, at=sent_at[event.message_id])
        elif isinstance(event, StatusChanged):
            # A customer's return resumes the clocks from their message, above.
            if event.data.get("reason") != services.CUSTOMER_WROTE:
                conversation.status = event.status
                on_status_change(conversation, previous=event.previous, at=event.at)
        elif isinstance(event, LabelsChanged | PriorityChanged):
            on_conditions_changed(conversation)


# --- Hooks, called by the listener ------------------------------------------------------------


def on_customer_message(conversation: Conversation, *, at: datetime) -> None:
    """A customer wrote: resume paused clocks, start the timers this message starts. Written
    only when that changed something: most messages land on timers already running."""
    before = (conversation.sla_timers, conversation.sla_paused_at, conversation.sla_policy_id)
    if conversation.sla_paused_at is not None:
        _resume(conversation, at=max(at, conversation.sla_paused_at))
    policy = _ensure_policy(conversation)
    if policy is None:
        if conversation.sla_timers:
            _save(conversation)
        return
    timers = dict(conversation.sla_timers)
    schedule = None
    needed = []
    if FIRST_RESPONSE_MET not in timers:
        if FIRST_RESPONSE not in timers:
            needed.append(FIRST_RESPONSE)
    elif NEXT_RESPONSE not in timers:
        needed.append(NEXT_RESPONSE)
    if RESOLUTION not in timers:
        needed.append(RESOLUTION)
    if needed:
        schedule = schedule_for(conversation, policy)
    for target in needed:
        timer = _timer(schedule, policy, target, at)
        if timer is not None:
            timers[target] = timer
    conversation.sla_timers = timers
    if (timers, conversation.sla_paused_at, conversation.sla_policy_id) != before:
        _save(conversation)


def on_agent_reply(conversation: Conversation, *, at: datetime) -> None:
    """An agent answered (in Parley or from the platform's own tools): response timers stop."""
    timers = dict(conversation.sla_timers or {})
    changed = False
    if FIRST_RESPONSE in timers or FIRST_RESPONSE_MET not in timers:
        timers.pop(FIRST_RESPONSE, None)
        timers[FIRST_RESPONSE_MET] = _iso(at)
        changed = True
    if timers.pop(NEXT_RESPONSE, None) is not None:
        changed = True
    if changed:
        conversation.sla_timers = timers
        _save(conversation)


def on_status_change(conversation: Conversation, *, previous: str, at: datetime) -> None:
    """Resolved stops every clock; pending and snoozed pause them; back to open resumes."""
    status = conversation.status
    if status == Conversation.Status.RESOLVED:
        timers = {k: v for k, v in conversation.sla_timers.items() if k not in TARGETS}
        conversation.sla_timers = timers
        conversation.sla_paused_at = None
        _save(conversation)
    elif status in PAUSED and previous not in PAUSED:
        conversation.sla_paused_at = at
        _save(conversation)
    elif status == Conversation.Status.OPEN and conversation.sla_paused_at is not None:
        _resume(conversation, at=at)
        _save(conversation)


def on_conditions_changed(conversation: Conversation) -> None:
    """Priority or labels changed: the policy may change; running timers are recomputed from
    their start with the new targets (what was already raised for a run stays raised)."""
    policy = select_policy(conversation)
    if policy == conversation.sla_policy:
        return
    conversation.sla_policy = policy
    timers = {k: v for k, v in conversation.sla_timers.items() if k not in TARGETS}
    if policy is not None:
        schedule = schedule_for(conversation, policy)
        for target, old in _running(conversation).items():
            timer = _timer(schedule, policy, target, _dt(old["started_at"]))
            if timer is not None:
                timer["warned"], timer["breached"] = old["warned"], old["breached"]
                timers[target] = timer
    conversation.sla_timers = timers
    _save(conversation)


def _resume(conversation: Conversation, *, at: datetime) -> None:
    """Move each pending warning and due time by the pause: what was left of it when the pause
    began is counted again from ``at``."""
    paused_at = conversation.sla_paused_at
    conversation.sla_paused_at = None
    if paused_at is None or at <= paused_at:
        return
    schedule = schedule_for(conversation, conversation.sla_policy)
    timers = dict(conversation.sla_timers)
    for target, timer in _running(conversation).items():
        timer = dict(timer)
        for key, done in (("warn_at", "warned"), ("due_at", "breached")):
            instant = _dt(timer[key])
            if timer[done] or instant is None or instant <= paused_at:
                continue
            left = bh.business_seconds_between(schedule, paused_at, instant)
            try:
                timer[key] = _iso(bh.add_business_seconds(schedule, at, left))
            except bh.NeverOpen:
                continue
        timers[target] = timer
    conversation.sla_timers = timers


# --- The timer pass -----------------------------------------------------------------------------


def check_timers(*, now: datetime | None = None, batch_size: int = 1000) -> dict[str, int]:
    """Raise every warning and breach that has fallen due (including long ago: catch-up).

    Conversations are claimed with ``SELECT … FOR UPDATE SKIP LOCKED``, so two passes running at
    once share the work; the unique SlaRecord makes a repeated pass record nothing twice."""
    now = now or timezone.now()
    totals = {"conversations": 0, "warnings": 0, "breaches": 0}
    while True:
        with transaction.atomic():
            rows = list(
                Conversation.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("sla_policy")
                .filter(sla_check_at__lte=now)
                .order_by("sla_check_at")[:batch_size]
            )
            if not rows:
                break
            escalate = _raise_due(rows, now=now, totals=totals)
            for conversation, policy in escalate:
                _escalate(conversation, policy)
        totals["conversations"] += len(rows)
        if len(rows) < batch_size:
            break
    return totals


def _raise_due(
    rows: list[Conversation], *, now: datetime, totals: dict[str, int]
) -> list[tuple[Conversation, SlaPolicy]]:
    records: list[SlaRecord] = []
    for conversation in rows:
        timers = dict(conversation.sla_timers)
        for target, timer in _running(conversation).items():
            timer = dict(timer)
            for key, done, level in (
                ("warn_at", "warned", SlaRecord.Level.WARNING),
                ("due_at", "breached", SlaRecord.Level.BREACHED),
            ):
                instant = _dt(timer[key])
                if timer[done] or instant is None or instant > now:
                    continue
                timer[done] = True
                records.append(
                    SlaRecord(
                        conversation=conversation,
                        account_id=conversation.account_id,
                        policy=conversation.sla_policy,
                        target=target,
                        level=level,
                        started_at=_dt(timer["started_at"]),
                        due_at=_dt(timer["due_at"]),
                        recorded_at=now,
                    )
                )
                # Keep the instant that fell due for the event below.
                records[-1].fell_due_at = instant  # type: ignore[attr-defined]
            timers[target] = timer
        conversation.sla_timers = timers
        for field, value in _derived(conversation).items():
            setattr(conversation, field, value)
    written = ("sla_timers", "sla_status", "sla_check_at", "sla_due_at")
    batch.update_each(Conversation, {c.pk: {f: getattr(c, f) for f in written} for c in rows})
    if not records:
        return []
    # Insert what is not recorded yet; the rows without an event are this pass's new ones.
    SlaRecord.objects.bulk_create(records, ignore_conflicts=True)
    by_key = {(r.conversation_id, r.target, r.level, r.started_at): r for r in records}
    fresh = list(
        SlaRecord.objects.filter(
            conversation_id__in={r.conversation_id for r in records}, event__isnull=True
        ).order_by("pk")  # insertion order: a warning's event comes before its breach's
    )
    fresh = [r for r in fresh if (r.conversation_id, r.target, r.level, r.started_at) in by_key]
    conversations = {c.pk: c for c in rows}
    events = []
    for record in fresh:
        made = by_key[(record.conversation_id, record.target, record.level, record.started_at)]
        fell_due = made.fell_due_at
        events.append(
            ConversationEvent(
                conversation_id=record.conversation_id,
                account_id=record.account_id,
                kind=ConversationEvent.Kind.SLA_WARNING
                if record.level == SlaRecord.Level.WARNING
                else ConversationEvent.Kind.SLA_BREACHED,
                data={
                    "target": record.target,
                    "level": record.level,
                    "started_at": _iso(record.started_at),
                    "due_at": _iso(record.due_at),
                    "fell_due_at": _iso(fell_due),
                    "late": now - fell_due > LATE_AFTER,
                    "policy": record.policy_id,
                },
                created_at=now,
            )
        )
    domain_events.record_many(events)
    for record, event in zip(fresh, events, strict=True):
        record.event = event
        totals["warnings" if record.level == SlaRecord.Level.WARNING else "breaches"] += 1
    batch.update_each(SlaRecord, {r.pk: {"event_id": r.event.pk} for r in fresh})
    escalate = []
    for record in fresh:
        conversation = conversations[record.conversation_id]
        policy = conversation.sla_policy
        if record.level == SlaRecord.Level.BREACHED and policy is not None:
            escalate.append((conversation, policy))
    return escalate


def _escalate(conversation: Conversation, policy: SlaPolicy) -> None:
    """What the policy says to do on a breach: raise the priority, reassign, tell managers."""
    if (
        policy.escalate_to_priority is not None
        and conversation.priority < policy.escalate_to_priority
    ):
        services.set_priority(
            conversation=conversation, priority=policy.escalate_to_priority, actor=None
        )
    if (
        policy.reassign_to_id
        and policy.reassign_to.is_active
        and conversation.assignee_id != policy.reassign_to_id
    ):
        services.assign(conversation=conversation, actor=None, assignee=policy.reassign_to)
    if policy.notify_managers:
        notify_managers(conversation, policy)


def managers_for(conversation: Conversation) -> list[User]:
    """Managers of the conversation's team, else of every team granted its account."""
    teams = (
        Q(teams=conversation.team_id)
        if conversation.team_id
        else Q(teams__accounts=conversation.account_id)
    )
    return list(
        User.objects.filter(teams, is_active=True, role__in=[User.Role.MANAGER, User.Role.ADMIN])
        .distinct()
        .order_by("pk")
    )


def notify_managers(conversation: Conversation, policy: SlaPolicy) -> list[int]:
    """A personal live event (``inbox.sla_escalation``) to each manager's socket, after commit."""
    ids = [user.pk for user in managers_for(conversation)]
    live.to_users_on_commit(ids, live.sla_escalation(conversation, policy))
    return ids
