"""Rewrite the daily report rollups from the metric rows: after ``rebuild_report_metrics``, an
import that bypassed the services, or to take the rollups out of Celery beat's hands now."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from reports import rollups


class Command(BaseCommand):
    help = "Rebuild the daily report rollups (every day up to yesterday) from the metric rows."

    def handle(self, *args, **options):
        started = time.perf_counter()
        days = rollups.rebuild()
        state = rollups.state()
        self.stdout.write(
            self.style.SUCCESS(
                f"done: {days} days rolled up in {time.perf_counter() - started:.1f} s "
                f"(through {state.through_day if state else '-'}, "
                f"time zone {state.time_zone if state else '-'})"
            )
        )
