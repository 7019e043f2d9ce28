"""Email digests: mentions and SLA breaches that reached an agent while they were offline,
gathered into one email per agent by a periodic pass (``tasks.send_email_digests``).

A notification waits (``email_pending``) from its making; the pass mails an agent once their
oldest waiting one is ``NOTIFICATION_DIGEST_MINUTES`` old, so a burst makes one email. What
the agent read meanwhile is left out. A failed send is rolled back and retried by the next
pass; the rows are claimed with SKIP LOCKED so two passes never mail the same ones.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Min
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import ngettext

from inbox.models import User
from notifications.models import Notification

log = logging.getLogger(__name__)

# At most this many notifications in one email; the rest go in the next one.
DIGEST_SIZE = 50


def due_user_ids(now: datetime | None = None) -> list[int]:
    """Agents whose oldest waiting notification is old enough for the digest."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.NOTIFICATION_DIGEST_MINUTES)
    return list(
        Notification.objects.filter(email_pending=True)
        .values("user_id")
        .annotate(oldest=Min("created_at"))
        .filter(oldest__lte=cutoff)
        .values_list("user_id", flat=True)
    )


def send_due_digests(now: datetime | None = None) -> int:
    """One digest per agent that has one due; returns how many emails left."""
    sent = 0
    for user_id in due_user_ids(now):
        try:
            sent += send_digest(user_id, now=now)
        except Exception:  # noqa: BLE001 - SMTP down: the next pass tries again, others still go
            log.exception("notification digest for user %s not sent", user_id)
    return sent


def send_digest(user_id: int, *, now: datetime | None = None) -> int:
    """Mail this agent what waits for them (1), or nothing (0). Sent inside the transaction
    that clears the rows: a failed send leaves them waiting."""
    now = now or timezone.now()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    with transaction.atomic():
        waiting = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(user_id=user_id, email_pending=True)
            .order_by("id")[:DIGEST_SIZE]
        )
        if not waiting:
            return 0
        unread = [n for n in waiting if n.read_at is None]
        Notification.objects.filter(pk__in=[n.pk for n in waiting]).update(email_pending=False)
        if user is None or not user.email or not unread:
            return 0
        Notification.objects.filter(pk__in=[n.pk for n in unread]).update(emailed_at=now)
        _message(user, unread).send()
    log.info("notification digest of %d sent to user %s", len(unread), user_id)
    return 1


def _link(notification: Notification) -> str:
    path = f"/conversations/{notification.conversation_id}/" if notification.conversation_id else ""
    base = (settings.PUBLIC_BASE_URL or "").rstrip("/")
    return f"{base}{path}" if path and base else path


def _message(user: User, notifications: list[Notification]) -> EmailMultiAlternatives:
    context = {
        "user": user,
        "items": [{"text": n.text, "link": _link(n), "at": n.created_at} for n in notifications],
        "profile": f"{(settings.PUBLIC_BASE_URL or '').rstrip('/')}/profile/",
    }
    subject = ngettext(
        "Parley: %(count)d notification while you were away",
        "Parley: %(count)d notifications while you were away",
        len(notifications),
    ) % {"count": len(notifications)}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("notifications/email/digest.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string("notifications/email/digest.html", context), "text/html"
    )
    return message
