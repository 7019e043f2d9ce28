"""Celery tasks of automation: thin, call the engine."""

from __future__ import annotations

from celery import shared_task

from automation import engine


@shared_task(ignore_result=True)
def run_time_rules() -> int:
    """The time triggers' pass (``parley.celery.PERIODIC_TASKS``: beat, or the embedded
    scheduler): no agent reply for N minutes, pending for N days."""
    return engine.run_time_rules()
