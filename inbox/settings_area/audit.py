"""The audit log: who changed what in the settings, and when.

Any part of Parley that changes configuration (accounts, credentials, users, roles, teams,
access, bot rules, SLA policies) calls ``record``. Credential values never reach it: pass
``credential_keys`` and only their names are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import Model, QuerySet

from inbox.models import User
from inbox.settings_area.models import AuditLog

log = logging.getLogger(__name__)

# Audit target types of the models whose names an admin filters by (app label, model name):
# the settings pages and Django admin's mirrored entries use the same ones.
TARGET_TYPES = {
    ("chatbot", "rule"): "bot_rule",
    ("chatbot", "faqentry"): "bot_faq",
    ("chatbot", "botsettings"): "bot_settings",
    ("sla", "slapolicy"): "sla_policy",
    ("sla", "businesshours"): "business_hours",
    ("inbox", "label"): "label",
    ("inbox", "savedreply"): "saved_reply",
    ("inbox", "team"): "team",
    ("surveys", "surveysettings"): "survey_settings",
}


def target_type_of(obj: Model) -> str:
    return TARGET_TYPES.get((obj._meta.app_label, obj._meta.model_name), obj._meta.model_name)


# Keys that must never be stored even if a caller passes them among plain changes.
SECRET_HINTS = ("token", "secret", "password", "verifier", "key")


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(hint in lowered for hint in SECRET_HINTS)


def plain(value: Any) -> Any:
    """A JSON-safe, readable form of a changed value."""
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted(str(plain(v)) for v in value)
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def record(
    *,
    actor: User | None,
    action: str,
    target: Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    changes: dict[str, tuple[Any, Any]] | None = None,
    credential_keys: Iterable[str] = (),
    extra: dict[str, Any] | None = None,
) -> AuditLog:
    """Write one audit entry. ``changes`` maps a field to (old, new); secret-looking fields are
    reduced to "changed"; ``credential_keys`` are listed by name only."""
    recorded: dict[str, Any] = {}
    for name, (old, new) in (changes or {}).items():
        if old == new:
            continue
        recorded[name] = "changed" if _is_secret(name) else [plain(old), plain(new)]
    keys = sorted(set(credential_keys))
    if keys:
        recorded["credentials"] = keys
    for name, value in (extra or {}).items():
        if name == "fields":
            # Field names only; a secret field's name is still safe to show.
            recorded[name] = [str(v) for v in value]
        else:
            recorded[name] = "changed" if _is_secret(name) else plain(value)
    if target is not None:
        target_type = target_type or target._meta.model_name
        target_id = target_id or str(target.pk)
        target_repr = target_repr or str(target)
    entry = AuditLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr[:200],
        changes=recorded,
    )
    log.info(
        "audit: %s %s %s:%s by %s",
        action,
        target_repr,
        target_type,
        target_id,
        getattr(actor, "username", "system"),
    )
    return entry


def search(
    *,
    actor_id: int | None = None,
    action: str = "",
    target_type: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    text: str = "",
) -> QuerySet[AuditLog]:
    entries = AuditLog.objects.select_related("actor").order_by("-created_at", "-id")
    if actor_id:
        entries = entries.filter(actor_id=actor_id)
    if action:
        entries = entries.filter(action__startswith=action)
    if target_type:
        entries = entries.filter(target_type=target_type)
    if since:
        entries = entries.filter(created_at__gte=since)
    if until:
        entries = entries.filter(created_at__lt=until)
    if text:
        entries = entries.filter(target_repr__icontains=text)
    return entries


CSV_COLUMNS = ["time", "actor", "action", "target_type", "target_id", "target", "changes"]


def csv_rows(entries: QuerySet[AuditLog]) -> Iterator[list[Any]]:
    """The entries as CSV rows (iterated: the log can be long, no full list in memory)."""
    for entry in entries.iterator(chunk_size=500):
        yield [
            entry.created_at.isoformat(),
            entry.actor.username if entry.actor else "system",
            entry.action,
            entry.target_type,
            entry.target_id,
            entry.target_repr,
            describe(entry),
        ]


def describe(entry: AuditLog) -> str:
    """The changes in words: "role: agent → manager; credentials: page_access_token"."""
    parts = []
    for name, value in (entry.changes or {}).items():
        if isinstance(value, list) and len(value) == 2 and name != "credentials":
            parts.append(f"{name}: {_word(value[0])} → {_word(value[1])}")
        elif isinstance(value, list):
            parts.append(f"{name}: {', '.join(str(v) for v in value)}")
        else:
            parts.append(f"{name}: {value}")
    return "; ".join(parts)


def _word(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)
