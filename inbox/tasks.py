"""Celery tasks: thin, take ids, call a service. Periodic ones are listed in parley/celery.py."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inbox import (
    assignment,
    availability,
    delivery,
    history,
    ingest,
    media,
    polling,
    services,
    triggers,
)
from inbox.events import DomainEvent, MessageReceived, MessageSent
from inbox.models import Attachment, HistoryImport, Message, PlatformAccount, User, WebhookEvent
from parley import scheduler


# The outcome is kept on the WebhookEvent row; no result is stored (publishing one is a Redis
# subscription per task on the webhook's response path).
@shared_task(acks_late=True, ignore_result=True)
def process_webhooks() -> int:
    """The ingest pass: every archived webhook waiting, in batches (``inbox.ingest``)."""
    triggers.started(process_webhooks)
    return ingest.process_waiting()


@shared_task(acks_late=True)
def deliver_message(message_id: int) -> str | None:
    status = delivery.deliver(message_id)
    if status != "queued":
        return status
    due = Message.objects.filter(pk=message_id).values_list("next_attempt_at", flat=True).first()
    if due is not None and settings.CELERY_TASK_ALWAYS_EAGER:
        # No broker: this process's scheduler retries it when due (without one, the sweep).
        scheduler.call_at(due, deliver_message, message_id)
    elif due is not None:
        # Retries are short (minutes at most); longer waits are picked up by the sweep.
        deliver_message.apply_async((message_id,), eta=due)
    return status


def deliver_queued(events: list[DomainEvent]) -> None:
    """The delivery listener (``inbox.listeners``): a reply queued in Parley is sent once it
    is committed (``requeue_stalled_work`` finds one whose task was lost)."""
    ids = [e.message_id for e in events if isinstance(e, MessageSent) and not e.outside_parley]
    if ids:
        transaction.on_commit(lambda: [deliver_message.delay(pk) for pk in ids])


def fetch_new_media(events: list[DomainEvent]) -> None:
    """The media listener: attachments of new messages from the platform (a customer's, or one
    sent from the platform's own tools) are copied into storage, each in its own task."""
    messages = [
        e.message_id
        for e in events
        if (isinstance(e, MessageReceived) and not e.is_system)
        or (isinstance(e, MessageSent) and e.outside_parley)
    ]
    ids = list(
        Attachment.objects.filter(message_id__in=messages, store_media=True, file="")
        .exclude(url="")
        .values_list("pk", flat=True)
    )
    if ids:
        transaction.on_commit(lambda: [fetch_attachment_media.delay(pk) for pk in ids])


@shared_task(acks_late=True)
def fetch_attachment_media(attachment_id: int) -> bool:
    return media.store_attachment_media(attachment_id)


@shared_task
def requeue_stalled_work() -> dict[str, int]:
    """Redis keeps nothing on disk: anything whose task was lost is found in PostgreSQL again."""
    due = delivery.due_messages()
    for message_id in due:
        deliver_message.delay(message_id)
    cutoff = timezone.now() - timezone.timedelta(minutes=1)
    stalled = WebhookEvent.objects.filter(
        outcome=WebhookEvent.Outcome.RECEIVED, received_at__lt=cutoff, attempts__lt=5
    ).count()
    if stalled:
        triggers.request(process_webhooks)
    return {"messages": len(due), "webhooks": stalled}


@shared_task(ignore_result=True)
def prune_webhook_archive() -> int:
    """The webhook archive's retention (``WEBHOOK_ARCHIVE_DAYS``, ``WEBHOOK_ARCHIVE_FAILED_DAYS``)."""
    return ingest.prune_archive()


@shared_task
def reopen_snoozed_conversations() -> int:
    return services.reopen_snoozed()


@shared_task
def poll_accounts(account_id: int | None = None) -> dict[int, str]:
    return polling.poll_accounts(account_id=account_id)


@shared_task
def fill_assignment_queues() -> int:
    """Hand out queued conversations of auto-assigning teams as agents free up or come online."""
    return assignment.fill_all_queues()


@shared_task
def requeue_from_absent_agents() -> int:
    """Open conversations of agents away or offline past the grace period go back to the queue."""
    return availability.requeue_from_absent_agents()


# --- History import ----------------------------------------------------------------------------


@shared_task(acks_late=True, ignore_result=True)
def import_history_page(import_id: int) -> None:
    """One page of a history import, then the next one when it is due."""
    due = history.import_page(import_id)
    if due is not None:
        _import_history_at(import_id, due)


def _import_history_at(import_id: int, due: datetime) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No broker: this process's scheduler runs it (off the request); without one (a
        # management command) the sweep does.
        scheduler.call_at(due, import_history_page, import_id)
    else:
        import_history_page.apply_async((import_id,), eta=due)


def start_history_import(*, account: PlatformAccount, actor: User | None) -> HistoryImport:
    """``history.start``, its first page queued once the import is committed."""
    job = history.start(account=account, actor=actor)
    transaction.on_commit(lambda: _import_history_at(job.pk, timezone.now()))
    return job


@shared_task(ignore_result=True)
def resume_history_imports() -> int:
    """Imports whose page task was lost (a worker restart, Redis emptied) go on."""
    resumed = list(history.resumable().values_list("pk", flat=True))
    for pk in resumed:
        _import_history_at(pk, timezone.now())
    return len(resumed)
