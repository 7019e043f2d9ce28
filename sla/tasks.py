"""The SLA's Celery tasks (queue ``sla``, scheduled in ``parley.celery.PERIODIC_TASKS``)."""

from __future__ import annotations

from celery import shared_task

from sla import timers


@shared_task
def check_timers() -> dict[str, int]:
    """The SLA pass: raise the warnings and breaches that fell due, including everything missed
    while beat or the workers were down (see sla/timers.py for why a pass)."""
    return timers.check_timers()
