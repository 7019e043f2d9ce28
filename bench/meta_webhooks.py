"""Benchmark: signed Messenger webhooks into the production shape.

Uvicorn as the compose file runs it (2 processes; PostgreSQL with psycopg's pool, Redis)
receives signed ``POST /webhooks/meta/`` bodies from paced client threads (16 threads share
one schedule, so up to 16 requests are in flight); real Celery workers as the compose file
runs them (``ingest`` on its own; the other queues on a prefork worker of concurrency 4; both at
nice 10) ingest them from Redis, fetching each new contact's
profile from a fake Graph API on 127.0.0.1 (in its own process). Three phases, each
measured on the same server:

1. floor: the same server answering a trivial 200 (a plain Django view, no database; added by
   ``bench/meta_floor_settings.py`` for the benchmark only);
2. singles: one event per POST at --rate requests/s;
3. batches: 50 events per POST at --batch-rate requests/s.

For each: acknowledgement latency p50 / p99 / max as the client sees it; for 2 and 3, events
stored per second end to end: message rows committed by the worker, counted from the phase's
first POST until all are stored or the drain timeout passes (the rest is then dropped, and
reported, so the next phase is measured on its own).
Contacts cycle over --contacts PSIDs, so most events go to existing conversations.

Runs against its own PostgreSQL database (created, migrated, dropped) and Redis db 7; only
127.0.0.1 traffic; bounded by the counts below and a drain timeout. Usage::

    .venv/bin/python bench/meta_webhooks.py [--singles 5000] [--batches 400]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
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
    start_workers,
    stop,
    summary,
    wait_ready,
)

DB_NAME = "parley_bench_meta"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
# Another Redis db where db 7 is busy (e.g. a test suite using it): BENCH_REDIS.
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/7")
APP_SECRET = "bench-meta-app-secret"
VERIFY_TOKEN = "bench-verify-token"
PAGE_ID = "106917238123456"
PORT = 8767
# Client threads sharing one pacing schedule (up to this many requests in flight).
THREADS = 16
ENV = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": "bench-only-secret-key",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DEBUG": "0",
    "DATABASE_POOL": "1",
    "META_APP_SECRET": APP_SECRET,
    "META_VERIFY_TOKEN": VERIFY_TOKEN,
}
os.environ.update(ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")


FAKE_GRAPH = """
import time
from tests.fakes import meta
from tests.fakes.server import FakePlatformServer
server = FakePlatformServer().start()
meta.install(server)
print(server.url, flush=True)
while True:
    time.sleep(3600)
"""


# --- Bodies -----------------------------------------------------------------------------------


def event(n: int, contacts: int, now_ms: int) -> dict:
    psid = f"69{n % contacts:014d}"
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms,
        "message": {"mid": f"m_bench_{n:08d}", "text": f"Where is my order #{n}? \u2013 thanks"},
    }


def body(first: int, count: int, contacts: int) -> bytes:
    now_ms = int(time.time() * 1000)
    # Meta's batching is across entries (one messaging item each).
    entries = [
        {"id": PAGE_ID, "time": now_ms, "messaging": [event(n, contacts, now_ms)]}
        for n in range(first, first + count)
    ]
    return json.dumps({"object": "page", "entry": entries}).encode()


# --- Load -------------------------------------------------------------------------------------


def stored_count() -> int:
    from inbox.models import Message

    return Message.objects.filter(direction="inbound").count()


def drain(baseline: int, target: int, started: float, timeout: float) -> dict:
    """Wait until ``target`` inbound messages are stored (or ``timeout``); events/s from the
    phase's first POST."""
    deadline = time.monotonic() + timeout
    count = stored_count()
    while count < target and time.monotonic() < deadline:
        time.sleep(0.25)
        count = stored_count()
    elapsed = time.perf_counter() - started
    stored = count - baseline
    result = {
        "stored": stored,
        "expected": target - baseline,
        "seconds": round(elapsed, 1),
        "events_stored_per_s": round(stored / elapsed, 1),
    }
    if count >= target:
        # The report metrics follow in their own pass (debounced): when are they current?
        from inbox.models import Conversation

        while Conversation.objects.filter(metrics_stale_since__isnull=False).exists():
            if time.monotonic() > deadline + 60:
                break
            time.sleep(0.25)
        result["report_metrics_current_after_s"] = round(time.perf_counter() - started, 1)
    if count < target:
        # Not drained in time: drop the backlog so the next phase is measured on its own.
        from parley.celery import app

        app.control.purge()
        time.sleep(2)
        result["backlog_dropped"] = True
    return result


def run(args) -> dict:
    from connectors.meta.webhook import SIGNATURE_HEADER, sign
    from inbox.models import PlatformAccount

    # The fake Graph API in its own process: profile fetches must not wait on the load
    # generator's threads (in production the Graph API is elsewhere).
    fake = subprocess.Popen(
        [sys.executable, "-c", FAKE_GRAPH],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    fake_url = fake.stdout.readline().strip()
    PlatformAccount.objects.create(
        platform="messenger",
        name="Bench Page",
        external_id=PAGE_ID,
        credentials={"page_access_token": "bench-token"},
    )
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {"META_GRAPH_URL": f"{fake_url}/meta/v21.0"}
    # The compose file's shape: two uvicorn processes, the ingest worker and a worker of
    # concurrency 4 on the other queues (``--one-worker``: one on every queue). The server
    # also answers the floor view (bench.meta_floor_settings).
    floor_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.meta_floor_settings"}
    server = start_server(PORT, floor_env, "bench-meta-uvicorn.log", workers=2)
    workers = start_workers(
        env,
        "bench-meta",
        concurrency=4,
        worker_nice=args.worker_nice,
        ingest_nice=args.ingest_nice,
        one_worker=args.one_worker,
    )
    base = f"http://127.0.0.1:{PORT}"
    results: dict = {}
    try:
        wait_ready(base)
        floor_url = f"{base}/bench/floor/"

        def get(session, url):
            return session.get(url, timeout=10).status_code

        def post(session, payload):
            return session.post(
                f"{base}/webhooks/meta/",
                data=payload,
                timeout=10,
                headers={
                    SIGNATURE_HEADER: sign(APP_SECRET, payload),
                    "Content-Type": "application/json",
                },
            ).status_code

        # Warm-up: connections, imports, the pool, the first contact rows.
        paced([body(90_000_000 + i, 1, args.contacts) for i in range(50)], 50, post, THREADS)
        drain(0, 50, time.perf_counter(), 60)
        baseline = stored_count()

        results["floor"] = summary(paced([floor_url] * args.floor, args.rate, get, THREADS))

        singles = [body(i, 1, args.contacts) for i in range(args.singles)]
        started = time.perf_counter()
        results["singles"] = summary(paced(singles, args.rate, post, THREADS))
        results["singles"].update(
            drain(baseline, baseline + args.singles, started, args.drain_timeout)
        )
        results["singles"]["events"] = args.singles

        floor_p99 = results["floor"]["p99_ms"]
        results["singles"]["p99_over_floor_p99"] = round(
            results["singles"]["p99_ms"] / floor_p99, 1
        )
        if not args.batches:
            return results
        baseline = stored_count()
        first = 10_000_000
        batches = [body(first + i * 50, 50, args.contacts) for i in range(args.batches)]
        started = time.perf_counter()
        results["batches_of_50"] = summary(paced(batches, args.batch_rate, post, THREADS))
        results["batches_of_50"].update(
            drain(baseline, baseline + args.batches * 50, started, args.drain_timeout)
        )
        results["batches_of_50"]["events"] = args.batches * 50
    finally:
        stop(server)
        for worker in workers:
            stop(worker)
        stop(fake)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--singles", type=int, default=5000)
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--floor", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s for singles")
    # 4 000 events/s offered: more than the worker stores, so the figure is its capacity.
    parser.add_argument("--batch-rate", type=float, default=80.0, help="requests/s for batches")
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument(
        "--worker-nice", type=int, default=10, help="the worker's nice (compose: 10; 0 = equal)"
    )
    parser.add_argument(
        "--ingest-nice", type=int, default=10, help="the ingest worker's nice (compose: 10)"
    )
    parser.add_argument(
        "--one-worker",
        action="store_true",
        help="one worker on every queue (the compose shape before the ingest worker)",
    )
    parser.add_argument("--drain-timeout", type=float, default=60.0)
    args = parser.parse_args()

    recreate_database(DB_NAME)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        results = run(args)
        print(json.dumps(results, indent=2))
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
