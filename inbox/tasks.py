"""Celery tasks: thin, take ids, call a service. Periodic ones are listed in parley/celery.py."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from inbox import availability, delivery, ingest, media, services, triggers
from inbox.models import Message, WebhookEvent
from parley import scheduler


# The outcome is kept on the WebhookEvent row; no result is stored (publishing one is a Redis
# subscription per task on the webhook's response path).
@shared_task(acks_late=True, ignore_result=True)
def process_webhooks() -> int:
    """The ingest pass: every archived webhook waiting, in batches (``inbox.ingest``)."""
    triggers.started(process_webhooks)
    return ingest.process_waiting()


@shared_task(ignore_result=True)
def refresh_report_metrics() -> int:
    """The report metrics' refresh pass (conversations marked stale by the services)."""
    from inbox.reports import metrics

    triggers.started(refresh_report_metrics)
    done = metrics.refresh_stale()
    if done == metrics.REFRESH_PASS_SIZE:
        triggers.request(refresh_report_metrics)  # more are waiting
    return done


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
    from inbox.polling import poll_accounts as run

    return run(account_id=account_id)


@shared_task
def fill_assignment_queues() -> int:
    """Hand out queued conversations of auto-assigning teams as agents free up or come online."""
    from inbox import assignment

    return assignment.fill_all_queues()


@shared_task
def requeue_from_absent_agents() -> int:
    """Open conversations of agents away or offline past the grace period go back to the queue."""
    return availability.requeue_from_absent_agents()


@shared_task(acks_late=True, ignore_result=True)
def fetch_contact_profile(identity_id: int) -> bool:
    """A contact's name and picture from the platform, once, off the webhook's path."""
    from inbox import engagement

    return engagement.fetch_contact_profile(identity_id)


@shared_task(ignore_result=True)
def send_sender_action(conversation_id: int, action: str) -> bool:
    """Seen / typing indicators: best effort, never retried."""
    from inbox import engagement

    return engagement.perform_sender_action(conversation_id, action)


@shared_task
def sla_check_timers() -> dict[str, int]:
    """The SLA pass (queue ``sla``): raise the warnings and breaches that fell due, including
    everything missed while beat or the workers were down (see inbox/sla.py for why a pass)."""
    from inbox import sla

    return sla.check_timers()


@shared_task
def sla_publish_events(event_ids: list[int]) -> int:
    """Live pushes of the warnings and breaches a pass recorded (queue ``sla``)."""
    from inbox import sla

    return sla.publish_events(event_ids)


@shared_task
def reports_sync_sla() -> int:
    """Report metrics take in SLA breaches recorded since their conversation last changed."""
    from inbox.reports import metrics

    return metrics.sync_sla_breaches()


@shared_task
def reports_update_rollups() -> int:
    """Daily report rollups take in the days completed and the openings rewritten since the
    last pass (inbox.reports.rollups.update)."""
    from inbox.reports import rollups

    return rollups.update()
