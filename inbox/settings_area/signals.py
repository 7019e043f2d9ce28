"""Signal receivers of the settings area.

Changes made in Django admin (bot rules, FAQ answers, SLA policies, business hours...) reach
the audit log too: each admin ``LogEntry`` is mirrored. Django records field names only, never
values, so credentials stay out. And a user deactivated anywhere loses access at once."""

from __future__ import annotations

import json
import logging

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models import Q
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from inbox.models import User
from inbox.settings_area import audit, people
from inbox.settings_area.models import AuditLog

log = logging.getLogger(__name__)

VERBS = {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}


def _fields(change_message: str) -> list[str]:
    try:
        parts = json.loads(change_message or "[]")
    except ValueError:
        return []
    fields: list[str] = []
    for part in parts if isinstance(parts, list) else []:
        for detail in part.values() if isinstance(part, dict) else []:
            if isinstance(detail, dict):
                fields += [str(f) for f in detail.get("fields", [])]
    return fields


@receiver(post_save, sender=LogEntry, dispatch_uid="settings_area.mirror_admin_log")
def mirror_admin_log(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    if not created:
        return
    try:
        content_type = instance.content_type
        key = (content_type.app_label, content_type.model) if content_type else ("", "")
        target_type = audit.TARGET_TYPES.get(key, key[1] or "object")
        fields = _fields(instance.change_message)
        audit.record(
            actor=instance.user,
            action=f"{target_type}.{VERBS.get(instance.action_flag, 'changed')}",
            target_type=target_type,
            target_id=str(instance.object_id or ""),
            target_repr=instance.object_repr or "",
            extra={"fields": fields, "via": "Django admin"} if fields else {"via": "Django admin"},
        )
    except Exception:  # noqa: BLE001 - the admin's own change must not fail for the audit copy
        log.exception("could not mirror admin log entry %s", instance.pk)


# --- Deactivation from anywhere ---------------------------------------------------------------
# The settings area closes sockets itself; a user deactivated elsewhere (Django admin, a shell,
# a script) gets the same treatment: sessions ended, API tokens deleted, sockets closed.


@receiver(pre_save, sender=User, dispatch_uid="settings_area.user_was_active")
def remember_active(sender, instance: User, update_fields=None, **kwargs) -> None:
    if instance.pk is None or (update_fields is not None and "is_active" not in update_fields):
        return  # a login's last_login update costs no query here
    instance._was_active = (
        User.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    )


@receiver(post_save, sender=User, dispatch_uid="settings_area.user_deactivated")
def user_deactivated(sender, instance: User, created: bool, **kwargs) -> None:
    if created or not getattr(instance, "_was_active", False) or instance.is_active:
        return
    people.sign_out_everywhere(instance, "deactivated")


# --- A password set from anywhere -------------------------------------------------------------
# Whoever set it (the settings area, Django admin, the user's own change, `add_user`,
# `changepassword`), a new password ends every session, API token and open socket of the user:
# a password reset is how a stolen login is taken back. ``set_password`` leaves the raw
# password on the instance until the save completes; a hash upgrade at login clears it first,
# so logging in is not a change.


@receiver(post_save, sender=User, dispatch_uid="settings_area.password_set")
def password_set(sender, instance: User, created: bool, **kwargs) -> None:
    if created or getattr(instance, "_password", None) is None:
        return
    people.sign_out_everywhere(instance, "password changed")


# --- Login lock-outs --------------------------------------------------------------------------
# django-axes signals each refused login of a locked username or address: one audit entry per
# lock-out window is enough (an attacker hammering a locked account must not flood the log).


@receiver(user_locked_out, dispatch_uid="settings_area.login_locked_out")
def login_locked_out(sender, request, username: str | None, ip_address: str | None, **kwargs):
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    recent = AuditLog.objects.filter(action="login.locked_out", created_at__gte=since)
    if recent.filter(Q(target_repr=username or "") | Q(changes__address=ip_address)).exists():
        return
    user = User.objects.filter(username=username).first() if username else None
    audit.record(
        actor=None,
        action="login.locked_out",
        target=user,
        target_type="user",
        target_repr=username or "",
        extra={"address": ip_address or "", "path": request.path if request else ""},
    )
