"""Changing rules and macros (every change audited), and running a macro.

Rules are edited by admins and managers; shared macros too; anyone keeps personal macros.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from automation import actions, spec
from automation.models import Macro, Rule
from inbox.models import Conversation, User
from inbox.settings_area import audit

log = logging.getLogger(__name__)

MAX_RULES = 500
MAX_MACROS_PER_OWNER = 200


class NotAllowed(PermissionError):
    pass


def may_edit_rules(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.is_manager


def _require_editor(user: User) -> None:
    if not may_edit_rules(user):
        raise NotAllowed(_("Only admins and managers may change automation rules."))


def _fields(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "enabled": rule.enabled,
        "trigger": rule.trigger,
        "match": rule.match,
        "conditions": rule.conditions,
        "actions": rule.actions,
        "stop_processing": rule.stop_processing,
        "position": rule.position,
    }


def _audit_rule(
    actor: User, action: str, rule: Rule, before: dict[str, Any], after: dict[str, Any]
) -> None:
    # Structured values are audited as their JSON text (the audit log keeps readable strings).
    changes = {
        name: (_plain(before.get(name)), _plain(after.get(name)))
        for name in {*before, *after}
        if before.get(name) != after.get(name)
    }
    audit.record(
        actor=actor, action=action, target=rule, target_type="automation_rule", changes=changes
    )


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, bool)) else json.dumps(value)


def create_rule(*, actor: User, data: dict[str, Any]) -> Rule:
    """``spec.Invalid`` for a rule that cannot run; ``NotAllowed`` for non-editors."""
    _require_editor(actor)
    clean = spec.clean_rule(data)
    with transaction.atomic():
        if Rule.objects.count() >= MAX_RULES:
            raise spec.Invalid("name", _("At most %(n)d rules.") % {"n": MAX_RULES})
        position = data.get("position")
        if not spec.whole(position):
            position = (Rule.objects.aggregate(m=Max("position"))["m"] or 0) + 1
        rule = Rule.objects.create(
            name=clean.name,
            enabled=clean.enabled,
            trigger=clean.trigger,
            trigger_kind=clean.trigger_kind,
            match=clean.match,
            conditions=clean.conditions,
            actions=clean.actions,
            stop_processing=clean.stop_processing,
            position=position,
            created_by=actor,
        )
        _audit_rule(actor, "automation_rule.created", rule, {}, _fields(rule))
    return rule


def rule_body(rule: Rule) -> dict[str, Any]:
    """The rule in the API's words (what a PATCH changes)."""
    return {
        "name": rule.name,
        "trigger": rule.trigger,
        "conditions": spec.conditions_out(rule.match, rule.conditions),
        "actions": rule.actions,
        "enabled": rule.enabled,
        "stop_processing": rule.stop_processing,
    }


def update_rule(*, actor: User, rule: Rule, data: dict[str, Any]) -> Rule:
    """``data`` may hold only some fields (PATCH): the rest keep their values."""
    _require_editor(actor)
    clean = spec.clean_rule({**rule_body(rule), **data})
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        before = _fields(rule)
        rule.name = clean.name
        rule.enabled = clean.enabled
        rule.trigger = clean.trigger
        rule.trigger_kind = clean.trigger_kind
        rule.match = clean.match
        rule.conditions = clean.conditions
        rule.actions = clean.actions
        rule.stop_processing = clean.stop_processing
        if spec.whole(data.get("position")) and data["position"] >= 0:
            rule.position = data["position"]
        rule.save()
        _audit_rule(actor, "automation_rule.changed", rule, before, _fields(rule))
    return rule


def delete_rule(*, actor: User, rule: Rule) -> None:
    _require_editor(actor)
    with transaction.atomic():
        _audit_rule(actor, "automation_rule.deleted", rule, _fields(rule), {})
        rule.delete()


def move_rule(*, actor: User, rule: Rule, offset: int) -> None:
    """Up (-1) or down (+1) one place in the order; positions are renumbered 1..n."""
    _require_editor(actor)
    with transaction.atomic():
        rules = list(Rule.objects.select_for_update().order_by("position", "id"))
        index = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
        target = index + offset
        if not 0 <= target < len(rules):
            return
        rules[index], rules[target] = rules[target], rules[index]
        for position, each in enumerate(rules, start=1):
            if each.position != position:
                Rule.objects.filter(pk=each.pk).update(position=position)
        audit.record(
            actor=actor,
            action="automation_rule.moved",
            target=rule,
            target_type="automation_rule",
            changes={"position": (index + 1, target + 1)},
        )


# --- Macros -----------------------------------------------------------------------------------


def macros_for(user: User) -> QuerySet[Macro]:
    """The macros a user may run: the shared ones and their own."""
    return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user)).order_by("name", "id")


def macros_editable_by(user: User) -> QuerySet[Macro]:
    if user.is_manager:
        return macros_for(user)
    return Macro.objects.filter(owner=user).order_by("name", "id")


def save_macro(
    *, actor: User, name: str, actions_raw: Any, shared: bool, macro: Macro | None = None
) -> Macro:
    if shared and not actor.is_manager:
        raise NotAllowed(_("Only admins and managers may share macros."))
    if macro is not None and not macros_editable_by(actor).filter(pk=macro.pk).exists():
        raise NotAllowed(_("This macro is not yours to change."))
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise spec.Invalid("name", _("A macro needs a name of at most 100 characters."))
    steps = spec.parse_actions(actions_raw)
    with transaction.atomic():
        if macro is None:
            if Macro.objects.filter(owner=actor).count() >= MAX_MACROS_PER_OWNER:
                raise spec.Invalid("name", _("Too many macros."))
            macro = Macro(created_by=actor)
            before: dict[str, Any] = {}
            action = "macro.created"
        else:
            before = {"name": macro.name, "actions": macro.actions, "shared": macro.shared}
            action = "macro.changed"
        macro.name, macro.actions = name, steps
        macro.owner = None if shared else (macro.owner or actor)
        macro.save()
        after = {"name": macro.name, "actions": macro.actions, "shared": macro.shared}
        audit.record(
            actor=actor,
            action=action,
            target=macro,
            target_type="macro",
            changes={
                k: (_plain(before.get(k)), _plain(after.get(k)))
                for k in after
                if before.get(k) != after.get(k)
            },
        )
    return macro


def delete_macro(*, actor: User, macro: Macro) -> None:
    if not macros_editable_by(actor).filter(pk=macro.pk).exists():
        raise NotAllowed(_("This macro is not yours to change."))
    with transaction.atomic():
        audit.record(actor=actor, action="macro.deleted", target=macro, target_type="macro")
        macro.delete()


@dataclass(frozen=True)
class StepProblem:
    index: int
    step: str
    detail: str


class MacroRefused(Exception):
    """Some steps cannot run: nothing was done."""

    def __init__(self, problems: list[StepProblem]):
        super().__init__("; ".join(f"{p.step}: {p.detail}" for p in problems))
        self.problems = problems


def check_macro(*, macro: Macro, conversation: Conversation, user: User) -> list[StepProblem]:
    now = timezone.now()
    runner = actions.Runner(user=user)
    problems = []
    for index, step in enumerate(macro.actions):
        try:
            actions.check(step, conversation, runner, now=now)
        except actions.StepRefused as exc:
            problems.append(StepProblem(index, actions.describe(step), exc.detail))
    return problems


def run_macro(*, macro: Macro, conversation: Conversation, user: User) -> list[str]:
    """Every step checked first, then all run in one transaction: a step that fails after all
    (the state moved meanwhile) undoes the others. The caller checked the user may see the
    conversation and run the macro. Returns what each step did."""
    if not macros_for(user).filter(pk=macro.pk).exists():
        raise NotAllowed(_("This macro is not yours to run."))
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",), no_key=True)
            .select_related("account", "team", "contact", "assignee")
            .get(pk=conversation.pk)
        )
        problems = check_macro(macro=macro, conversation=conversation, user=user)
        if problems:
            raise MacroRefused(problems)
        now = timezone.now()
        runner = actions.Runner(user=user)
        done = []
        for index, step in enumerate(macro.actions):
            try:
                done.append(actions.perform(step, conversation, runner, now=now))
            except actions.StepRefused as exc:
                raise MacroRefused([StepProblem(index, actions.describe(step), exc.detail)])
    log.info("macro %s ran on conversation %s by %s", macro.pk, conversation.pk, user.pk)
    return done
