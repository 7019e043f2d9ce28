"""Day-one configuration from the settings pages (labels, saved replies, chatbot rules and FAQ,
bot settings, SLA policies, business hours and holidays, auto-assignment, surveys): every save
and deletion in one place, each with its audit entry (what changed, old → new).

The pages validate with forms (``config_forms``); these functions write what a valid form holds
and record it, in one transaction.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.db.models import Model

from inbox.models import Team, User
from inbox.settings_area import audit
from sla.models import BusinessHours, Holiday


def _old_value(form: forms.ModelForm, name: str) -> Any:
    """A field's value before the form changed it, as the audit shows it (objects, not ids)."""
    old = form.initial.get(name)
    field = form.fields[name]
    if isinstance(field, forms.ModelMultipleChoiceField) and old:
        ids = [getattr(item, "pk", item) for item in old]
        return list(field.queryset.filter(pk__in=ids))
    if isinstance(field, forms.ModelChoiceField) and old not in (None, ""):
        return field.queryset.filter(pk=getattr(old, "pk", old)).first()
    return old


def form_changes(form: forms.ModelForm) -> dict[str, tuple[Any, Any]]:
    """(old, new) of each field the form changed (before ``form.save()``)."""
    return {
        name: (_old_value(form, name), form.cleaned_data.get(name))
        for name in form.changed_data
        if name in form.cleaned_data
    }


@transaction.atomic
def save(*, actor: User, form: forms.ModelForm) -> Model:
    """Save a valid settings form's object and audit it ("label.created", "sla_policy.changed"
    …). Nothing changed: nothing is written or recorded."""
    created = form.instance.pk is None
    changes = form_changes(form)
    if not created and not changes:
        return form.instance
    obj = form.save()
    kind = audit.target_type_of(obj)
    audit.record(
        actor=actor,
        action=f"{kind}.{'created' if created else 'changed'}",
        target=obj,
        target_type=kind,
        changes=changes,
    )
    return obj


@transaction.atomic
def delete(*, actor: User, obj: Model, extra: dict[str, Any] | None = None) -> None:
    kind = audit.target_type_of(obj)
    target_id, target_repr = str(obj.pk), str(obj)
    obj.delete()
    audit.record(
        actor=actor,
        action=f"{kind}.deleted",
        target_type=kind,
        target_id=target_id,
        target_repr=target_repr,
        extra=extra,
    )


@transaction.atomic
def save_holiday(*, actor: User, form: forms.ModelForm) -> Holiday:
    """A day of a business-hours calendar, audited on the hours it belongs to."""
    created = form.instance.pk is None
    changes = form_changes(form)
    holiday = form.save()
    audit.record(
        actor=actor,
        action="business_hours.holiday_added" if created else "business_hours.holiday_changed",
        target=holiday.hours,
        target_type="business_hours",
        changes=changes,
    )
    return holiday


@transaction.atomic
def delete_holiday(*, actor: User, holiday: Holiday) -> BusinessHours:
    hours = holiday.hours
    day = str(holiday)
    holiday.delete()
    audit.record(
        actor=actor,
        action="business_hours.holiday_removed",
        target=hours,
        target_type="business_hours",
        extra={"day": day},
    )
    return hours


@transaction.atomic
def save_assignment(
    *,
    actor: User,
    team: Team,
    auto_assign: bool,
    cap: int,
    taking_part: list[User],
    own_caps: dict[int, int],
) -> None:
    """A team's auto-assignment: on or off, the cap per member, who takes part (the other
    members are excluded) and members' own caps (only those that differ from the team's)."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    members = list(team.members.order_by("username"))
    excluded = [m for m in members if m not in taking_part]
    caps = {str(m.pk): own_caps[m.pk] for m in members if own_caps.get(m.pk) not in (None, cap)}
    before = {
        "auto_assign": team.auto_assign,
        "max_open_per_agent": team.max_open_per_agent,
        "excluded": list(team.auto_assign_excluded.all()),
        "own caps": _caps_words(team.agent_caps, members),
    }
    team.auto_assign = auto_assign
    team.max_open_per_agent = cap
    team.agent_caps = caps
    team.save(update_fields=["auto_assign", "max_open_per_agent", "agent_caps"])
    team.auto_assign_excluded.set(excluded)
    after = {
        "auto_assign": auto_assign,
        "max_open_per_agent": cap,
        "excluded": excluded,
        "own caps": _caps_words(caps, members),
    }
    changes = {
        k: (before[k], after[k]) for k in before if audit.plain(before[k]) != audit.plain(after[k])
    }
    if changes:
        audit.record(actor=actor, action="team.assignment_changed", target=team, changes=changes)


def _caps_words(caps: dict[str, Any], members: list[User]) -> list[str]:
    names = {str(m.pk): m.username for m in members}
    return [f"{names[k]}: {v}" for k, v in sorted((caps or {}).items()) if k in names]
