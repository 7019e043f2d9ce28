"""Importing an account's recent history from its platform, as closed history.

When an account is connected (or on demand) its connector reads the platform's history page by
page, newest first, back to ``HISTORY_IMPORT_DAYS`` ago (X keeps 30 days). Each page goes through
the same duplicate-safe intake as webhooks (``services.receive_messages``, ``inbound.record_echo``)
marked as history: threads it opens are resolved, nobody's queue or SLA clock moves, no bot
answers, and reports leave imported messages out (``Message.imported``, ``DomainEvent.history``).

A page and the cursor after it are saved in one transaction, so an import resumes where it
stopped after a reload, a worker restart (``resumable`` for the sweep) or a platform's rate limit
(``not_before``). ``inbox.tasks.import_history_page`` runs the pages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from connectors import base as events
from connectors.base import DeliveryError
from connectors.registry import get_connector
from inbox import formatting, inbound, services
from inbox.models import HistoryImport, Message, PlatformAccount, User
from inbox.settings_area import audit

log = logging.getLogger(__name__)

# A transient failure is retried after this, doubling, and the import fails after MAX_FAILURES.
RETRY_BACKOFF = timedelta(seconds=30)
MAX_FAILURES = 6
# An active import unchanged for this long has lost its task: the sweep runs its next page.
STALLED_AFTER = timedelta(minutes=2)


class ImportRefused(Exception):
    """Why an import cannot start, for the admin."""


def start(*, account: PlatformAccount, actor: User | None) -> HistoryImport:
    """Start importing the account's history (the running import, if there is one)."""
    if not available(account):
        raise ImportRefused(
            f"{account.get_platform_display()} offers no history for this account"
            " (it needs its access token)."
        )
    with transaction.atomic():
        PlatformAccount.objects.select_for_update().filter(pk=account.pk).first()
        running = HistoryImport.objects.filter(
            account=account, status__in=HistoryImport.ACTIVE
        ).first()
        if running is not None:
            return running
        now = timezone.now()
        started = HistoryImport.objects.create(
            account=account,
            requested_by=actor,
            since=now - timedelta(days=settings.HISTORY_IMPORT_DAYS),
            started_at=now,
            updated_at=now,
        )
        audit.record(
            actor=actor,
            action="account.history_import_started",
            target=account,
            extra={"days": settings.HISTORY_IMPORT_DAYS},
        )
    return started


def import_page(import_id: int) -> datetime | None:
    """Read and store the import's next page; when the page after it is due (None: the import
    is finished, failed, cancelled, or another worker holds it)."""
    with transaction.atomic():
        job = (
            HistoryImport.objects.select_for_update(skip_locked=True)
            .select_related("account")
            .filter(pk=import_id, status__in=HistoryImport.ACTIVE)
            .first()
        )
        if job is None:
            return None
        now = timezone.now()
        if job.not_before and job.not_before > now:
            return job.not_before
        connector = get_connector(job.account.platform)
        try:
            page = connector.history_page(job.account, dict(job.cursor or {}), job.since)
        except DeliveryError as exc:
            return _refused(job, exc, now)
        stored = apply_history(job.account, page.events)
        job.pages += 1
        job.items += page.items
        job.stored += stored
        if page.reached is not None:
            job.reached = page.reached if job.reached is None else min(job.reached, page.reached)
        job.failures = 0
        job.error = ""
        job.not_before = None
        job.updated_at = now
        if page.cursor is None:
            job.status = HistoryImport.Status.DONE
            job.finished_at = now
            job.reached = job.since
        else:
            job.status = HistoryImport.Status.RUNNING
            job.cursor = page.cursor
        job.save()
        if job.status == HistoryImport.Status.DONE:
            audit.record(
                actor=None,
                action="account.history_import_finished",
                target=job.account,
                extra={"pages": job.pages, "items": job.items, "stored": job.stored},
            )
            return None
        return now


def _refused(job: HistoryImport, exc: DeliveryError, now: datetime) -> datetime | None:
    """A page the platform refused: wait out a rate limit, retry a passing failure with
    backoff, and stop on a permanent one (the admin sees why)."""
    rate_limited = exc.retry_after is not None or exc.code in ("rate_limited", "429")
    job.updated_at = now
    job.error = exc.reason[:500]
    if rate_limited:
        job.status = HistoryImport.Status.WAITING
        job.not_before = now + timedelta(seconds=max(1.0, exc.retry_after or 60.0))
    elif exc.permanent or job.failures + 1 >= MAX_FAILURES:
        job.status = HistoryImport.Status.FAILED
        job.finished_at = now
        job.not_before = None
    else:
        job.failures += 1
        job.status = HistoryImport.Status.WAITING
        job.not_before = now + RETRY_BACKOFF * 2 ** (job.failures - 1)
    job.save()
    log.warning("history import %s of account %s: %s", job.pk, job.account_id, exc.reason)
    if job.status == HistoryImport.Status.FAILED:
        audit.record(
            actor=None,
            action="account.history_import_failed",
            target=job.account,
            extra={"reason": job.error},
        )
        return None
    return job.not_before


def apply_history(account: PlatformAccount, found: list[events.Event]) -> int:
    """Store a page's messages as closed history, oldest first; how many were new. Other event
    kinds in a page (reactions, reads) describe the past and are left out."""
    received = sorted(
        (e for e in found if isinstance(e, events.MessageReceived)), key=lambda e: e.timestamp
    )
    echoed = sorted(
        (e for e in found if isinstance(e, events.MessageEchoed)), key=lambda e: e.timestamp
    )
    ids = {e.external_id for e in [*received, *echoed]}
    known = Message.objects.filter(account=account, external_id__in=ids).count()
    if received:
        services.receive_messages(account, received, history=True)
    for event in echoed:
        inbound.record_echo(account=account, event=event, history=True)
    return len(ids) - known


def cancel(*, job: HistoryImport, actor: User) -> None:
    updated = HistoryImport.objects.filter(pk=job.pk, status__in=HistoryImport.ACTIVE).update(
        status=HistoryImport.Status.CANCELLED, finished_at=timezone.now(), not_before=None
    )
    if updated:
        audit.record(actor=actor, action="account.history_import_cancelled", target=job.account)


def resumable(now: datetime | None = None) -> QuerySet[HistoryImport]:
    """Active imports whose task was lost (no progress for ``STALLED_AFTER``) and that may run."""
    now = now or timezone.now()
    return HistoryImport.objects.filter(
        status__in=HistoryImport.ACTIVE, updated_at__lt=now - STALLED_AFTER
    ).exclude(not_before__gt=now)


def latest(account: PlatformAccount) -> HistoryImport | None:
    return account.history_imports.order_by("-started_at", "-pk").first()


def latest_progress(account: PlatformAccount) -> Progress | None:
    job = latest(account)
    return progress(job) if job is not None else None


def available(account: PlatformAccount) -> bool:
    """Whether the account's platform lets Parley read its history (with its stored token)."""
    return get_connector(account.platform).imports_history(account)


@dataclass(frozen=True)
class Progress:
    """What the admin's progress bar shows."""

    status: str
    status_label: str
    pages: int
    items: int
    stored: int
    # 0..1: how far back the import has come over its period.
    fraction: float
    # Seconds, from the pace so far; None until there is a pace to go by.
    eta_seconds: int | None
    error: str
    not_before: datetime | None
    active: bool

    @property
    def summary(self) -> str:
        """The progress in words: what the bar's caption says."""
        text = ngettext(
            "%(status)s · %(items)s item read on %(pages)s page, %(stored)s new",
            "%(status)s · %(items)s items read on %(pages)s pages, %(stored)s new",
            self.items,
        ) % {
            "status": self.status_label,
            "items": self.items,
            "pages": self.pages,
            "stored": self.stored,
        }
        if self.eta_seconds is not None and self.eta_seconds < 60:
            text += " · " + _("less than a minute left")
        elif self.eta_seconds is not None:
            text += " · " + _("about %(left)s left") % {
                "left": formatting.duration(self.eta_seconds, parts=2)
            }
        return text


def progress(job: HistoryImport, now: datetime | None = None) -> Progress:
    now = now or timezone.now()
    period = (job.started_at - job.since).total_seconds()
    if job.status == HistoryImport.Status.DONE:
        fraction = 1.0
    elif job.reached is None or period <= 0:
        fraction = 0.0
    else:
        fraction = min(1.0, max(0.0, (job.started_at - job.reached).total_seconds() / period))
    eta: int | None = None
    elapsed = (now - job.started_at).total_seconds()
    if job.status in HistoryImport.ACTIVE and 0 < fraction < 1 and elapsed > 0:
        eta = int(elapsed / fraction * (1 - fraction))
    return Progress(
        status=job.status,
        status_label=job.get_status_display(),
        pages=job.pages,
        items=job.items,
        stored=job.stored,
        fraction=round(fraction, 4),
        eta_seconds=eta,
        error=job.error,
        not_before=job.not_before,
        active=job.status in HistoryImport.ACTIVE,
    )
