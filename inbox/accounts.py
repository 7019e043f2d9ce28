"""Writes about people and platform accounts: users, roles, teams, connections."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from connectors.registry import get_connector
from inbox.delivery import resume_account
from inbox.models import PlatformAccount, Team, User


@transaction.atomic
def create_or_update_user(
    *,
    username: str,
    role: str,
    password: str,
    teams: Iterable[str] = (),
    email: str = "",
    full_name: str = "",
) -> tuple[User, bool]:
    if role not in User.Role.values:
        raise ValueError(gettext("unknown role %(role)r") % {"role": role})
    user, created = User.objects.get_or_create(username=username)
    user.role = role
    user.is_staff = role == User.Role.ADMIN
    user.is_superuser = role == User.Role.ADMIN
    user.is_active = True
    if email:
        user.email = email
    if full_name:
        user.first_name, _, user.last_name = full_name.partition(" ")
    if created or not user.check_password(password):
        # The same password given again (a re-run of the demo's set-up) is no change: it
        # must not sign the user out everywhere (settings_area.signals.password_set).
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValueError(" ".join(exc.messages))
        user.set_password(password)
    user.save()
    for name in teams:
        team, _ = Team.objects.get_or_create(name=name)
        team.members.add(user)
    return user, created


@transaction.atomic
def connect_account(
    *,
    platform: str,
    external_id: str,
    name: str,
    settings: dict[str, Any],
    teams: Iterable[str] = (),
) -> tuple[PlatformAccount, bool]:
    """Create or update an account. Keys the connector lists as options are stored readable;
    everything else is a credential, encrypted. Existing keys not given keep their value."""
    connector = get_connector(platform)
    options = {k: _option_value(v) for k, v in settings.items() if k in connector.option_keys}
    credentials = {k: v for k, v in settings.items() if k not in connector.option_keys}
    account = PlatformAccount.objects.filter(platform=platform, external_id=external_id).first()
    created = account is None
    if created:
        account = PlatformAccount(platform=platform, external_id=external_id)
    account.name = name
    account.credentials = {**(account.credentials or {}), **credentials}
    account.options = {**(account.options or {}), **options}
    if account.status == PlatformAccount.Status.DISCONNECTED or credentials:
        account.status = PlatformAccount.Status.CONNECTED
        account.last_error = ""
    account.save()
    for team_name in teams:
        team, _ = Team.objects.get_or_create(name=team_name)
        team.accounts.add(account)
    if credentials and not created:
        transaction.on_commit(lambda: resume_account(account))
    return account, created


def _option_value(value: str) -> Any:
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    return value
