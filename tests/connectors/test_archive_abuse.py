"""The webhook archive is not a disk filler: unsigned bodies keep 1 KB, rejected requests are
limited per source address (across processes), and a retention pass prunes old bodies."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest
import requests
from django.test import RequestFactory
from django.utils import timezone
from django.utils.module_loading import import_string
from django_ratelimit.core import get_usage

from inbox.models import Message, WebhookEvent
from parley.celery import PERIODIC_TASKS
from tests.helpers import committed, post_sandbox, sandbox_body

pytestmark = pytest.mark.django_db


def test_unsigned_body_keeps_headers_size_hash_and_the_first_kb(client, account):
    body = sandbox_body(text="x" * 200_000)

    response = post_sandbox(client, account, body, secret="not-the-secret")

    assert response.status_code == 403
    archived = WebhookEvent.objects.get()
    assert archived.outcome == WebhookEvent.Outcome.REJECTED
    assert bytes(archived.body) == body[:1024]
    assert archived.body_size == len(body)
    assert archived.body_sha256 == hashlib.sha256(body).hexdigest()
    assert archived.headers["x-sandbox-signature"].startswith("sha256=")


def test_signed_body_is_still_kept_whole(client, account):
    body = sandbox_body(text="y" * 5000)
    assert post_sandbox(client, account, body).status_code == 200
    archived = WebhookEvent.objects.get()
    assert bytes(archived.body) == body
    assert archived.body_size == len(body)


def test_rejected_posts_past_the_rate_get_429_and_are_not_kept(client, account, settings):
    settings.WEBHOOK_REJECTED_RATE = "2/m"

    answers = [
        post_sandbox(client, account, sandbox_body(), secret="wrong").status_code for _ in range(4)
    ]

    assert answers == [403, 403, 429, 429]
    assert WebhookEvent.objects.count() == 2
    # The platform's own signed deliveries from that address still go through.
    with committed():
        assert post_sandbox(client, account, sandbox_body(text="real")).status_code == 200
    assert Message.objects.get().text == "real"
    # Another address is counted on its own.
    other = client.post(
        f"/webhooks/sandbox/{account.pk}/",
        data=sandbox_body(),
        content_type="application/json",
        REMOTE_ADDR="198.51.100.7",
    )
    assert other.status_code == 403


def test_handshake_limit_is_shared_with_other_web_processes(live_server_process, client):
    """Requests counted in this process count in the uvicorn process too (the shared cache)."""
    from django.conf import settings

    rate = settings.WEBHOOK_HANDSHAKE_RATE  # the live process runs with the same default
    limit = int(rate.split("/")[0])
    probe = RequestFactory().get("/webhooks/x/")
    usage = get_usage(probe, group="webhooks-handshake", key="ip", rate=rate, increment=False)
    if usage["time_left"] < 10:
        time.sleep(usage["time_left"] + 1)  # not across a window boundary

    for _ in range(limit):
        assert client.get("/webhooks/x/", {"crc_token": "abc"}).status_code != 429

    answer = requests.get(
        f"{live_server_process.url}/webhooks/x/", params={"crc_token": "abc"}, timeout=10
    )
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) >= 1


# --- Retention --------------------------------------------------------------------------------


def _archived(outcome: str, days_old: int) -> WebhookEvent:
    return WebhookEvent.objects.create(
        source="sandbox",
        body=b"{}",
        outcome=outcome,
        received_at=timezone.now() - timedelta(days=days_old, hours=1),
    )


def test_retention_task_prunes_old_bodies_and_keeps_failed_ones_longer(settings):
    Outcome = WebhookEvent.Outcome
    kept = [
        _archived(Outcome.PROCESSED, 29),
        _archived(Outcome.FAILED, 31),
        _archived(Outcome.FAILED, 89),
        # Never applied yet: never pruned, however old.
        _archived(Outcome.RECEIVED, 400),
    ]
    pruned = [
        _archived(Outcome.PROCESSED, 30),
        _archived(Outcome.IGNORED, 45),
        _archived(Outcome.REJECTED, 31),
        _archived(Outcome.FAILED, 90),
    ]

    # The periodic task as beat (and the embedded default's scheduler) runs it.
    task_path, interval = PERIODIC_TASKS["prune-webhook-archive"]
    assert import_string(task_path)() == len(pruned)

    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {w.pk for w in kept}
    assert interval <= 24 * 3600


def test_retention_days_are_settings(settings):
    settings.WEBHOOK_ARCHIVE_DAYS = 7
    settings.WEBHOOK_ARCHIVE_FAILED_DAYS = 14
    processed = _archived(WebhookEvent.Outcome.PROCESSED, 8)
    failed_recent = _archived(WebhookEvent.Outcome.FAILED, 8)
    failed_old = _archived(WebhookEvent.Outcome.FAILED, 15)

    import_string(PERIODIC_TASKS["prune-webhook-archive"][0])()

    remaining = set(WebhookEvent.objects.values_list("pk", flat=True))
    assert remaining == {failed_recent.pk}
    assert processed.pk not in remaining and failed_old.pk not in remaining
