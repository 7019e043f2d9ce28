"""SLA outcome of an opening, read from what the SLA timers (``sla.timers``) recorded.

A target applies when the conversation's SLA policy sets it. Per target an opening has:
- **breached** (False) when the timers recorded a breach of it during the opening;
- **met** (True) once it can no longer be breached: first response when a human answered,
  next response and resolution when the opening was resolved;
- **unknown** (None) while it is still running, or when the target does not apply.
Compliance is met / (met + breached): running timers are left out, not counted as met.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sla.models import SlaRecord

FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION = "first_response", "next_response", "resolution"
TARGETS = (FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION)


def breach_records(
    conversation_ids: Iterable[int], since: datetime | None
) -> dict[int, list[tuple[str, datetime]]]:
    """Per conversation, the breaches the timers recorded since ``since`` (None: all), as
    (target, started_at); one query for any number of conversations."""
    rows = SlaRecord.objects.filter(conversation_id__in=list(conversation_ids), level="breached")
    if since is not None:
        rows = rows.filter(started_at__gte=since)
    found: dict[int, list[tuple[str, datetime]]] = {}
    for conversation_id, target, started_at in rows.values_list(
        "conversation_id", "target", "started_at"
    ):
        found.setdefault(conversation_id, []).append((target, started_at))
    return found


def breached_targets(
    records: list[tuple[str, datetime]], opened_at: datetime, resolved_at: datetime | None
) -> list[str]:
    """The targets breached during one opening (one entry per breach), from the conversation's
    ``breach_records``."""
    return [
        target
        for target, started_at in records
        if started_at >= opened_at and (resolved_at is None or started_at <= resolved_at)
    ]


MET, BREACHED, RUNNING = "met", "breached", "running"


def outcome(
    conversation, metric, records: list[tuple[str, datetime]]
) -> tuple[dict[str, str | None], int]:
    """({target: "met" / "breached" / "running" / None when it does not apply}, breaches);
    ``records``: the conversation's ``breach_records``."""
    policy = conversation.sla_policy
    breached = breached_targets(records, metric.opened_at, metric.resolved_at)
    result: dict[str, str | None] = {}
    for target in TARGETS:
        applies = policy is not None and getattr(policy, f"{target}_seconds", None) is not None
        if target in breached:
            result[target] = BREACHED
        elif not applies:
            result[target] = None
        elif target == FIRST_RESPONSE:
            result[target] = MET if metric.first_response_at is not None else RUNNING
        else:
            result[target] = MET if metric.resolved_at is not None else RUNNING
    return result, len(breached)


def as_flag(state: str | None) -> bool | None:
    """met → True, breached → False, running or not applying → None."""
    return {MET: True, BREACHED: False}.get(state or "")


def overall(states: dict[str, str | None]) -> bool | None:
    """Breached any target → False; else still running → None; else met all that apply."""
    values = set(states.values()) - {None}
    if BREACHED in values:
        return False
    if RUNNING in values or not values:
        return None
    return True
