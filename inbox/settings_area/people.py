"""People and access: users, roles, teams, and which teams see which accounts.

Taking access away is immediate: a deactivated user's sessions end, their API tokens are
deleted (DRF already refuses inactive users), and their open sockets are closed. When only
their access changes (team membership, a team's accounts, a role), their sockets are closed so
the browser reconnects and joins only the groups it may now see; every page and API call
already reads access afresh (``inbox.access``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework.authtoken.models import Token

from inbox import live
from inbox.models import PlatformAccount, Team, User
from inbox.settings_area import audit

log = logging.getLogger(__name__)


class PeopleError(Exception):
    """A change refused; the message says why."""


def close_sockets_on_commit(user_ids: Iterable[int], reason: str) -> None:
    """Close the users' open sockets once the change is committed (so a reconnect sees it)."""
    live.disconnect_users_on_commit(sorted(set(user_ids)), reason)


def end_sessions(user: User) -> int:
    """Delete every session of the user. Sessions are not indexed by user in Django's table, so
    the live ones are decoded; one organisation's sessions are a bounded set."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


def sign_out_everywhere(user: User, reason: str) -> None:
    """End the user's access as it stands: API tokens deleted now, sessions ended and open
    sockets closed once the change commits. Used when a user is deactivated and when their
    password is set or reset (whoever holds the old one loses what it opened)."""
    Token.objects.filter(user=user).delete()
    close_sockets_on_commit([user.pk], reason)
    transaction.on_commit(lambda: end_sessions(user))


@transaction.atomic
def create_user(
    *,
    actor: User,
    username: str,
    role: str,
    password: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    teams: Iterable[Team] = (),
) -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise PeopleError(
            gettext("A user named %(username)r already exists.") % {"username": username}
        )
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        is_staff=role == User.Role.ADMIN,
    )
    user.set_password(password)
    user.save()
    teams = list(teams)
    for team in teams:
        team.members.add(user)
    audit.record(
        actor=actor,
        action="user.created",
        target=user,
        changes={"role": (None, role), "teams": ([], [t.name for t in teams])},
    )
    return user


def _admins_left(excluding: User) -> int:
    return (
        User.objects.filter(is_active=True)
        .exclude(pk=excluding.pk)
        .filter(role=User.Role.ADMIN)
        .count()
        + User.objects.filter(is_active=True, is_superuser=True)
        .exclude(pk=excluding.pk)
        .exclude(role=User.Role.ADMIN)
        .count()
    )


@transaction.atomic
def update_user(
    *,
    actor: User,
    user: User,
    role: str,
    email: str,
    first_name: str,
    last_name: str,
    teams: Iterable[Team],
    password: str = "",
) -> User:
    """Change a user's details, role and teams. A role or team change closes their sockets."""
    user = User.objects.select_for_update().get(pk=user.pk)
    old_teams = set(user.teams.values_list("name", flat=True))
    new_teams = {t.name for t in teams}
    # A superuser is an admin whatever their role field says: compare what they can do.
    old_role = User.Role.ADMIN if user.is_admin else user.role
    if old_role == User.Role.ADMIN and role != User.Role.ADMIN and not _admins_left(user):
        raise PeopleError(gettext("Parley needs at least one active admin."))
    changes = {
        "role": (old_role, role),
        "email": (user.email, email),
        "first_name": (user.first_name, first_name),
        "last_name": (user.last_name, last_name),
        "teams": (sorted(old_teams), sorted(new_teams)),
    }
    user.role, user.email, user.first_name, user.last_name = role, email, first_name, last_name
    user.is_staff = role == User.Role.ADMIN
    if role != User.Role.ADMIN:
        # A superuser is an admin whatever the role says: demoting must remove that too.
        user.is_superuser = False
    if password:
        user.set_password(password)
        changes["password"] = ("", "set")
    user.save()
    user.teams.set(list(teams))
    audit.record(actor=actor, action="user.updated", target=user, changes=changes)
    # A new password signs the user out everywhere (signals.password_set).
    if old_role != role or old_teams != new_teams:
        close_sockets_on_commit([user.pk], "access changed")
    return user


@transaction.atomic
def set_active(*, actor: User, user: User, active: bool) -> User:
    """Deactivate (or reactivate) a user. Deactivating ends sessions, deletes API tokens and
    closes sockets at once."""
    if user.pk == actor.pk and not active:
        raise PeopleError(gettext("You cannot deactivate yourself."))
    if not active and user.is_admin and not _admins_left(user):
        raise PeopleError(gettext("Parley needs at least one active admin."))
    User.objects.filter(pk=user.pk).update(is_active=active)
    user.is_active = active
    if not active:
        sign_out_everywhere(user, "deactivated")
    audit.record(
        actor=actor,
        action="user.reactivated" if active else "user.deactivated",
        target=user,
        changes={"is_active": (not active, active)},
    )
    return user


@transaction.atomic
def create_team(*, actor: User, name: str) -> Team:
    name = name.strip()
    if not name:
        raise PeopleError(gettext("A team needs a name."))
    if Team.objects.filter(name__iexact=name).exists():
        raise PeopleError(gettext("A team named %(name)r already exists.") % {"name": name})
    team = Team.objects.create(name=name)
    audit.record(actor=actor, action="team.created", target=team)
    return team


@transaction.atomic
def update_team(
    *,
    actor: User,
    team: Team,
    name: str,
    members: Iterable[User],
    accounts: Iterable[PlatformAccount],
) -> Team:
    """Set a team's name, members and accounts. Everyone whose access changed — members
    added or removed, and every member when the accounts change — has their sockets closed."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    members, accounts = list(members), list(accounts)
    old_members = set(team.members.values_list("pk", flat=True))
    old_accounts = set(team.accounts.values_list("pk", flat=True))
    new_members = {u.pk for u in members}
    new_accounts = {a.pk for a in accounts}
    name = name.strip() or team.name
    if name != team.name and Team.objects.filter(name__iexact=name).exclude(pk=team.pk).exists():
        raise PeopleError(gettext("A team named %(name)r already exists.") % {"name": name})
    old_name = team.name
    team.name = name
    team.save(update_fields=["name"])
    team.members.set(members)
    team.accounts.set(accounts)
    affected = old_members ^ new_members
    if old_accounts != new_accounts:
        affected |= old_members | new_members
    names = dict(
        User.objects.filter(pk__in=old_members | new_members).values_list("pk", "username")
    )
    account_names = {
        a.pk: str(a) for a in PlatformAccount.objects.filter(pk__in=old_accounts | new_accounts)
    }
    audit.record(
        actor=actor,
        action="team.updated",
        target=team,
        changes={
            "name": (old_name, name),
            "members": (
                sorted(names[i] for i in old_members),
                sorted(names[i] for i in new_members),
            ),
            "accounts": (
                sorted(account_names[i] for i in old_accounts),
                sorted(account_names[i] for i in new_accounts),
            ),
        },
    )
    close_sockets_on_commit(affected, "access changed")
    return team


@transaction.atomic
def delete_team(*, actor: User, team: Team) -> None:
    members = list(team.members.values_list("pk", flat=True))
    audit.record(actor=actor, action="team.deleted", target=team)
    team.delete()
    close_sockets_on_commit(members, "access changed")
