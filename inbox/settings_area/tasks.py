"""Celery tasks of the settings area: thin, they call the health service."""

from __future__ import annotations

import logging

from celery import current_app, shared_task

from inbox.models import PlatformAccount
from inbox.settings_area import health

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def record_handshake(platform: str, account_id: int | None = None) -> None:
    account = PlatformAccount.objects.filter(pk=account_id).first() if account_id else None
    health.record_handshake(platform, account)


def record_handshake_later(platform: str, account_id: int | None = None) -> None:
    """``health.record_handshake`` from a Celery task, for handshakes answered without touching
    the database (X's CRC, LinkedIn's challenge). Never raises: a broker hiccup loses only this
    bookkeeping. Without a broker (the embedded default runs tasks in-process) nothing is
    recorded: the answer's path stays free of queries, and a platform cannot reach a machine
    running the embedded default anyway."""
    try:
        if current_app.conf.task_always_eager:
            log.debug("%s handshake not recorded: no task broker", platform)
            return
        record_handshake.delay(platform, account_id)
    except Exception:  # noqa: BLE001 - the handshake's answer matters more
        log.exception("could not queue the %s handshake record", platform)
