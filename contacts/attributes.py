"""Custom contact attributes: their types, and the one check a value goes through before it is
stored in ``Contact.attributes`` (the API, the contacts page and the contact panel all call
``clean_values``)."""

from __future__ import annotations

import datetime
import math
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from contacts.models import AttributeDefinition

Type = AttributeDefinition.Type

MAX_TEXT = 1000
MAX_CHOICES = 100


class InvalidAttribute(ValueError):
    """A value that does not fit its attribute (the API answers 422 with this code)."""

    def __init__(self, key: str, detail: str, code: str = "invalid_attribute"):
        super().__init__(detail)
        self.key = key
        self.detail = detail
        self.code = code


def clean_value(definition: AttributeDefinition, value: Any) -> Any:
    """The value as stored (``None`` removes it), or ``InvalidAttribute``. Strings from a form
    are accepted for every type ("3.5", "2026-12-06", "true")."""
    key = definition.key
    if value is None or value == "":
        return None
    kind = definition.type
    if kind == Type.TEXT:
        if not isinstance(value, str):
            raise InvalidAttribute(key, _("%(key)s must be text.") % {"key": key})
        if len(value) > MAX_TEXT:
            raise InvalidAttribute(
                key, _("%(key)s is longer than %(n)d characters.") % {"key": key, "n": MAX_TEXT}
            )
        return value.strip()
    if kind == Type.NUMBER:
        number: float | int
        if isinstance(value, bool):
            raise InvalidAttribute(key, _("%(key)s must be a number.") % {"key": key})
        if isinstance(value, int | float):
            number = value
        elif isinstance(value, str):
            try:
                number = float(value.strip()) if "." in value else int(value.strip())
            except ValueError:
                raise InvalidAttribute(key, _("%(key)s must be a number.") % {"key": key}) from None
        else:
            raise InvalidAttribute(key, _("%(key)s must be a number.") % {"key": key})
        if isinstance(number, float) and not math.isfinite(number):
            raise InvalidAttribute(key, _("%(key)s must be a finite number.") % {"key": key})
        return number
    if kind == Type.DATE:
        if not isinstance(value, str):
            raise InvalidAttribute(key, _("%(key)s must be a date (YYYY-MM-DD).") % {"key": key})
        try:
            return datetime.date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            raise InvalidAttribute(
                key, _("%(key)s must be a date (YYYY-MM-DD).") % {"key": key}
            ) from None
    if kind == Type.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "on", "yes", "no"):
            return value.lower() in ("true", "on", "yes")
        raise InvalidAttribute(key, _("%(key)s must be true or false.") % {"key": key})
    if kind == Type.CHOICE:
        if not isinstance(value, str) or value not in definition.choices:
            raise InvalidAttribute(
                key,
                _("%(key)s must be one of: %(choices)s.")
                % {"key": key, "choices": ", ".join(definition.choices)},
            )
        return value
    raise InvalidAttribute(key, _("%(key)s has an unknown type.") % {"key": key})


def matching(path: str, key: str, kind: str, value: Any) -> Q:
    """Rows whose attributes (the JSON field at ``path``, e.g. ``conversation__contact__attributes``)
    hold ``value`` (as ``clean_value`` returns it) under ``key``, compared the way the type needs:
    text in any case, the other types exactly (numbers by value: 3 matches 3.0). ``None``: rows
    that have the attribute at all."""
    if value is None:
        return Q(**{f"{path}__has_key": key})
    # The explicit lookup keeps ``key`` a key even when it is named like a lookup ("contains").
    lookup = "iexact" if kind == Type.TEXT else "exact"
    return Q(**{f"{path}__{key}__{lookup}": value})


def as_text(value: Any) -> str:
    """A stored value as a form or query string gives it back to ``clean_value``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def value_options(definition: AttributeDefinition) -> list[tuple[str, str]]:
    """The values a menu offers for a choice or yes/no attribute (other types are typed in)."""
    if definition.type == Type.CHOICE:
        return [(choice, choice) for choice in definition.choices]
    if definition.type == Type.BOOLEAN:
        return [("true", _("yes")), ("false", _("no"))]
    return []


def clean_values(changes: Any, current: dict[str, Any]) -> dict[str, Any]:
    """``current`` with ``changes`` applied ({key: value or null}), each value checked against
    its definition; an unknown key or a wrong type raises ``InvalidAttribute``."""
    if not isinstance(changes, dict):
        raise InvalidAttribute("", _("attributes must be an object."), code="invalid_attributes")
    definitions = {d.key: d for d in AttributeDefinition.objects.filter(key__in=list(changes))}
    result = dict(current)
    for key, value in changes.items():
        definition = definitions.get(key)
        if definition is None:
            raise InvalidAttribute(
                str(key)[:50],
                _("%(key)s is not a contact attribute.") % {"key": str(key)[:50]},
                code="unknown_attribute",
            )
        cleaned = clean_value(definition, value)
        if cleaned is None:
            result.pop(key, None)
        else:
            result[key] = cleaned
    return result


def clean_choices(kind: str, choices: Any) -> list[str]:
    """A choice attribute's list of allowed values (other types have none)."""
    if kind != Type.CHOICE:
        return []
    if not isinstance(choices, list) or not choices:
        raise InvalidAttribute("choices", _("A choice attribute needs a list of choices."))
    cleaned: list[str] = []
    for choice in choices[:MAX_CHOICES]:
        if not isinstance(choice, str) or not choice.strip() or len(choice) > 100:
            raise InvalidAttribute("choices", _("Each choice is a short piece of text."))
        if choice.strip() not in cleaned:
            cleaned.append(choice.strip())
    return cleaned


def display(definition: AttributeDefinition | None, value: Any) -> str:
    """A stored value as people read it (the contact page, saved replies)."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return "" if value is None else str(value)
