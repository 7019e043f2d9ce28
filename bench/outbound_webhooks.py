"""Benchmark: how soon an outbound webhook delivery leaves after its event.

Phase 1: customers' messages arrive as signed sandbox webhooks POSTed to a uvicorn process (``DEBUG=0``,
psycopg pool) at a steady rate; ingestion, the listeners' dispatch and the outbound webhook
delivery run on a real Celery worker (prefork, 2 processes, every queue) over Redis; an admin's
subscription to ``message.created`` points at a receiver on 127.0.0.1 in this process, which
checks each signature and notes the arrival. Two clocks per message:

- event → delivery: the ``message_received`` event's own time (``ConversationEvent.created_at``,
  when the message was stored) to the receiver's arrival — the issue's "within 1 s of the
  event" (wall clocks of one machine);
- webhook POST → delivery: from the platform's POST to Parley, ingestion included.

Phase 2: an API client PATCHes conversations' priority at the same rate; each change is a
``conversation.updated`` delivery, timed from its event (``created_at`` in the body) to the
receiver: the listeners' dispatch and the delivery, without ingestion and the chatbot.

Runs against its own PostgreSQL database (created, migrated, dropped) and Redis db 6; only
127.0.0.1 traffic. Usage::

    .venv/bin/python bench/outbound_webhooks.py [--messages 500] [--rate 10] [--webhooks-worker]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    drop_database,
    percentile,
    recreate_database,
    start_server,
    start_worker,
    stop,
    wait_ready,
)

DB_NAME = "parley_bench_webhooks"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/6"
ENV = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": "bench-only-secret-key",
    "PARLEY_TESTING": "1",  # local hosts allowed, quiet logs
    "DATABASE_POOL": "1",  # the production shape: psycopg's pool in web and worker
    "DEBUG": "0",
    "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # the receiver below
    "API_THROTTLE_RATE": "100000/minute",  # phase 2 is one token at the offered rate
}
os.environ.update(ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")


class Receiver:
    """Arrival time of each signed delivery: ``message.created`` by the platform message id it
    carries, others by delivery id with the event's own time (``created_at``)."""

    def __init__(self) -> None:
        self.secret = ""
        self.wall: dict[str, float] = {}
        self.updates: dict[str, tuple[float, float]] = {}
        self.bad_signatures = 0
        self.lock = threading.Lock()

    def handler(self, request, match):
        from tests.fakes.server import Reply

        arrived = time.time()
        expected = (
            "sha256=" + hmac.new(self.secret.encode(), request.body, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(request.headers.get("x-parley-signature", ""), expected):
            with self.lock:
                self.bad_signatures += 1
            return Reply(401, {"error": "bad signature"})
        body = json.loads(request.body)
        with self.lock:
            if body["event"] == "message.created":
                self.wall[body["data"]["message"]["external_id"]] = arrived
            else:
                happened = datetime.fromisoformat(body["created_at"]).timestamp()
                self.updates[body["id"]] = (happened, arrived)
        return Reply(200, {"ok": True})


def run(messages: int, rate: float, own_worker: bool) -> dict[str, float]:
    import redis
    import requests

    from connectors.sandbox.connector import SIGNATURE_HEADER, sign
    from inbox.models import ConversationEvent, Message, PlatformAccount, User
    from outbound_webhooks import services
    from tests.fakes.server import FakePlatformServer

    receiver = Receiver()
    fake = FakePlatformServer().start()
    fake.route("POST", r"^/hook$", receiver.handler)
    secret = "bench-sandbox-secret"
    account = PlatformAccount.objects.create(
        platform="sandbox", name="Bench", external_id="bench", credentials={"secret": secret}
    )
    admin = User.objects.create_user("bench-admin", role="admin")
    _, receiver.secret = services.subscribe(
        url=f"{fake.url}/hook", events=["message.created", "conversation.updated"], actor=admin
    )
    redis.Redis.from_url(REDIS_URL).flushdb()
    port = _free_port()  # other benchmarks may run on this machine at the same time
    server = start_server(port, {}, "bench-webhooks-uvicorn.log")
    worker = start_worker({}, "bench-webhooks-worker.log", concurrency=2)
    # A worker of its own for the webhooks queue: deliveries do not wait behind ingestion.
    own = (
        start_worker({}, "bench-webhooks-own-worker.log", concurrency=1, queues="webhooks")
        if own_worker
        else None
    )
    url = f"http://127.0.0.1:{port}/webhooks/sandbox/{account.pk}/"
    posted: dict[str, float] = {}
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        session = requests.Session()
        warmup = 20
        began = time.perf_counter()
        for i in range(messages + warmup):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            message_id = f"m-{i}-{uuid.uuid4().hex[:8]}"
            body = json.dumps(
                {
                    "id": message_id,
                    "sender": {"id": f"cust-{i % 50}", "name": f"Customer {i % 50}"},
                    "text": "Where is my order?",
                    "timestamp": int(time.time() * 1000),
                }
            ).encode()
            posted[message_id] = time.time()
            response = session.post(
                url,
                data=body,
                timeout=10,
                headers={SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"},
            )
            assert response.status_code == 200, response.text
        deadline = time.monotonic() + 30
        while len(receiver.wall) < len(posted) and time.monotonic() < deadline:
            time.sleep(0.1)
        patched = _patch_priorities(session, port, admin, messages, rate)
        deadline = time.monotonic() + 30
        while len(receiver.updates) < patched and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop(server)
        stop(worker)
        if own is not None:
            stop(own)
        fake.stop()
    measured = list(posted)[warmup:]
    stored = dict(Message.objects.filter(external_id__in=measured).values_list("pk", "external_id"))
    event_at = {
        stored[e.data["message"]]: e.created_at.timestamp()
        for e in ConversationEvent.objects.filter(
            kind="message_received", data__message__in=list(stored)
        )
    }
    arrived = [m for m in measured if m in receiver.wall]
    # Stage medians from the rows' own times: event → delivery row written (the listeners'
    # dispatch) → first attempt started (the webhooks queue).
    from outbound_webhooks.models import Delivery

    rows = list(
        Delivery.objects.filter(event="message.created").values_list(
            "created_at", "attempt_log__at", "body"
        )
    )
    written, sent = [], []
    for created_at, attempt_at, body in rows:
        external_id = json.loads(body)["data"]["message"]["external_id"]
        if external_id in event_at and attempt_at is not None:
            written.append((created_at.timestamp() - event_at[external_id]) * 1000)
            sent.append((attempt_at - created_at).total_seconds() * 1000)
    from_event = [(receiver.wall[m] - event_at[m]) * 1000 for m in arrived if m in event_at]
    from_post = [(receiver.wall[m] - posted[m]) * 1000 for m in arrived]
    from_update = [(arrived - happened) * 1000 for happened, arrived in receiver.updates.values()]
    return {
        "patches": patched,
        "patch_lost": patched - len(receiver.updates),
        "patch_event_to_delivery_p50_ms": round(percentile(from_update, 50), 1),
        "patch_event_to_delivery_p95_ms": round(percentile(from_update, 95), 1),
        "patch_event_to_delivery_p99_ms": round(percentile(from_update, 99), 1),
        "messages": len(measured),
        "rate_per_s": rate,
        "webhooks_worker": own_worker,
        "lost": len(measured) - len(arrived),
        "bad_signatures": receiver.bad_signatures,
        "event_to_delivery_p50_ms": round(percentile(from_event, 50), 1),
        "event_to_delivery_p95_ms": round(percentile(from_event, 95), 1),
        "event_to_delivery_p99_ms": round(percentile(from_event, 99), 1),
        "event_to_delivery_max_ms": round(max(from_event), 1),
        "post_to_delivery_p50_ms": round(percentile(from_post, 50), 1),
        "post_to_delivery_p95_ms": round(percentile(from_post, 95), 1),
        "stage_event_to_row_p50_ms": round(percentile(written, 50), 1),
        "stage_row_to_attempt_p50_ms": round(percentile(sent, 50), 1),
        "load_average": os.getloadavg(),
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _patch_priorities(session, port: int, admin, count: int, rate: float) -> int:
    """Phase 2: ``PATCH /api/v1/conversations/<id>/`` at ``rate`` (priority back and forth on
    the conversations phase 1 opened): each a ``conversation.updated`` delivery, with no
    ingestion or chatbot work in the way."""
    from rest_framework.authtoken.models import Token

    from inbox.models import Conversation

    token = Token.objects.create(user=admin).key
    ids = list(Conversation.objects.values_list("pk", flat=True))
    began = time.perf_counter()
    for i in range(count):
        delay = began + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        response = session.patch(
            f"http://127.0.0.1:{port}/api/v1/conversations/{ids[i % len(ids)]}/",
            json={"priority": "high" if (i // len(ids)) % 2 == 0 else "low"},
            headers={"Authorization": f"Token {token}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second")
    parser.add_argument(
        "--webhooks-worker",
        action="store_true",
        help="also a worker (1 process) for the webhooks queue alone",
    )
    parser.add_argument("--keep-database", action="store_true", help="to look at its rows")
    args = parser.parse_args()

    recreate_database(DB_NAME)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        print("outbound webhook delivery latency:")
        print(json.dumps(run(args.messages, args.rate, args.webhooks_worker), indent=2))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_database:
            drop_database(DB_NAME)


if __name__ == "__main__":
    main()
