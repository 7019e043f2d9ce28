"""Notification tasks: thin, they call the digest."""

from __future__ import annotations

from celery import shared_task

from notifications import digest


@shared_task(ignore_result=True)
def send_email_digests() -> int:
    """The periodic digest pass (``parley/celery.py``)."""
    return digest.send_due_digests()
