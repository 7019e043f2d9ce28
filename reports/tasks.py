"""The reports' periodic Celery tasks (scheduled in ``parley.celery.PERIODIC_TASKS``); the
metrics' own refresh pass is ``reports.metrics.refresh_report_metrics``."""

from __future__ import annotations

from celery import shared_task

from reports import metrics, rollups


@shared_task
def sync_sla_breaches() -> int:
    """Report metrics take in SLA breaches recorded since their conversation last changed."""
    return metrics.sync_sla_breaches()


@shared_task
def update_rollups() -> int:
    """Daily report rollups take in the days completed and the openings rewritten since the
    last pass (reports.rollups.update)."""
    return rollups.update()
