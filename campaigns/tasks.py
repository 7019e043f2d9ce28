"""Celery entry points of campaigns (the schedule is ``parley.celery.PERIODIC_TASKS``)."""

from __future__ import annotations

from celery import shared_task

from campaigns import services


@shared_task
def advance_campaigns() -> int:
    """Start due campaigns and queue the messages whose turn came."""
    return services.advance()
