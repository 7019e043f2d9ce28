"""Benchmark: webhook POST → the message in the agent's DOM, at a steady rate, beside the
machine's floor for a live push.

The production shape: uvicorn (``DEBUG=0``, psycopg pool), two Celery workers (``ingest``, and
the other queues), Redis, PostgreSQL, and headless Chromium (``/usr/bin/chromium``) logged in
as an agent with the conversation open. Signed sandbox webhooks are POSTed by a sender thread
at ``--rate`` per second on a fixed schedule (open loop: a slow answer does not slow the
offer), each carrying a marker; a ``MutationObserver`` in the page stamps the moment each
marker's text enters the thread's DOM.

Clocks: arrivals are stamped with the page's clock (``performance.timeOrigin +
performance.now()``), sends with the client's (``time.time()``). Their offset is measured
before and after the run as the page's clock minus the midpoint of a ``page.evaluate`` round
trip; the sample with the shortest round trip is used, and its half round trip (the offset's
uncertainty) is printed.

The floor, in the same run and the same page: a live event pushed by this process straight to
the account's channel-layer group (``inbox.live.send_to_group``; Redis → the web process → the
socket → the page's event listener), with no webhook, archive, ingest or worker — what the
machine takes to move a push to the page. Printed: p50 / p95 / p99 / max of both, and the
ratio of the p99s.

Its own database ``parley_bench_live`` (created, dropped) and Redis db 3; only 127.0.0.1;
bounded by ``--messages`` and a 5-minute deadline. Usage::

    .venv/bin/python bench/live_dom.py [--messages 300] [--rate 10]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
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
)

DB_NAME = "parley_bench_live"
REDIS_URL = "redis://127.0.0.1:6379/3"
os.environ.update(
    {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": "bench-only-secret-key",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SETTINGS_MODULE": "parley.settings",
        "DATABASE_POOL": "0",
        # Static files from the source folders (no collectstatic step).
        "PARLEY_TESTING": "1",
        # Playwright's sync API runs an event loop in this thread beside the ORM.
        "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
    }
)

from bench.dashboard import (  # noqa: E402
    OBSERVER,
    PASSWORD,
    body,
    free_port,
    sign_and_post,
)

FLOOR_OBSERVER = """
() => {
  window.__floor = {};
  document.addEventListener('parley:event', (e) => {
    const d = e.detail;
    if (d.type === 'inbox.bench_floor' && !(d.data.n in window.__floor)) {
      window.__floor[d.data.n] = performance.timeOrigin + performance.now();
    }
  });
}
"""
PAGE_NOW = "() => performance.timeOrigin + performance.now()"


def log(message: str) -> None:
    print(message, flush=True)


def clock_offset(page) -> tuple[float, float]:
    """The page's clock minus the client's (ms), and its uncertainty (half the round trip)."""
    best = None
    for _ in range(20):
        before = time.time() * 1000
        at_page = page.evaluate(PAGE_NOW)
        after = time.time() * 1000
        sample = (at_page - (before + after) / 2, (after - before) / 2)
        if best is None or sample[1] < best[1]:
            best = sample
    return best


def stats(values: list[float]) -> dict:
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "max_ms": round(max(values), 1),
    }


def paced_sends(count: int, rate: float, send) -> dict[int, float]:
    """Call ``send(i)`` on a fixed schedule from a thread; each send's client time (ms)."""
    sent: dict[int, float] = {}
    start_at = time.time() + 0.3

    def run() -> None:
        for i in range(count):
            delay = start_at + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            sent[i] = time.time() * 1000
            send(i)

    thread = threading.Thread(target=run)
    thread.start()
    return sent, thread


def wait_all(page, name: str, count: int, deadline: float) -> dict:
    while time.monotonic() < deadline:
        seen = page.evaluate(f"() => Object.keys(window.{name} || {{}}).length")
        if seen >= count:
            break
        page.wait_for_timeout(100)
    return page.evaluate(f"() => window.{name}")


def run(args) -> dict:
    import requests
    from playwright.sync_api import sync_playwright

    from inbox import live
    from inbox.access import account_group
    from inbox.models import Conversation, PlatformAccount, Team, User

    account = PlatformAccount.objects.create(
        platform="sandbox",
        name="Shop",
        external_id="bench-live",
        credentials={"secret": "bench-secret"},
    )
    team = Team.objects.create(name="Support")
    team.accounts.add(account)
    agent = User.objects.create_user(username="bench-agent", password=PASSWORD, first_name="Alice")
    team.members.add(agent)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    # The compose file's shape: the web process with psycopg's pool, a prefork worker at
    # nice 10 on every queue.
    processes = [
        start_server(port, {"DEBUG": "0", "DATABASE_POOL": "1"}, "bench-live-uvicorn.log"),
        start_worker({"DEBUG": "0"}, "bench-live-worker.log", concurrency=2, nice=args.worker_nice),
    ]
    try:
        for _ in range(300):
            try:
                if requests.get(f"{url}/login/", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        session = requests.Session()
        sign_and_post(session, url, account, body("hello, first message"))
        while not Conversation.objects.filter(contact__name="Live Customer").exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the worker did not process the first webhook")
            time.sleep(0.05)
        conversation = Conversation.objects.get(contact__name="Live Customer")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"],
            )  # fmt: skip
            page = browser.new_page()
            page.goto(f"{url}/login/")
            page.fill("input[name=username]", agent.username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#live-status[data-state=live]")
            page.goto(f"{url}/conversations/{conversation.pk}/")
            page.wait_for_selector("#live-status[data-state=live]")
            page.evaluate(OBSERVER)
            page.evaluate(FLOOR_OBSERVER)
            offset_before = clock_offset(page)
            log(f"page open; clock offset {offset_before[0]:.1f} ± {offset_before[1]:.1f} ms")

            # Warm-up: the first rows, connections, the worker's imports.
            for i in range(10):
                sign_and_post(session, url, account, body(f"warm-up {i}"))
                time.sleep(0.1)
            time.sleep(1)

            # The floor: a push straight into the channel layer, at the same rate.
            group = account_group(account.pk)

            def push(i: int) -> None:
                # A live event of a type the page only re-dispatches (no fetch, no DOM).
                payload = {"id": None, "type": "inbox.bench_floor", "conversation": None,
                           "account": account.pk, "data": {"n": str(i)}, "at": None}  # fmt: skip
                live.send_to_group(group, payload)

            floor_sent, thread = paced_sends(args.floor, args.rate, push)
            thread.join()
            floor_seen = wait_all(page, "__floor", args.floor, deadline)
            log(f"floor: {len(floor_seen)} of {args.floor} pushes seen")

            # Parley: signed webhooks at a steady rate.
            posts = requests.Session()

            def post(i: int) -> None:
                sign_and_post(posts, url, account, body(f"bench-marker-{i} where is my parcel?"))

            sent, thread = paced_sends(args.messages, args.rate, post)
            thread.join()
            seen = wait_all(page, "__arrivals", args.messages, deadline)
            offset_after = clock_offset(page)
            browser.close()
    finally:
        for process in processes:
            stop(process)
    offset = offset_before[0]
    latencies = [seen[str(i)] - offset - at for i, at in sent.items() if str(i) in seen]
    floor = [
        floor_seen[str(i)] - offset - at for i, at in floor_sent.items() if str(i) in floor_seen
    ]
    result = {
        "rate_per_s": args.rate,
        "clock_offset_ms": round(offset, 2),
        "clock_uncertainty_ms": round(offset_before[1], 2),
        "clock_drift_during_run_ms": round(offset_after[0] - offset_before[0], 2),
        "parley_post_to_dom": stats(latencies),
        "lost": args.messages - len(latencies),
        "floor_push_to_page": stats(floor),
        "load_1min": round(os.getloadavg()[0], 1),
    }
    result["p99_over_floor_p99"] = round(
        result["parley_post_to_dom"]["p99_ms"] / result["floor_push_to_page"]["p99_ms"], 1
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--floor", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0, help="POSTs per second")
    parser.add_argument(
        "--worker-nice", type=int, default=10, help="the worker's nice (compose: 10; 0 = equal)"
    )
    args = parser.parse_args()

    recreate_database(DB_NAME)
    import django

    django.setup()
    from django.core.management import call_command

    log("migrating…")
    call_command("migrate", verbosity=0)
    log("running…")
    try:
        print(json.dumps(run(args), indent=2))
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
