"""Benchmark: the X connector in the production shape.

A uvicorn process (PostgreSQL with psycopg's pool, Redis) and a real Celery worker (prefork, 2
processes). Three phases:

1. CRC: ``GET /webhooks/x/?crc_token=…`` at --rate requests/s (answered from settings, no
   database) — acknowledgement latency p50 / p99 / max;
2. webhooks: signed Account Activity API DMs (one per POST) at --rate requests/s —
   acknowledgement latency, and events stored per second end to end (first POST → last message
   row committed by the worker);
3. polling: one account, a fake X (127.0.0.1) holding --poll-events DM events in pages of 100;
   ``poll_accounts`` passes run in this process, as a polling worker would (tasks they schedule
   are only enqueued), until everything is stored (each pass reads at most 5 pages) — events
   applied per second and seconds per page.

Runs against its own PostgreSQL database (created, migrated, dropped) and Redis db 9; only
127.0.0.1 traffic; bounded by the counts below and a drain timeout. Usage::

    .venv/bin/python bench/x_connector.py [--crc 1000] [--singles 2000] [--poll-events 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    drop_database,
    paced,
    recreate_database,
    start_server,
    start_worker,
    stop,
    summary,
    wait_ready,
)

DB_NAME = "parley_bench_x"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/9"
CONSUMER_SECRET = "bench-x-consumer-secret"
ACCOUNT_ID = "1366009876543210496"
# Client threads sharing one pacing schedule.
THREADS = 4
PORT = 8771
ENV = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": "bench-only-secret-key",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DEBUG": "0",
    "DATABASE_POOL": "1",
    "X_CONSUMER_SECRET": CONSUMER_SECRET,
}
os.environ.update(ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")


# --- Bodies -----------------------------------------------------------------------------------


def customer(n: int, contacts: int) -> str:
    return str(1489123456789012480 + n % contacts)


def dm_body(n: int, contacts: int) -> bytes:
    sender = customer(n, contacts)
    return json.dumps(
        {
            "for_user_id": ACCOUNT_ID,
            "direct_message_events": [
                {
                    "type": "message_create",
                    "id": str(1879500000000000000 + n),
                    "created_timestamp": str(int(time.time() * 1000)),
                    "message_create": {
                        "target": {"recipient_id": ACCOUNT_ID},
                        "sender_id": sender,
                        "message_data": {
                            "text": f"My mug #{n} arrived cracked https://t.co/Ab3Cd4Ef5G",
                            "entities": {
                                "urls": [
                                    {
                                        "url": "https://t.co/Ab3Cd4Ef5G",
                                        "expanded_url": "https://example.com/photo",
                                    }
                                ]
                            },
                        },
                    },
                }
            ],
            "users": {sender: {"id": sender, "name": f"Customer {n}", "screen_name": f"c{n}"}},
        }
    ).encode()


def polled_events(count: int, contacts: int) -> list[dict]:
    """Newest first, like GET /2/dm_events."""
    events = []
    for n in reversed(range(count)):
        sender = customer(n, contacts)
        low, high = sorted((ACCOUNT_ID, sender), key=int)
        events.append(
            {
                "id": str(1879600000000000000 + n),
                "event_type": "MessageCreate",
                "text": f"Polled question #{n}",
                "sender_id": sender,
                "dm_conversation_id": f"{low}-{high}",
                "created_at": "2026-01-01T10:00:00.000Z",
            }
        )
    return events


# --- Load -------------------------------------------------------------------------------------


def stored() -> int:
    from inbox.models import Message

    return Message.objects.filter(account__platform="x").count()


def drain(target: int, started: float, timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    count = stored()
    while count < target and time.monotonic() < deadline:
        time.sleep(0.25)
        count = stored()
    elapsed = time.perf_counter() - started
    return {
        "stored": count,
        "expected": target,
        "seconds": round(elapsed, 1),
        "events_stored_per_s": round(count / elapsed, 1),
    }


def webhook_phases(args, results: dict) -> None:
    import redis

    from connectors import webhooks

    redis.Redis.from_url(REDIS_URL).flushdb()
    server = start_server(PORT, {}, "bench-x-uvicorn.log")
    worker = start_worker({}, "bench-x-worker.log", concurrency=2)
    base = f"http://127.0.0.1:{PORT}"
    try:
        wait_ready(base)

        def crc(session, token):
            return session.get(
                f"{base}/webhooks/x/", params={"crc_token": token}, timeout=10
            ).status_code

        def post(session, payload):
            signature = "sha256=" + webhooks.hmac_sha256(
                CONSUMER_SECRET, payload, encoding="base64"
            )
            return session.post(
                f"{base}/webhooks/x/",
                data=payload,
                timeout=10,
                headers={
                    "x-twitter-webhooks-signature": signature,
                    "Content-Type": "application/json",
                },
            ).status_code

        # Warm-up: connections, imports, the pool, the first contacts.
        paced([dm_body(90_000_000 + i, args.contacts) for i in range(50)], 50, post, THREADS)
        drain(50, time.perf_counter(), 30)
        results["crc"] = summary(
            paced([f"crc-{i}" for i in range(args.crc)], args.rate, crc, THREADS)
        )
        baseline = stored()
        bodies = [dm_body(i, args.contacts) for i in range(args.singles)]
        started = time.perf_counter()
        results["webhook_dms"] = summary(paced(bodies, args.rate, post, THREADS))
        results["webhook_dms"].update(drain(baseline + args.singles, started, args.drain_timeout))
    finally:
        stop(server)
        stop(worker)


def polling_phase(args, results: dict) -> None:
    from django.conf import settings

    from inbox.models import PlatformAccount
    from inbox.polling import poll_accounts
    from parley.celery import app
    from tests.fakes import x as fake_x
    from tests.fakes.server import FakePlatformServer

    # As in a polling worker: what the pass schedules (chatbot, media...) goes to the Redis
    # queues (no worker is running now), so the pass itself is what is measured.
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    fake = FakePlatformServer().start()
    fake_x.install(fake)
    settings.X_API_URL = f"{fake.url}/x"
    fake_x.STATE.events[:] = polled_events(args.poll_events, args.contacts)
    fake_x.STATE.page_size = 100
    fake_x.STATE.remaining = fake_x.STATE.limit = 10_000
    account = PlatformAccount.objects.get(platform="x")
    PlatformAccount.objects.filter(pk=account.pk).update(options={"mode": "polling"})
    before = stored()
    passes, pages_before = 0, len(fake.requests)
    started = time.perf_counter()
    try:
        while stored() - before < args.poll_events and passes < 50:
            poll_accounts(account_id=account.pk)
            passes += 1
    finally:
        fake.stop()
    elapsed = time.perf_counter() - started
    pages = len(fake.requests) - pages_before
    results["polling"] = {
        "events": args.poll_events,
        "stored": stored() - before,
        "passes": passes,
        "pages": pages,
        "seconds": round(elapsed, 2),
        "events_applied_per_s": round((stored() - before) / elapsed, 1),
        "seconds_per_page_of_100": round(elapsed / max(pages, 1), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crc", type=int, default=1000)
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0, help="requests/s")
    parser.add_argument("--contacts", type=int, default=500)
    parser.add_argument("--poll-events", type=int, default=1000)
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    args = parser.parse_args()

    recreate_database(DB_NAME)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from inbox.models import PlatformAccount

    PlatformAccount.objects.create(
        platform="x",
        name="Bench X",
        external_id=ACCOUNT_ID,
        credentials={"access_token": "x-token", "consumer_secret": CONSUMER_SECRET},
    )
    results: dict = {}
    try:
        webhook_phases(args, results)
        polling_phase(args, results)
        print(json.dumps(results, indent=2))
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
