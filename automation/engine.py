"""Running the rules: conditions read from a conversation (``Facts``), the rules of an event or
of a time trigger applied in order, and the dry run over the last days.

Loop protection: the events a rule's actions record carry ``caused_by: {"rules": [ids]}``
(``inbox.events.caused_by``), the chain of rules that led to them. A rule never runs for an
event its own actions caused (nor one further down a chain it started), chains stop at
``MAX_CHAIN``, and a rule runs at most once per event (``RuleRun``'s unique event id).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Min, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from automation import actions
from automation.models import Rule, RuleRun
from automation.spec import EVENT_TRIGGERS, NO_REPLY, PENDING, PRIORITIES, CleanRule, parse_trigger
from chatbot import engine as chatbot
from inbox import events as domain_events
from inbox import services
from inbox.events import (
    Assigned,
    ConversationOpened,
    DomainEvent,
    LabelsChanged,
    MessageReceived,
    StatusChanged,
)
from inbox.models import Conversation, ConversationEvent, Message
from sla import business_hours as bh
from sla import timers

log = logging.getLogger(__name__)

# Event type → the trigger it sets off. "conversation_opened" is read from the first customer
# message of a conversation (``_openings``): the conversation's own "created" event is recorded
# apart from an ingest batch's messages, and listening to it would cost ingestion a second task.
TRIGGER_OF: dict[type[DomainEvent], str] = {
    MessageReceived: "message_received",
    StatusChanged: "status_changed",
    LabelsChanged: "labels_changed",
    Assigned: "assigned",
}
# The log's kind each trigger is read from, for the dry run.
KIND_OF_TRIGGER = {
    **{trigger: cls.kind for cls, trigger in TRIGGER_OF.items()},
    "conversation_opened": ConversationOpened.kind,
}
OPENED = "conversation_opened"
# Rules setting off rules: a chain longer than this stops (a rule never re-runs in its own).
MAX_CHAIN = 5
# The time pass looks at this many candidate conversations per rule and pass.
TIME_BATCH = 200
# The dry run reads at most this many events (newest first).
DRY_RUN_DAYS = 7
DRY_RUN_SCAN = 2000
DRY_RUN_SHOWN = 50
# A dry run stops reading after this long (a slow pattern times out per message, not in total).
DRY_RUN_SECONDS = 5.0


# --- Conditions -------------------------------------------------------------------------------


class Facts:
    """What the conditions read about one conversation at one moment (read once, when asked)."""

    def __init__(
        self, conversation: Conversation, *, message_text: str | None = None, at: datetime
    ) -> None:
        self.conversation = conversation
        self._message_text = message_text
        self.at = at

    @cached_property
    def text(self) -> str:
        if self._message_text is not None:
            return self._message_text
        last = (
            Message.objects.filter(
                conversation=self.conversation, direction=Message.Direction.INBOUND
            )
            .order_by("-id")
            .values_list("text", flat=True)
            .first()
        )
        return last or ""

    @cached_property
    def normalized(self) -> str:
        return chatbot.normalize(self.text)

    @cached_property
    def labels(self) -> set[str]:
        return set(self.conversation.labels.values_list("name", flat=True))

    @cached_property
    def in_business_hours(self) -> bool:
        schedule = bh.schedule_from_model(timers.hours_for(self.conversation))
        return bh.is_open(schedule, self.at)

    @cached_property
    def contact_attributes(self) -> dict[str, Any]:
        # ``Contact.attributes``: a JSON dict keyed by the attribute's key (contacts/).
        return self.conversation.contact.attributes or {}

    def value_of(self, condition: dict[str, Any]) -> Any:
        name = condition["field"]
        c = self.conversation
        if name == "platform":
            return c.account.platform
        if name == "account":
            return c.account_id
        if name == "team":
            return c.team.name if c.team_id else None
        if name == "kind":
            return c.kind
        if name == "priority":
            return next((k for k, v in PRIORITIES.items() if v == c.priority), None)
        if name == "status":
            return c.status
        if name == "contact_attribute":
            return self.contact_attributes.get(condition["key"])
        raise KeyError(name)


def holds(condition: dict[str, Any], facts: Facts) -> bool:
    result = _holds(condition, facts)
    return not result if condition.get("negate") else result


def _holds(condition: dict[str, Any], facts: Facts) -> bool:
    name, operator, value = condition["field"], condition["operator"], condition["value"]
    if name == "text":
        if operator == "contains":
            return chatbot.contains_phrase(facts.normalized, value)
        if operator == "equals":
            return facts.normalized == chatbot.normalize(value)
        return chatbot.pattern_matches(
            value, facts.text[: chatbot.MAX_MATCH_CHARS], owner="automation condition"
        )
    if name == "label":
        wanted = value if operator == "in" else [value]
        return bool(facts.labels & set(wanted))
    if name == "business_hours":
        return facts.in_business_hours == value
    actual = facts.value_of(condition)
    if name == "contact_attribute" and operator == "contains":
        return isinstance(actual, str) and str(value).casefold() in actual.casefold()
    if operator == "in":
        return actual in value
    return actual == value


def matches(rule: Rule | CleanRule, facts: Facts) -> bool:
    if not rule.conditions:
        return True
    results = (holds(c, facts) for c in rule.conditions)
    return all(results) if rule.match == Rule.Match.ALL else any(results)


# --- Running one rule -------------------------------------------------------------------------


def apply(
    rule: Rule,
    conversation: Conversation,
    *,
    now: datetime,
    cause: dict[str, list[int]],
    event_id: int | None = None,
    since: datetime | None = None,
) -> RuleRun | None:
    """Run the rule's actions once for this event (or time-trigger occurrence); None if it ran
    already. Refused steps are kept in the run and told to agents in a private note. The events
    its actions record carry ``cause`` (the pass's chain of rules, this one added)."""
    runner = actions.Runner(rule_name=rule.name, agent_for_text=rule.created_by)
    results = []
    refused = []
    cause["rules"].append(rule.pk)
    try:
        with transaction.atomic(), domain_events.caused_by(cause):
            for step in rule.actions:
                try:
                    detail = actions.perform(step, conversation, runner, now=now)
                except actions.StepRefused as exc:
                    results.append({"type": step["type"], "ok": False, "detail": exc.detail})
                    refused.append(f"{step['type']}: {exc.detail}")
                else:
                    results.append({"type": step["type"], "ok": True, "detail": detail})
            if refused:
                log.warning(
                    "rule %s on conversation %s refused: %s", rule.pk, conversation.pk, refused
                )
                _tell_agents(conversation, rule, refused)
            # Last, in the same savepoint: if the run exists already (a concurrent pass got
            # here first), the unique constraint undoes this one's actions with it.
            run = RuleRun.objects.create(
                rule=rule,
                conversation=conversation,
                event_id=event_id,
                since=since,
                results=results,
                created_at=now,
            )
            Rule.objects.filter(pk=rule.pk).update(hits=F("hits") + 1, last_hit_at=now)
    except IntegrityError as exc:
        # Another pass ran it for this event first; its actions stand, these are undone.
        log.info("rule %s on conversation %s not run again: %s", rule.pk, conversation.pk, exc)
        cause["rules"].pop()
        return None
    except Exception:
        cause["rules"].pop()  # rolled back: it did not run
        raise
    return run


def _tell_agents(conversation: Conversation, rule: Rule, refused: list[str]) -> None:
    text = _("Automation “%(r)s” could not do everything: %(why)s") % {
        "r": rule.name,
        "why": "; ".join(refused),
    }
    services.add_note(conversation=conversation, author=None, text=text)


def _locked(conversation_id: int) -> Conversation | None:
    return (
        Conversation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("account", "team", "contact", "assignee")
        .filter(pk=conversation_id)
        .first()
    )


def run_rules(
    rules: list[Rule],
    conversation: Conversation,
    facts: Facts,
    *,
    now: datetime,
    event_id: int | None = None,
    since: datetime | None = None,
    chain: Iterable[int] = (),
) -> list[Rule]:
    """The rules in order on one conversation; stops after a matching "stop processing" rule.
    Returns those that ran. One rule's failure does not stop the others.

    The rules of one pass act as one: each later rule reads what the earlier ones changed, and
    every event the pass recorded names all the rules that ran in it, so none of them is set
    off again by the pass's own changes (nor by a chain it belongs to)."""
    cause: dict[str, list[int]] = {"rules": list(chain)}
    floor = event_id or _last_event_id(conversation)
    done = _already_ran(rules, conversation, event_id=event_id, since=since)
    ran = []
    for rule in rules:
        if rule.pk in cause["rules"] or rule.pk in done:
            continue  # its own actions (or a chain it is in) do not set it off again
        try:
            if not matches(rule, facts):
                continue
            run = apply(rule, conversation, now=now, cause=cause, event_id=event_id, since=since)
        except Exception:  # noqa: BLE001 - a broken rule must not stop the others
            log.exception("rule %s failed on conversation %s", rule.pk, conversation.pk)
            continue
        if run is None:
            continue
        ran.append(rule)
        if rule.stop_processing:
            break
        # What the rule changed is what the next rule reads.
        facts = Facts(conversation, message_text=facts._message_text, at=facts.at)
    if len(ran) > 1:
        _name_whole_pass(conversation, floor, cause)
    return ran


def _already_ran(
    rules: list[Rule], conversation: Conversation, *, event_id: int | None, since: datetime | None
) -> set[int]:
    """Rules that ran for this event (or clock start) already: a re-dispatched event."""
    runs = RuleRun.objects.filter(rule__in=[r.pk for r in rules])
    if event_id is not None:
        runs = runs.filter(event_id=event_id)
    else:
        runs = runs.filter(conversation=conversation, since=since)
    return set(runs.values_list("rule_id", flat=True))


def _last_event_id(conversation: Conversation) -> int:
    last = (
        ConversationEvent.objects.filter(conversation=conversation)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return last or 0


def _name_whole_pass(conversation: Conversation, floor: int, cause: dict[str, list[int]]) -> None:
    """The events recorded early in the pass were stored naming only the rules run so far; the
    ones dispatched after commit share ``cause`` and see them all. The stored rows are brought
    in line, for a re-dispatch by the sweep. (The conversation is locked: no other pass writes
    here meanwhile.)"""
    full = cause["rules"]
    rows = [
        row
        for row in ConversationEvent.objects.filter(
            conversation=conversation, pk__gt=floor, data__has_key="caused_by"
        )
        if row.data["caused_by"].get("rules") != full
        and full[: len(row.data["caused_by"].get("rules") or [])]
        == row.data["caused_by"].get("rules")
    ]
    for row in rows:
        row.data = {**row.data, "caused_by": {"rules": list(full)}}
    ConversationEvent.objects.bulk_update(rows, ["data"])


# --- The listener -----------------------------------------------------------------------------


def enabled_rules(kinds: Iterable[str]) -> list[Rule]:
    """The enabled rules of these trigger kinds, in their order."""
    return list(
        Rule.objects.filter(enabled=True, trigger_kind__in=list(kinds)).select_related("created_by")
    )


def on_events(events: list[DomainEvent]) -> None:
    """The automation listener (``inbox.listeners``): each event's rules, in order, once."""
    triggered = [
        (e, TRIGGER_OF[type(e)])
        for e in events
        if type(e) in TRIGGER_OF and not (isinstance(e, MessageReceived) and e.is_system)
    ]
    if not triggered:
        return
    kinds = {trigger for _e, trigger in triggered}
    if "message_received" in kinds:
        kinds.add(OPENED)
    rules = enabled_rules(kinds)
    if not rules:
        return
    received = [e for e, t in triggered if t == "message_received"]
    texts = _message_texts(received)
    openings = _openings(received) if any(r.trigger_kind == OPENED for r in rules) else set()
    for event, trigger in sorted(triggered, key=lambda pair: pair[0].id):
        wanted = {trigger, OPENED} if event.id in openings else {trigger}
        mine = [r for r in rules if r.trigger_kind in wanted]
        if not mine:
            continue
        chain = list((event.data.get("caused_by") or {}).get("rules") or [])
        if len(chain) >= MAX_CHAIN:
            log.warning("automation chain %s stopped at event %s", chain, event.id)
            continue
        conversation = _locked(event.conversation_id)
        if conversation is None:
            continue
        facts = Facts(conversation, message_text=texts.get(event.id), at=event.at)
        run_rules(mine, conversation, facts, now=timezone.now(), event_id=event.id, chain=chain)


def _openings(events: list[DomainEvent]) -> set[int]:
    """The events that are their conversation's first customer message."""
    firsts = (
        ConversationEvent.objects.filter(
            conversation_id__in={e.conversation_id for e in events},
            kind=ConversationEvent.Kind.MESSAGE_RECEIVED,
        )
        .values("conversation_id")
        .annotate(first=Min("id"))
        .values_list("first", flat=True)
    )
    return set(firsts) & {e.id for e in events}


def _message_texts(events: list[DomainEvent]) -> dict[int, str]:
    ids = {e.id: e.message_id for e in events if isinstance(e, MessageReceived)}
    texts = dict(Message.objects.filter(pk__in=ids.values()).values_list("pk", "text"))
    return {event_id: texts.get(message_id, "") for event_id, message_id in ids.items()}


# --- Time triggers ----------------------------------------------------------------------------


def run_time_rules(*, now: datetime | None = None) -> int:
    """The periodic pass: open conversations waiting for an agent's reply for N minutes, and
    conversations pending for N days, each rule once per waiting (or pending) stretch.
    Returns how many rule runs it made."""
    now = now or timezone.now()
    count = 0
    for rule in enabled_rules((NO_REPLY, PENDING)):
        trigger = parse_trigger(rule.trigger)
        for conversation_id, since in _due(rule, trigger, now=now):
            with transaction.atomic():
                conversation = _locked(conversation_id)
                if conversation is None or not _still_due(conversation, trigger, since):
                    continue
                if trigger.business_hours and not _waited_in_hours(
                    conversation, since, now, trigger.minutes
                ):
                    continue
                facts = Facts(conversation, at=now)
                count += len(run_rules([rule], conversation, facts, now=now, since=since))
    return count


def _pending_since():
    return Subquery(
        ConversationEvent.objects.filter(
            conversation=OuterRef("pk"),
            kind=ConversationEvent.Kind.STATUS_CHANGED,
            data__to=Conversation.Status.PENDING,
        )
        .order_by("-id")
        .values("created_at")[:1]
    )


def _due(rule: Rule, trigger, *, now: datetime) -> list[tuple[int, datetime]]:
    """(conversation id, when its clock started) not yet handled by this rule."""
    if trigger.kind == NO_REPLY:
        # Wall-clock time bounds business time from above: a cheap first cut on the index.
        rows = Conversation.objects.filter(
            status=Conversation.Status.OPEN,
            waiting_since__isnull=False,
            waiting_since__lte=now - timedelta(minutes=trigger.minutes),
        ).annotate(since=F("waiting_since"))
    else:
        rows = (
            Conversation.objects.filter(status=Conversation.Status.PENDING)
            .annotate(since=_pending_since())
            .filter(since__lte=now - timedelta(days=trigger.days))
        )
    handled = RuleRun.objects.filter(
        rule=rule, conversation=OuterRef("pk"), since=OuterRef("since")
    )
    rows = rows.filter(~Exists(handled)).order_by("since", "id")
    return list(rows.values_list("pk", "since")[:TIME_BATCH])


def _still_due(conversation: Conversation, trigger, since: datetime) -> bool:
    if trigger.kind == NO_REPLY:
        return (
            conversation.status == Conversation.Status.OPEN and conversation.waiting_since == since
        )
    return conversation.status == Conversation.Status.PENDING


def _waited_in_hours(
    conversation: Conversation, since: datetime, now: datetime, minutes: int
) -> bool:
    schedule = bh.schedule_from_model(timers.hours_for(conversation))
    return bh.business_seconds_between(schedule, since, now) >= minutes * 60


# --- Dry run ----------------------------------------------------------------------------------


@dataclass
class DryRun:
    scanned: int = 0
    matched: int = 0
    # Up to DRY_RUN_SHOWN: {"conversation", "at", "contact", "text"}
    examples: list[dict[str, Any]] = field(default_factory=list)
    # The scan stopped at DRY_RUN_SCAN events or DRY_RUN_SECONDS: older ones were not read.
    truncated: bool = False
    deadline: float = field(default_factory=lambda: time.monotonic() + DRY_RUN_SECONDS)

    def out_of_time(self) -> bool:
        if time.monotonic() > self.deadline:
            self.truncated = True
            return True
        return False

    def add(self, conversation: Conversation, at: datetime, text: str) -> None:
        self.matched += 1
        if len(self.examples) < DRY_RUN_SHOWN:
            self.examples.append(
                {
                    "conversation": conversation.pk,
                    "at": at,
                    "contact": str(conversation.contact),
                    "text": text[:200],
                }
            )


def dry_run(
    rule: CleanRule, *, account_ids: list[int] | None = None, now: datetime | None = None
) -> DryRun:
    """What the rule would have matched over the last ``DRY_RUN_DAYS`` days, changing nothing.
    Conditions on the message read it as it was; the others (labels, status, team…) read the
    conversation as it is now — history of those is not kept per instant."""
    now = now or timezone.now()
    start = now - timedelta(days=DRY_RUN_DAYS)
    trigger = parse_trigger(rule.trigger)
    result = DryRun()
    if trigger.kind in EVENT_TRIGGERS:
        _dry_events(rule, trigger.kind, start, account_ids, result)
    elif trigger.kind == NO_REPLY:
        _dry_no_reply(rule, trigger, start, now, account_ids, result)
    else:
        _dry_pending(rule, trigger, start, now, account_ids, result)
    return result


def _scoped(rows, account_ids: list[int] | None):
    return rows if account_ids is None else rows.filter(account_id__in=account_ids)


def _dry_events(rule, trigger: str, start, account_ids, result: DryRun) -> None:
    rows = list(
        _scoped(
            ConversationEvent.objects.filter(kind=KIND_OF_TRIGGER[trigger], created_at__gte=start),
            account_ids,
        )
        .select_related("conversation__account", "conversation__team", "conversation__contact")
        .order_by("-id")[: DRY_RUN_SCAN + 1]
    )
    result.truncated = len(rows) > DRY_RUN_SCAN
    rows = rows[:DRY_RUN_SCAN]
    message_ids = [r.data.get("message") for r in rows if r.kind == "message_received"]
    texts = dict(Message.objects.filter(pk__in=message_ids).values_list("pk", "text"))
    for row in rows:
        if result.out_of_time():
            break
        if row.data.get("system"):
            continue
        result.scanned += 1
        text = texts.get(row.data.get("message")) if trigger == "message_received" else None
        facts = Facts(row.conversation, message_text=text, at=row.created_at)
        if matches(rule, facts):
            result.add(row.conversation, row.created_at, facts.text)


def _dry_no_reply(rule, trigger, start, now, account_ids, result: DryRun) -> None:
    """Each stretch a customer waited (first message after an answer) whose answer came later
    than the rule's delay, or not yet while the delay has passed."""
    messages = list(
        _scoped(Message.objects.filter(sent_at__gte=start), account_ids)
        .filter(
            Q(direction=Message.Direction.INBOUND, sender_kind=Message.SenderKind.CONTACT)
            | Q(sender_kind__in=[Message.SenderKind.AGENT, Message.SenderKind.BOT])
        )
        .order_by("-id")
        .values("conversation_id", "direction", "sent_at", "text")[: DRY_RUN_SCAN + 1]
    )
    result.truncated = len(messages) > DRY_RUN_SCAN
    by_conversation: dict[int, list[dict[str, Any]]] = {}
    for m in reversed(messages[:DRY_RUN_SCAN]):
        by_conversation.setdefault(m["conversation_id"], []).append(m)
    conversations = Conversation.objects.select_related("account", "team", "contact").in_bulk(
        list(by_conversation)
    )
    for conversation_id, stream in by_conversation.items():
        if result.out_of_time():
            break
        conversation = conversations[conversation_id]
        schedule = (
            bh.schedule_from_model(timers.hours_for(conversation))
            if trigger.business_hours
            else None
        )
        waiting: dict[str, Any] | None = None
        for m in [*stream, None]:
            inbound = m is not None and m["direction"] == Message.Direction.INBOUND
            if inbound and waiting is None:
                waiting = m
                continue
            if waiting is None or inbound:
                continue
            due = bh.add_business_seconds(schedule, waiting["sent_at"], trigger.minutes * 60)
            answered_at = m["sent_at"] if m is not None else None
            if due <= now and (answered_at is None or answered_at > due):
                result.scanned += 1
                facts = Facts(conversation, message_text=waiting["text"], at=due)
                if matches(rule, facts):
                    result.add(conversation, due, waiting["text"])
            elif answered_at is not None:
                result.scanned += 1
            waiting = None


def _dry_pending(rule, trigger, start, now, account_ids, result: DryRun) -> None:
    """Each time a conversation went pending and stayed so for the rule's days."""
    rows = list(
        _scoped(
            ConversationEvent.objects.filter(
                kind=ConversationEvent.Kind.STATUS_CHANGED,
                created_at__gte=start - timedelta(days=trigger.days),
            ),
            account_ids,
        )
        .select_related("conversation__account", "conversation__team", "conversation__contact")
        .order_by("-id")[: DRY_RUN_SCAN + 1]
    )
    result.truncated = len(rows) > DRY_RUN_SCAN
    left_at: dict[int, datetime] = {}  # conversation → when its later status change came
    for row in rows[:DRY_RUN_SCAN]:  # newest first
        if result.out_of_time():
            break
        later = left_at.get(row.conversation_id)
        left_at[row.conversation_id] = row.created_at
        if row.data.get("to") != Conversation.Status.PENDING:
            continue
        due = row.created_at + timedelta(days=trigger.days)
        if not start <= due <= now:
            continue
        result.scanned += 1
        if later is None or later > due:
            facts = Facts(row.conversation, at=due)
            if matches(rule, facts):
                result.add(row.conversation, due, facts.text)
