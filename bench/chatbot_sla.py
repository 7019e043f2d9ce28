"""Benchmark: chatbot reply latency and the SLA timer pass.

1. Bot reply latency: a signed Messenger webhook POSTed to a uvicorn process; ingestion, the
   chatbot (FAQ match) and delivery run on a real Celery worker over Redis; the clock stops
   when the bot's Send API request reaches a fake Graph API server on 127.0.0.1. One message at
   a time (latency, not throughput), each from a new contact. p50 / p99 over --messages.
2. The SLA pass (``sla.timers.check_timers``) over --conversations open conversations with
   running timers: with nothing due, with 1 % due, and a catch-up with 10 % due.

Runs against its own PostgreSQL database (created, migrated, dropped) and Redis db 5; only
127.0.0.1 traffic. Usage::

    .venv/bin/python bench/chatbot_sla.py [--messages 500] [--conversations 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    drop_database,
    percentile,
    recreate_database,
    start_server,
    start_worker,
    wait_ready,
)

DB_NAME = "parley_bench_bot"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/5"
APP_SECRET = "bench-app-secret"
PAGE_ID = "106917238123456"
ENV = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": "bench-only-secret-key",
    "PARLEY_TESTING": "1",  # local hosts allowed, quiet logs
    "DATABASE_POOL": "1",  # the production shape: psycopg's pool in web and worker
    "DEBUG": "0",
}
os.environ.update(ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")


# --- 1. Bot reply latency ---------------------------------------------------------------------


class Arrivals:
    """What the fake Graph API saw: arrival time of each bot send, by recipient."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.wall: dict[str, float] = {}
        self.event = threading.Event()
        self.lock = threading.Lock()

    def handler(self, request, match):
        from tests.fakes.server import Reply

        body = request.json() or {}
        if "message" in body:
            with self.lock:
                self.at[body["recipient"]["id"]] = time.perf_counter()
                self.wall[body["recipient"]["id"]] = time.time()
            self.event.set()
        return Reply(
            200,
            {
                "recipient_id": body.get("recipient", {}).get("id", ""),
                "message_id": f"m_{uuid.uuid4().hex}",
            },
        )


def bot_latency(messages: int) -> dict[str, float]:
    import requests

    from chatbot.models import BotSettings, FaqEntry
    from connectors.meta.webhook import SIGNATURE_HEADER, sign
    from inbox.models import PlatformAccount
    from tests.fakes.server import FakePlatformServer

    arrivals = Arrivals()
    fake = FakePlatformServer().start()
    fake.route("POST", r"^/meta/v[0-9.]+/[^/]+/messages$", arrivals.handler)
    account = PlatformAccount.objects.create(
        platform="messenger",
        name="Bench Page",
        external_id=PAGE_ID,
        credentials={"page_access_token": "bench-token", "app_secret": APP_SECRET},
    )
    BotSettings.objects.create(account=account)
    FaqEntry.objects.create(
        account=account,
        question="How long does shipping take?",
        examples="when will my order arrive\nshipping time",
        answer="Orders ship within 2 working days.",
    )
    env = {"META_GRAPH_URL": f"{fake.url}/meta/v21.0"}
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    port = 8765
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    server = start_server(port, env, "bench-uvicorn.log")
    worker = start_worker(env, "bench-worker.log", concurrency=2)
    url = f"http://127.0.0.1:{port}/webhooks/meta/"
    session = requests.Session()
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        latencies: list[float] = []
        posted: dict[str, float] = {}
        lost = 0
        for i in range(messages + 20):  # the first 20 warm up connections and caches
            psid = f"bench-{i}"
            now_ms = int(time.time() * 1000)
            body = json.dumps(
                {
                    "object": "page",
                    "entry": [
                        {
                            "id": PAGE_ID,
                            "time": now_ms,
                            "messaging": [
                                {
                                    "sender": {"id": psid},
                                    "recipient": {"id": PAGE_ID},
                                    "timestamp": now_ms,
                                    "message": {
                                        "mid": f"m_bench_{i}_{uuid.uuid4().hex}",
                                        "text": "when will my order arrive?",
                                    },
                                }
                            ],
                        }
                    ],
                }
            ).encode()
            arrivals.event.clear()
            started = time.perf_counter()
            posted[psid] = time.time()
            response = session.post(
                url,
                data=body,
                timeout=10,
                headers={
                    SIGNATURE_HEADER: sign(APP_SECRET, body),
                    "Content-Type": "application/json",
                },
            )
            assert response.status_code == 200, response.text
            deadline = time.monotonic() + 5
            while psid not in arrivals.at and time.monotonic() < deadline:
                arrivals.event.wait(0.05)
                arrivals.event.clear()
            if psid not in arrivals.at:
                lost += 1
                continue
            if i >= 20:
                latencies.append((arrivals.at[psid] - started) * 1000)
        stages = _stages(posted, arrivals.wall)
        return {
            **stages,
            "messages": len(latencies),
            "lost": lost,
            "p50_ms": statistics.median(latencies),
            "p90_ms": percentile(latencies, 90),
            "p99_ms": percentile(latencies, 99),
            "max_ms": max(latencies),
        }
    finally:
        for process in (server, worker):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        fake.stop()


def _stages(posted: dict[str, float], arrived: dict[str, float]) -> dict[str, float]:
    """Median milliseconds per stage, from the rows' own timestamps: POST → customer message
    stored (webhook view, ingest queue, parse), → bot decision made (chatbot queue, matching),
    → send at the fake platform (delivery queue, HTTP)."""
    from chatbot.models import BotReply

    ingest, decide, deliver = [], [], []
    for psid, stored, decided in BotReply.objects.values_list(
        "message__sender_identity__platform_user_id", "message__created_at", "created_at"
    ):
        if psid in posted and psid in arrived:
            ingest.append((stored.timestamp() - posted[psid]) * 1000)
            decide.append((decided - stored).total_seconds() * 1000)
            deliver.append((arrived[psid] - decided.timestamp()) * 1000)
    return {
        "median_ms_post_to_message_stored": round(statistics.median(ingest), 1),
        "median_ms_stored_to_bot_decision": round(statistics.median(decide), 1),
        "median_ms_decision_to_send_at_platform": round(statistics.median(deliver), 1),
    }


# --- 2. The SLA pass --------------------------------------------------------------------------


def sla_pass(conversations: int) -> list[dict[str, float]]:
    from django.db import connection
    from django.utils import timezone

    from inbox import live
    from inbox.events import from_row
    from inbox.models import Contact, Conversation, ConversationEvent, PlatformAccount
    from sla import timers
    from sla.models import SlaPolicy

    account = PlatformAccount.objects.create(platform="sandbox", name="SLA", external_id="sla")
    policy = SlaPolicy.objects.create(
        name="Bench", first_response_seconds=3600, resolution_seconds=8 * 3600
    )
    now = timezone.now()
    results = []
    for due_share, label in ((0.0, "nothing due"), (0.01, "1 % due"), (0.10, "catch-up, 10 % due")):
        with connection.cursor() as cursor:  # a clean table per case (Django's delete is slow)
            cursor.execute("TRUNCATE inbox_conversation, inbox_contact CASCADE")
        due = int(conversations * due_share)
        contacts = Contact.objects.bulk_create(
            [Contact(name="sla-bench") for _ in range(conversations)], batch_size=5000
        )
        rows = []
        for n, contact in enumerate(contacts):
            # Due rows started 50 min ago (their warning fell due); the rest in the last 40 min.
            started = now - timedelta(minutes=50 if n < due else 40 * n / conversations)
            warn_at = started + timedelta(seconds=2880)
            run_timers = {
                "first_response": {
                    "started_at": started.isoformat(),
                    "warn_at": warn_at.isoformat(),
                    "due_at": (started + timedelta(hours=1)).isoformat(),
                    "warned": False,
                    "breached": False,
                }
            }
            rows.append(
                Conversation(
                    account=account,
                    contact=contact,
                    sla_policy=policy,
                    sla_timers=run_timers,
                    first_response_due_at=started + timedelta(hours=1),
                    sla_status="ok",
                    sla_check_at=warn_at,
                    last_activity_at=started,
                    created_at=started,
                )
            )
        Conversation.objects.bulk_create(rows, batch_size=5000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE inbox_conversation")
        started = time.perf_counter()
        totals = timers.check_timers(now=now)
        elapsed = time.perf_counter() - started
        assert totals["warnings"] == due, totals
        # The pass's live pushes (its events' live-push listener, after commit): timed alone.
        raised = [from_row(row) for row in ConversationEvent.objects.filter(kind="sla_warning")]
        started = time.perf_counter()
        live.publish_events(raised)
        pushed = len(raised)
        push = time.perf_counter() - started
        results.append(
            {
                "case": label,
                "open": conversations,
                "raised": totals["warnings"],
                "pass_seconds": round(elapsed, 3),
                "pushed": pushed,
                "push_seconds": round(push, 3),
            }
        )
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # the publish tasks no worker took
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()

    recreate_database(DB_NAME)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        if not args.skip_latency:
            print("bot reply latency (webhook POST → send at the fake Graph API):")
            print(json.dumps(bot_latency(args.messages), indent=2))
        print(f"SLA pass over {args.conversations} open conversations:")
        for row in sla_pass(args.conversations):
            print(json.dumps(row))
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
