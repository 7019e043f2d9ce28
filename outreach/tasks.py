"""Outreach's periodic work (declared in ``parley.celery.PERIODIC_TASKS``)."""

from __future__ import annotations

from celery import shared_task

from outreach import services


@shared_task(ignore_result=True)
def follow_up_reminders() -> int:
    """Owners of outreach lists hear about handles that have not replied in time."""
    return services.remind_follow_ups()
