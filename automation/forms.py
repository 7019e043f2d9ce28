"""The settings forms: a rule's trigger as choices, its conditions and actions as the API's JSON
(documented beside the field), checked by ``automation.spec`` with the problem shown at its
field."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from automation import spec
from automation.models import Macro, Rule

TRIGGER_CHOICES = [
    ("message_received", _("A message is received")),
    ("conversation_opened", _("A conversation is opened")),
    ("status_changed", _("The status changes")),
    ("labels_changed", _("The labels change")),
    ("assigned", _("The conversation is assigned")),
    (spec.NO_REPLY, _("No agent reply for N minutes")),
    (spec.PENDING, _("Pending for N days")),
]


def _json_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "code"}),
    )


# Keys shown in the order people read a condition or an action (PostgreSQL's JSON keeps its own).
KEY_ORDER = ("type", "field", "key", "operator", "value", "negate")


def _pretty(items: list[dict[str, Any]]) -> str:
    ordered = [
        dict(
            sorted(
                item.items(), key=lambda kv: KEY_ORDER.index(kv[0]) if kv[0] in KEY_ORDER else 99
            )
        )
        for item in items
    ]
    return json.dumps(ordered, indent=1, ensure_ascii=False)


def _field_of(where: str) -> str:
    """``conditions[2]`` → ``conditions``: where the form shows the problem."""
    return where.split("[", 1)[0]


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    trigger = forms.ChoiceField(label=_("When"), choices=TRIGGER_CHOICES)
    minutes = forms.IntegerField(label=_("Minutes"), required=False, min_value=1)
    business_hours = forms.BooleanField(label=_("Count business hours only"), required=False)
    days = forms.IntegerField(label=_("Days"), required=False, min_value=1)
    match = forms.ChoiceField(label=_("Match"), choices=Rule.Match.choices, initial="all")
    conditions = _json_field(
        _("Conditions"),
        _(
            'A JSON list, e.g. [{"field": "text", "operator": "contains", "value": "refund"}]. '
            "Empty: always."
        ),
    )
    actions = _json_field(
        _("Actions"),
        _('A JSON list, run in order, e.g. [{"type": "add_label", "value": "billing"}].'),
    )
    stop_processing = forms.BooleanField(label=_("Stop processing more rules"), required=False)

    @classmethod
    def initial_for(cls, rule: Rule) -> dict[str, Any]:
        trigger = spec.parse_trigger(rule.trigger)
        return {
            "name": rule.name,
            "enabled": rule.enabled,
            "trigger": trigger.kind,
            "minutes": trigger.minutes or None,
            "business_hours": trigger.business_hours,
            "days": trigger.days or None,
            "match": rule.match,
            "conditions": _pretty(rule.conditions),
            "actions": _pretty(rule.actions),
            "stop_processing": rule.stop_processing,
        }

    def _json(self, name: str) -> Any:
        raw = (self.cleaned_data.get(name) or "").strip()
        if not raw:
            return []
        try:
            return json.loads(raw)
        except ValueError as exc:
            self.add_error(name, _("Not valid JSON: %(e)s") % {"e": exc})
            return None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        kind = data["trigger"]
        trigger: Any = kind
        if kind == spec.NO_REPLY:
            trigger = {
                "no_reply_minutes": data.get("minutes"),
                "business_hours": data["business_hours"],
            }
        elif kind == spec.PENDING:
            trigger = {"pending_days": data.get("days")}
        conditions, actions = self._json("conditions"), self._json("actions")
        if self.errors:
            return data
        body = {
            "name": data["name"],
            "trigger": trigger,
            "conditions": {data["match"]: conditions}
            if isinstance(conditions, list)
            else conditions,
            "actions": actions,
            "enabled": data["enabled"],
            "stop_processing": data["stop_processing"],
        }
        try:
            self.clean_rule = spec.clean_rule(body)
        except spec.Invalid as exc:
            field = _field_of(exc.field)
            if field == "trigger":
                field = (
                    "minutes"
                    if kind == spec.NO_REPLY
                    else "days"
                    if kind == spec.PENDING
                    else "trigger"
                )
            self.add_error(field if field in self.fields else None, f"{exc.field}: {exc.detail}")
            return data
        self.body = body
        return data


class MacroForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    shared = forms.BooleanField(label=_("Shared with everyone"), required=False)
    actions = _json_field(
        _("Steps"),
        _(
            'A JSON list, run in order, e.g. [{"type": "add_label", "value": "billing"}, '
            '{"type": "resolve"}].'
        ),
    )

    @classmethod
    def initial_for(cls, macro: Macro) -> dict[str, Any]:
        return {
            "name": macro.name,
            "shared": macro.shared,
            "actions": _pretty(macro.actions),
        }

    def clean_actions(self) -> Any:
        try:
            return json.loads(self.cleaned_data["actions"] or "[]")
        except ValueError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(e)s") % {"e": exc})
