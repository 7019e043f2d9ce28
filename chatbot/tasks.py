"""Celery tasks of the chatbot (queue ``chatbot``): thin, take ids, call the engine."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db import OperationalError, transaction
from django.utils import timezone

from chatbot import engine
from inbox.events import DomainEvent, MessageReceived
from inbox.models import Message

log = logging.getLogger(__name__)

# How far back the sweep looks for customer messages whose bot task was lost.
SWEEP_WINDOW = timedelta(minutes=10)
SWEEP_GRACE = timedelta(seconds=30)
SWEEP_SCAN = 2000


def answer_new_messages(events: list[DomainEvent]) -> None:
    """The chatbot listener (``inbox.listeners``): new customer messages go to the bot on its
    own queue, one task for the dispatch's messages, once they are committed."""
    ids = [e.message_id for e in events if isinstance(e, MessageReceived) and not e.is_system]
    if ids:
        transaction.on_commit(lambda: answer_messages.delay(ids))


@shared_task(bind=True, acks_late=True, max_retries=5, ignore_result=True)
def answer_messages(self, message_ids: list[int]) -> dict[int, str]:
    """Run after commit of new customer messages (an ingest batch's). A retry is safe: the
    BotReply row is unique per message, so a second run sends nothing."""
    try:
        return engine.answer_many(message_ids)
    except OperationalError as exc:  # database restarting, lock timeout: try again shortly
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 1))


@shared_task
def sweep_unanswered() -> int:
    """Redis keeps nothing on disk: customer messages of the last minutes without a bot
    decision get their task again. Bounded: the newest SWEEP_SCAN messages only (by id)."""
    now = timezone.now()
    recent = (
        Message.objects.filter(
            direction=Message.Direction.INBOUND,
            sender_kind=Message.SenderKind.CONTACT,
            bot_reply__isnull=True,
            # Where the bot answers (engine.UNRECORDED: nothing is recorded elsewhere).
            conversation__kind="dm",
            conversation__is_test=False,  # the settings area's test events get no bot reply
            account__bot_settings__enabled=True,
        )
        .filter(created_at__gte=now - SWEEP_WINDOW, created_at__lte=now - SWEEP_GRACE)
        .filter(pk__gte=_oldest_scanned_id())
        .values_list("pk", flat=True)
    )
    ids = list(recent)
    if ids:
        answer_messages.delay(ids)
        log.info("chatbot sweep re-enqueued %d message(s)", len(ids))
    return len(ids)


def _oldest_scanned_id() -> int:
    ids = list(Message.objects.order_by("-pk").values_list("pk", flat=True)[:SWEEP_SCAN])
    return ids[-1] if ids else 0
