"""Every write about notifications: creating them (``notify``), read marks, preferences.

``notify`` is also what other apps call (automation's "notify" action). It never notifies the
actor, nor anyone who may not see the conversation, and it pushes each notification live to
its recipient alone, after commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import live, presence
from inbox.access import users_who_may_see
from inbox.models import Conversation, Team, User
from notifications.models import Notification, NotificationPreference

# Kinds that reach an offline agent by email (the issue: mentions and breaches).
EMAIL_KINDS = frozenset({Notification.Kind.MENTION, Notification.Kind.SLA_BREACHED})
# The bell shows "99+" past this: the count stays bounded however much piles up.
UNREAD_COUNT_CAP = 100
MAX_TEXT = 500


def team_members(team: Team) -> list[User]:
    """The team's active members, for "notify a team"."""
    return list(team.members.filter(is_active=True).order_by("id"))


def preferences(user: User) -> NotificationPreference:
    """The agent's preferences (the defaults when they never saved any; not stored by reading)."""
    found = NotificationPreference.objects.filter(user=user).first()
    return found or NotificationPreference(user=user)


def email_configured() -> bool:
    """Email is off until the deployment configures a backend (``docs/notifications.md``)."""
    return bool(settings.NOTIFICATION_EMAIL_ENABLED)


def notify(
    recipients: Iterable[User],
    *,
    kind: str,
    conversation: Conversation | None,
    text: str,
    actor: User | None = None,
    event_id: int | None = None,
) -> list[Notification]:
    """Notify each recipient once: not the actor, not an inactive user, and about a
    conversation only those who may see it. Mentions and breaches also wait for an email
    digest when the recipient is offline. Returns the notifications made."""
    if kind not in Notification.Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    ids = {user.pk for user in recipients if user is not None} - {actor.pk if actor else None}
    if conversation is not None:
        ids = set(users_who_may_see(conversation).filter(pk__in=ids).values_list("pk", flat=True))
    else:
        ids = set(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    if event_id is not None:
        # Idempotent by event: a second handling of the same event makes nothing new.
        ids -= set(
            Notification.objects.filter(event_id=event_id, kind=kind, user_id__in=ids).values_list(
                "user_id", flat=True
            )
        )
    if not ids:
        return []
    text = " ".join(text.split())[:MAX_TEXT] or _("Notification")
    emailing = _email_recipients(ids) if kind in EMAIL_KINDS else set()
    now = timezone.now()
    made = Notification.objects.bulk_create(
        Notification(
            user_id=pk,
            kind=kind,
            conversation=conversation,
            actor=actor,
            event_id=event_id,
            text=text,
            created_at=now,
            email_pending=pk in emailing,
        )
        for pk in sorted(ids)
    )
    for notification in made:
        _push(notification)
    return made


def _email_recipients(ids: set[int]) -> set[int]:
    """Those who get this by email: email configured, an address, email not turned off, and
    offline now (not online in presence)."""
    if not email_configured():
        return set()
    ids = ids - presence.online_user_ids()
    opted_out = set(
        NotificationPreference.objects.filter(user_id__in=ids, email=False).values_list(
            "user_id", flat=True
        )
    )
    with_address = set(
        User.objects.filter(pk__in=ids).exclude(email="").values_list("pk", flat=True)
    )
    return with_address - opted_out


def _push(notification: Notification) -> None:
    live.to_users_on_commit(
        [notification.user_id],
        live.notification(
            notification_id=notification.pk,
            kind=notification.kind,
            text=notification.text,
            conversation_id=notification.conversation_id,
            created_at=notification.created_at,
            unread=unread_count(notification.user_id),
        ),
    )


def unread_count(user_id: int) -> int:
    """Unread notifications, counted up to ``UNREAD_COUNT_CAP`` (the bell shows "99+")."""
    return (
        Notification.objects.filter(user_id=user_id, read_at__isnull=True)
        .order_by()
        .values("pk")[:UNREAD_COUNT_CAP]
        .count()
    )


def mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read: these ids (others' are ignored), or all when
    ``ids`` is None. Returns how many changed; the user's other tabs hear the new count."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    changed = unread.update(read_at=timezone.now(), email_pending=False)
    if changed:
        live.to_users_on_commit([user.pk], live.notifications_read(unread=unread_count(user.pk)))
    return changed


def set_preferences(
    *, user: User, browser: bool, sound: bool, email: bool, watched_teams: Iterable[Team]
) -> NotificationPreference:
    """Save the agent's choices. Only teams the agent may watch are kept (``watchable_teams``)."""
    prefs, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"browser": browser, "sound": sound, "email": email}
    )
    allowed = {team.pk for team in watchable_teams(user)}
    prefs.watched_teams.set([team for team in watched_teams if team.pk in allowed])
    return prefs


def watchable_teams(user: User):
    """Teams whose queue an agent may watch: their own (an admin: any)."""
    teams = Team.objects.all() if user.is_admin else user.teams.all()
    return teams.order_by("name")


def anyone_watches() -> bool:
    return NotificationPreference.watched_teams.through.objects.exists()


def watchers(teams: Iterable[Team]) -> list[User]:
    """Active users watching any of these teams' queues."""
    return list(
        User.objects.filter(
            is_active=True, notification_preference__watched_teams__in=list(teams)
        ).distinct()
    )


def send_test(*, user: User) -> Notification:
    """The "test" button: a real notification, through the bell, the browser and the sound."""
    return notify(
        [user],
        kind=Notification.Kind.TEST,
        conversation=None,
        text=_("This is a test notification. Notifications reach you here."),
    )[0]
