"""Celery tasks of the settings area: thin, they call the health service."""

from __future__ import annotations

import logging

from celery import current_app, shared_task
from django.db import transaction

from inbox.models import PlatformAccount
from inbox.settings_area import health

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def record_handshake(platform: str, account_id: int | None = None) -> None:
    account = PlatformAccount.objects.filter(pk=account_id).first() if account_id else None
    health.record_handshake(platform, account)


def record_handshake_later(platform: str, account_id: int | None = None) -> None:
    """``health.record_handshake`` off the answer's path, for handshakes answered without
    touching the database (X's CRC and LinkedIn's challenge want a fast answer): a worker records
    it; with no broker (the embedded default runs tasks in-process) this process records it once
    the request's work commits. Never raises: a broker hiccup loses only this bookkeeping."""
    try:
        if current_app.conf.task_always_eager:
            transaction.on_commit(lambda: record_handshake(platform, account_id))
            return
        record_handshake.delay(platform, account_id)
    except Exception:  # noqa: BLE001 - the handshake's answer matters more
        log.exception("could not queue the %s handshake record", platform)
