"""Changing a conversation's triage fields in one go, as an API client asks: status, assignee,
team, priority, labels and snooze. Each change goes through its service (events, live pushes,
listeners), all in one transaction: a request with one refused field changes nothing.

The refusals are the rules an agent meets on the dashboard (an assignee must see the
conversation's account, a team must handle it), answered with a code and words.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from inbox import selectors, services
from inbox.models import Conversation, Label, Team, User

FIELDS = ("status", "assignee", "team", "priority", "labels", "snoozed_until")
# Statuses a caller sets directly; "snoozed" comes with ``snoozed_until``.
STATUSES = (Conversation.Status.OPEN, Conversation.Status.PENDING, Conversation.Status.RESOLVED)
PRIORITIES = {name.lower(): value for value, name in Conversation.Priority.choices}
MAX_LABELS = 100


class TriageRefused(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def update_conversation(
    *, conversation: Conversation, actor: User, changes: Mapping[str, Any]
) -> Conversation:
    """Apply ``changes`` (any of ``FIELDS``) as ``actor``; ``TriageRefused`` before anything
    changes when one of them cannot be applied."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise TriageRefused(
            "unknown_field",
            _("Unknown field(s): %(fields)s. Fields: %(known)s.")
            % {"fields": ", ".join(unknown), "known": ", ".join(FIELDS)},
        )
    plan = _plan(conversation, actor, changes)
    with transaction.atomic():
        if "team" in plan:
            services.set_team(conversation=conversation, team=plan["team"], actor=actor)
        if "assignee" in plan:
            services.assign(conversation=conversation, actor=actor, assignee=plan["assignee"])
        if "labels" in plan:
            services.set_labels(conversation=conversation, labels=plan["labels"], actor=actor)
        if "priority" in plan:
            services.set_priority(conversation=conversation, priority=plan["priority"], actor=actor)
        if "status" in plan:
            services.change_status(
                conversation=conversation,
                status=plan["status"],
                actor=actor,
                snoozed_until=plan.get("snoozed_until"),
            )
    return conversation


def _plan(conversation: Conversation, actor: User, changes: Mapping[str, Any]) -> dict[str, Any]:
    plan: dict[str, Any] = {}
    if "status" in changes:
        if changes["status"] not in STATUSES:
            raise TriageRefused(
                "invalid_status",
                _("status must be one of: %(values)s (snooze with snoozed_until).")
                % {"values": ", ".join(STATUSES)},
            )
        plan["status"] = changes["status"]
    if "snoozed_until" in changes:
        until = _snooze_time(changes["snoozed_until"])
        if until is not None:
            if "status" in plan:
                raise TriageRefused(
                    "conflicting_fields",
                    _("snoozed_until snoozes the conversation: leave status out."),
                )
            plan["status"] = Conversation.Status.SNOOZED
            plan["snoozed_until"] = until
        elif "status" not in plan and conversation.status == Conversation.Status.SNOOZED:
            plan["status"] = Conversation.Status.OPEN  # unsnoozed
    if "assignee" in changes:
        plan["assignee"] = _assignee(conversation, actor, changes["assignee"])
    if "team" in changes:
        plan["team"] = _team(conversation, changes["team"])
    if "priority" in changes:
        value = changes["priority"]
        if not isinstance(value, str) or value.lower() not in PRIORITIES:
            raise TriageRefused(
                "invalid_priority",
                _("priority must be one of: %(values)s.") % {"values": ", ".join(PRIORITIES)},
            )
        plan["priority"] = PRIORITIES[value.lower()]
    if "labels" in changes:
        plan["labels"] = _labels(changes["labels"])
    return plan


def _snooze_time(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = None
    if isinstance(value, str) and len(value) <= 64:
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise TriageRefused(
            "invalid_snoozed_until",
            _("snoozed_until must be an ISO-8601 date and time, or null."),
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    if parsed <= timezone.now():
        raise TriageRefused("invalid_snoozed_until", _("snoozed_until must be in the future."))
    return parsed


def _assignee(conversation: Conversation, actor: User, value: Any) -> User | None:
    """A user id or username, or None to unassign; only someone who may see the conversation."""
    if value is None:
        return None
    allowed = selectors.assignable_agents(actor, conversation)
    found = None
    if isinstance(value, int) and not isinstance(value, bool):
        found = next((u for u in allowed if u.pk == value), None)
    elif isinstance(value, str) and value:
        found = next((u for u in allowed if u.username == value), None)
        if found is None and value.isdigit():
            found = next((u for u in allowed if u.pk == int(value)), None)
    if found is None:
        raise TriageRefused(
            "invalid_assignee",
            _("No active user by that id or username may see this conversation."),
        )
    return found


def _team(conversation: Conversation, value: Any) -> Team | None:
    if value is None:
        return None
    team = None
    if isinstance(value, str):
        team = Team.objects.filter(name=value, accounts=conversation.account_id).first()
    if team is None:
        raise TriageRefused(
            "invalid_team", _("No team by that name handles this conversation's account.")
        )
    return team


def _labels(value: Any) -> list[Label]:
    if (
        not isinstance(value, list)
        or len(value) > MAX_LABELS
        or not all(isinstance(name, str) for name in value)
    ):
        raise TriageRefused("invalid_labels", _("labels must be a list of label names."))
    wanted = set(value)
    labels = list(Label.objects.filter(name__in=wanted))
    missing = sorted(wanted - {label.name for label in labels})
    if missing:
        raise TriageRefused(
            "unknown_label",
            _("No such label: %(names)s (create it with POST /api/v1/labels/).")
            % {"names": ", ".join(missing)},
        )
    return labels
