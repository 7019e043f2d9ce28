"""The Celery application. Periodic tasks are declared once, here."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")

app = Celery("parley")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Database connections in the worker. Celery's Django fixup closes them at every task boundary,
# and under prefork with Django's connection pool it closes the pool itself (celery/celery#10554):
# every task opened new connections, a PostgreSQL backend forked for each (200 a second in a
# webhook burst). The fixup now recycles them once per this many tasks; between tasks they are
# checked as Django checks them between requests (``_check_connections``).
app.conf.CELERY_DB_REUSE_MAX = 1000


@task_prerun.connect
@task_postrun.connect
def _check_connections(task=None, **kwargs) -> None:
    """A broken or expired connection is closed (with the pool: returned to it) between tasks,
    as ``close_old_connections`` does between requests. Not for eager tasks: those run inside
    their caller's request and transaction."""
    if task is not None and not getattr(task.request, "is_eager", False):
        from django.db import close_old_connections

        close_old_connections()


# Every periodic task of Parley, in one place. Beat runs it once for a deployment with a broker;
# the embedded default has none, and its ASGI process runs the same list (parley.scheduler).
PERIODIC_TASKS: dict[str, tuple[str, float]] = {
    "reports-sync-sla": ("reports.tasks.sync_sla_breaches", 60.0),
    # Kicked after each write; this catches a kick whose task was lost.
    "reports-refresh-metrics": ("reports.metrics.refresh_report_metrics", 30.0),
    "reports-update-rollups": ("reports.tasks.update_rollups", 60.0),
    "requeue-stalled-work": ("inbox.tasks.requeue_stalled_work", 30.0),
    "reopen-snoozed": ("inbox.tasks.reopen_snoozed_conversations", 30.0),
    "poll-accounts": ("inbox.tasks.poll_accounts", 60.0),
    "fill-assignment-queues": ("inbox.tasks.fill_assignment_queues", 30.0),
    # Away or offline agents' open conversations back to the queue after a grace period.
    "requeue-from-absent-agents": ("inbox.tasks.requeue_from_absent_agents", 60.0),
    # SLA warnings and breaches: a pass over due rows rather than ETA tasks (why: sla/timers.py);
    # a pass also catches up on everything that fell due while beat was down.
    "sla-check-timers": ("sla.tasks.check_timers", 15.0),
    # Domain events a durable listener has no receipt for (a lost dispatch) are dispatched again.
    "listener-sweep": ("inbox.listeners.sweep_unhandled_events", 30.0),
    # Customer messages whose chatbot task was lost (Redis restarted) get it again.
    "chatbot-sweep": ("chatbot.tasks.sweep_unanswered", 60.0),
    # History imports whose page task was lost go on where they stopped (inbox.history).
    "resume-history-imports": ("inbox.tasks.resume_history_imports", 30.0),
    # Outbound webhook deliveries whose retry is due, or whose first task was lost.
    "webhooks-send-due": ("outbound_webhooks.tasks.send_due_deliveries", 10.0),
    # Old webhook bodies leave the archive (WEBHOOK_ARCHIVE_DAYS, WEBHOOK_ARCHIVE_FAILED_DAYS).
    "prune-webhook-archive": ("inbox.tasks.prune_webhook_archive", 3600.0),
    # Mentions and SLA breaches that reached offline agents, mailed as one digest per agent.
    "notification-email-digests": ("notifications.tasks.send_email_digests", 60.0),
    # Automation rules with time triggers: no agent reply for N minutes, pending for N days.
    "automation-time-rules": ("automation.tasks.run_time_rules", 60.0),
    # Outreach lists' owners reminded of handles that have not replied (outreach/).
    "outreach-follow-up-reminders": ("outreach.tasks.follow_up_reminders", 300.0),
}

app.conf.beat_schedule = {
    name: {"task": task, "schedule": seconds} for name, (task, seconds) in PERIODIC_TASKS.items()
}
