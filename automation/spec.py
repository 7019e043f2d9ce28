"""The rules' language: triggers, conditions and actions as the API writes them, validated
before anything is stored (a rule that cannot run is refused with the reason, not saved).

    trigger:   "message_received" | "conversation_opened" | "status_changed" |
               "labels_changed" | "assigned" |
               {"no_reply_minutes": N, "business_hours": bool} | {"pending_days": N}
    condition: {"field", "operator", "value", "key" (contact_attribute), "negate" (optional)}
    action:    {"type", "value"}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import regex
from django.utils.translation import gettext as _

from inbox.models import Conversation, Label, Platform, SavedReply, Team, User

EVENT_TRIGGERS = (
    "message_received",
    "conversation_opened",
    "status_changed",
    "labels_changed",
    "assigned",
)
NO_REPLY = "no_reply"
PENDING = "pending"
TRIGGER_KINDS = (*EVENT_TRIGGERS, NO_REPLY, PENDING)
TIME_TRIGGERS = (NO_REPLY, PENDING)

MAX_NO_REPLY_MINUTES = 60 * 24 * 30
MAX_PENDING_DAYS = 365

# field → the operators it takes
FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("contains", "equals", "matches"),
    "platform": ("equals", "in"),
    "account": ("equals", "in"),
    "team": ("equals", "in"),
    "kind": ("equals", "in"),
    "label": ("contains", "equals", "in"),
    "priority": ("equals", "in"),
    "status": ("equals", "in"),
    "contact_attribute": ("equals", "contains", "in"),
    "business_hours": ("equals",),
}
PRIORITIES = {choice.name.lower(): choice.value for choice in Conversation.Priority}
PRIORITY_NAMES = {value: name for name, value in PRIORITIES.items()}

# Rules and macros share one vocabulary; stop_bot and snooze are extras of the list.
ACTION_TYPES = (
    "add_label",
    "remove_label",
    "set_team",
    "assign",
    "set_priority",
    "snooze",
    "resolve",
    "add_note",
    "send_saved_reply",
    "stop_bot",
    "notify",
    "webhook",
)
ROUND_ROBIN = "round_robin"

MAX_CONDITIONS = 20
MAX_ACTIONS = 20
MAX_TEXT = 2000
MAX_LIST = 50


class Invalid(ValueError):
    """A rule or macro that cannot run: where (``field``) and why (``detail``)."""

    code = "invalid_rule"

    def __init__(self, field: str, detail: str):
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


@dataclass(frozen=True)
class Trigger:
    kind: str
    minutes: int = 0
    days: int = 0
    business_hours: bool = False


def parse_trigger(raw: Any) -> Trigger:
    if isinstance(raw, str):
        if raw not in EVENT_TRIGGERS:
            raise Invalid("trigger", _("Unknown trigger %(t)r.") % {"t": raw[:50]})
        return Trigger(raw)
    if isinstance(raw, dict):
        if set(raw) <= {"no_reply_minutes", "business_hours"} and "no_reply_minutes" in raw:
            minutes = raw["no_reply_minutes"]
            if not whole(minutes) or not 1 <= minutes <= MAX_NO_REPLY_MINUTES:
                raise Invalid(
                    "trigger",
                    _("no_reply_minutes must be a whole number from 1 to %(max)d.")
                    % {"max": MAX_NO_REPLY_MINUTES},
                )
            hours = raw.get("business_hours", False)
            if not isinstance(hours, bool):
                raise Invalid("trigger", _("business_hours must be true or false."))
            return Trigger(NO_REPLY, minutes=minutes, business_hours=hours)
        if set(raw) == {"pending_days"}:
            days = raw["pending_days"]
            if not whole(days) or not 1 <= days <= MAX_PENDING_DAYS:
                raise Invalid(
                    "trigger",
                    _("pending_days must be a whole number from 1 to %(max)d.")
                    % {"max": MAX_PENDING_DAYS},
                )
            return Trigger(PENDING, days=days)
    raise Invalid(
        "trigger",
        _('A trigger is an event name or {"no_reply_minutes": N} or {"pending_days": N}.'),
    )


def whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any, where: str, *, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise Invalid(where, _("A text value is needed."))
    if len(value) > MAX_TEXT:
        raise Invalid(where, _("At most %(n)d characters.") % {"n": MAX_TEXT})
    return value


def _values(value: Any, operator: str, where: str) -> list[Any]:
    """``in`` takes a list, the others one value: both as a list here."""
    if operator == "in":
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            raise Invalid(where, _("“in” needs a list of 1 to %(n)d values.") % {"n": MAX_LIST})
        return value
    return [value]


def parse_conditions(raw: Any) -> tuple[str, list[dict[str, Any]]]:
    """``[...]`` (all must hold), or ``{"all": [...]}`` / ``{"any": [...]}``."""
    match = "all"
    if isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in ("all", "any"):
        match, raw = next(iter(raw.items()))
    if not isinstance(raw, list):
        raise Invalid("conditions", _('Conditions are a list, or {"any": [...]}.'))
    if len(raw) > MAX_CONDITIONS:
        raise Invalid("conditions", _("At most %(n)d conditions.") % {"n": MAX_CONDITIONS})
    return match, [clean_condition(c, f"conditions[{i}]") for i, c in enumerate(raw)]


def clean_condition(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not {"field", "operator", "value"} <= set(raw):
        raise Invalid(where, _("A condition has a field, an operator and a value."))
    field, operator, value = raw["field"], raw["operator"], raw["value"]
    if field not in FIELDS:
        raise Invalid(where, _("Unknown field %(f)r.") % {"f": str(field)[:50]})
    if operator not in FIELDS[field]:
        raise Invalid(
            where,
            _("%(f)s takes the operators: %(ops)s.")
            % {"f": field, "ops": ", ".join(FIELDS[field])},
        )
    negate = raw.get("negate", False)
    if not isinstance(negate, bool):
        raise Invalid(where, _("negate must be true or false."))
    cleaned: dict[str, Any] = {"field": field, "operator": operator, "value": value}
    if negate:
        cleaned["negate"] = True
    values = _values(value, operator, where)
    if field == "text":
        _text(value, where)
        if operator == "matches":
            try:
                regex.compile(value)
            except regex.error as exc:
                raise Invalid(where, _("Invalid regular expression: %(e)s") % {"e": exc})
    elif field == "platform":
        bad = [v for v in values if v not in Platform.values]
        if bad:
            raise Invalid(where, _("Unknown platform %(v)r.") % {"v": str(bad[0])[:50]})
    elif field == "account":
        if not all(whole(v) for v in values):
            raise Invalid(where, _("Accounts are given by id."))
    elif field == "team":
        _names_exist(Team, values, where, _("No team is called %(v)r."))
    elif field == "kind":
        bad = [v for v in values if v not in Conversation.Kind.values]
        if bad:
            raise Invalid(where, _("Unknown kind %(v)r.") % {"v": str(bad[0])[:50]})
    elif field == "label":
        _names_exist(Label, values, where, _("No label is called %(v)r."))
    elif field == "priority":
        bad = [v for v in values if v not in PRIORITIES]
        if bad:
            raise Invalid(where, _("Unknown priority %(v)r.") % {"v": str(bad[0])[:50]})
    elif field == "status":
        bad = [v for v in values if v not in Conversation.Status.values]
        if bad:
            raise Invalid(where, _("Unknown status %(v)r.") % {"v": str(bad[0])[:50]})
    elif field == "contact_attribute":
        key = raw.get("key")
        if not isinstance(key, str) or not key.strip() or len(key) > 100:
            raise Invalid(where, _("A contact attribute condition names its attribute (key)."))
        if not all(isinstance(v, (str, int, float, bool)) for v in values):
            raise Invalid(where, _("Attribute values are text, numbers or true/false."))
        cleaned["key"] = key
    elif field == "business_hours" and not isinstance(value, bool):
        raise Invalid(where, _("business_hours is true (inside) or false (outside)."))
    return cleaned


def _names_exist(model: type, values: list[Any], where: str, message: str) -> None:
    if not all(isinstance(v, str) for v in values):
        raise Invalid(where, _("Names are text."))
    known = set(model.objects.filter(name__in=values).values_list("name", flat=True))
    for value in values:
        if value not in known:
            raise Invalid(where, message % {"v": value[:50]})


def parse_actions(raw: Any, *, where: str = "actions") -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise Invalid(where, _("At least one action is needed."))
    if len(raw) > MAX_ACTIONS:
        raise Invalid(where, _("At most %(n)d actions.") % {"n": MAX_ACTIONS})
    return [clean_action(a, f"{where}[{i}]") for i, a in enumerate(raw)]


def clean_action(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or "type" not in raw:
        raise Invalid(where, _('An action is {"type": …, "value": …}.'))
    kind, value = raw["type"], raw.get("value")
    if kind not in ACTION_TYPES:
        raise Invalid(where, _("Unknown action %(t)r.") % {"t": str(kind)[:50]})
    if kind in ("add_label", "remove_label"):
        _names_exist(Label, [value], where, _("No label is called %(v)r."))
    elif kind == "set_team":
        _names_exist(Team, [value], where, _("No team is called %(v)r."))
    elif kind == "assign":
        if value is not None and value != ROUND_ROBIN and find_user(value) is None:
            raise Invalid(where, _("No active user %(v)r.") % {"v": str(value)[:50]})
    elif kind == "set_priority":
        if value not in PRIORITIES:
            raise Invalid(where, _("Priority is one of: %(p)s.") % {"p": ", ".join(PRIORITIES)})
    elif kind == "snooze":
        if not whole(value) or not 1 <= value <= MAX_NO_REPLY_MINUTES:
            raise Invalid(where, _("Snooze for a number of minutes."))
    elif kind == "add_note":
        _text(value, where)
    elif kind == "send_saved_reply":
        if not isinstance(value, str) or not SavedReply.objects.filter(shortcut=value).exists():
            raise Invalid(
                where, _("No saved reply has the shortcut %(v)r.") % {"v": str(value)[:50]}
            )
    elif kind == "notify":
        value = _notify_value(value, where)
    elif kind == "webhook":
        if not isinstance(value, dict) or set(value) != {"subscription"}:
            raise Invalid(where, _('A webhook action is {"subscription": <id>}.'))
        if not whole(value["subscription"]) or value["subscription"] < 1:
            raise Invalid(where, _("The subscription is given by id."))
    else:  # resolve, stop_bot: no value
        value = None
    return {"type": kind, "value": value}


def _notify_value(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not set(value) <= {"users", "teams", "text"}:
        raise Invalid(where, _('Notify takes {"users": [ids], "teams": [names], "text": "…"}.'))
    users, teams = value.get("users", []), value.get("teams", [])
    if not isinstance(users, list) or not all(whole(u) for u in users) or len(users) > MAX_LIST:
        raise Invalid(where, _("users is a list of user ids."))
    if not isinstance(teams, list) or len(teams) > MAX_LIST:
        raise Invalid(where, _("teams is a list of team names."))
    if not users and not teams:
        raise Invalid(where, _("Notify whom? Name users or teams."))
    found = set(User.objects.filter(pk__in=users, is_active=True).values_list("pk", flat=True))
    missing = [u for u in users if u not in found]
    if missing:
        raise Invalid(where, _("No active user with id %(v)s.") % {"v": missing[0]})
    if teams:
        _names_exist(Team, teams, where, _("No team is called %(v)r."))
    return {"users": users, "teams": teams, "text": _text(value.get("text", ""), where)}


def find_user(value: Any) -> User | None:
    """An active user by id or username (the API's ``assignee`` takes both)."""
    if whole(value):
        return User.objects.filter(pk=value, is_active=True).first()
    if isinstance(value, str) and value:
        return User.objects.filter(username=value, is_active=True).first()
    return None


@dataclass(frozen=True)
class CleanRule:
    name: str
    trigger: Any
    trigger_kind: str
    match: str
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    enabled: bool
    stop_processing: bool


def clean_rule(data: dict[str, Any]) -> CleanRule:
    """The API body (or the settings form's) checked in full; ``Invalid`` names the first
    problem."""
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Invalid("name", _("A rule needs a name of at most 200 characters."))
    trigger = parse_trigger(data.get("trigger"))
    match, conditions = parse_conditions(data.get("conditions", []))
    actions = parse_actions(data.get("actions"))
    enabled = data.get("enabled", True)
    stop = data.get("stop_processing", False)
    if not isinstance(enabled, bool) or not isinstance(stop, bool):
        raise Invalid("enabled", _("enabled and stop_processing are true or false."))
    return CleanRule(
        name=name.strip(),
        trigger=data["trigger"],
        trigger_kind=trigger.kind,
        match=match,
        conditions=conditions,
        actions=actions,
        enabled=enabled,
        stop_processing=stop,
    )


def conditions_out(match: str, conditions: list[dict[str, Any]]) -> Any:
    """The API's form: a plain list when all must hold."""
    return conditions if match == "all" else {"any": conditions}
