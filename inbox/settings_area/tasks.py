"""Celery tasks of the settings area: thin, they call the health service."""

from __future__ import annotations

from celery import shared_task

from inbox.models import PlatformAccount
from inbox.settings_area import health


@shared_task(ignore_result=True)
def record_handshake(platform: str, account_id: int | None = None) -> None:
    account = PlatformAccount.objects.filter(pk=account_id).first() if account_id else None
    health.record_handshake(platform, account)
