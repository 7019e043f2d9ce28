"""The ingest pass: a batch that fails is applied one by one, each row claimed again as the
batch claims it (its rollback released them to the other workers' passes)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from connectors import base as events
from inbox import ingest
from inbox.models import Message, WebhookEvent
from tests.helpers import sandbox_body

# Real commits: another pass runs on a connection of its own.
pytestmark = pytest.mark.django_db(transaction=True)


def _archive(account, text: str) -> WebhookEvent:
    return WebhookEvent.objects.create(
        source="sandbox",
        account=account,
        body=sandbox_body(message_id=f"m-{text}", text=text),
        signature_valid=True,
    )


def test_a_failed_batch_applied_one_by_one_is_not_taken_by_another_pass(account, monkeypatch):
    good = [_archive(account, f"good {n}") for n in range(3)]
    poisoned = _archive(account, "poison")
    receive = ingest.BATCH_HANDLERS[events.MessageReceived]
    other_pass: list[int] = []

    def run_other_pass() -> None:
        try:
            other_pass.append(ingest.process_waiting())
        finally:
            connection.close()

    def flaky_receive(account, run):
        if any(e.text == "poison" for e in run):
            raise RuntimeError("poisoned body")
        fallback = len(run) == 1 and threading.current_thread() is threading.main_thread()
        if fallback and not other_pass:
            # The fallback is applying its first row: another worker's pass runs meanwhile.
            thread = threading.Thread(target=run_other_pass)
            thread.start()
            thread.join(timeout=30)
            assert not thread.is_alive()
        return receive(account, run)

    monkeypatch.setitem(ingest.BATCH_HANDLERS, events.MessageReceived, flaky_receive)

    assert ingest.process_waiting() == 4

    # The other pass took only what the fallback did not hold (the rows after the first).
    assert other_pass == [3]
    for webhook in good:
        webhook.refresh_from_db()
        assert (webhook.outcome, webhook.attempts) == (WebhookEvent.Outcome.PROCESSED, 1)
    poisoned.refresh_from_db()
    assert (poisoned.outcome, poisoned.attempts) == (WebhookEvent.Outcome.FAILED, 1)
    assert poisoned.error == "RuntimeError: poisoned body"
    assert sorted(Message.objects.values_list("text", flat=True)) == [
        "good 0",
        "good 1",
        "good 2",
    ]
