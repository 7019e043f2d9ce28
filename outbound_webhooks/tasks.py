"""Celery tasks of outbound webhooks: thin, take ids (periodic one listed in parley/celery.py)."""

from __future__ import annotations

from celery import shared_task

from outbound_webhooks import sending


@shared_task(acks_late=True, ignore_result=True)
def send_delivery(delivery_id: int) -> str | None:
    """One attempt of one delivery (a no-op when it is not due: sent, claimed or paused)."""
    return sending.attempt(delivery_id)


@shared_task(ignore_result=True)
def send_due_deliveries() -> int:
    """Retries whose time has come, and first attempts whose task was lost."""
    return sending.send_due()
