"""Benchmark: webhook POST → the message in the agent's DOM, at a steady rate, beside the
machine's floor for a live push.

The production shape: uvicorn with 2 processes (``DEBUG=0``, psycopg pool), two prefork Celery
workers as the compose file runs them (``ingest`` alone and the other queues, both at nice 10;
each of concurrency 2; ``--one-worker``: one on every queue, at nice 10), Redis, PostgreSQL,
and headless Chromium (``/usr/bin/chromium``) logged in as an agent with the conversation
open. Signed sandbox webhooks are POSTed by a sender thread at ``--rate`` per second on a fixed
schedule (open loop: a slow answer does not slow the offer), each carrying a marker; a
``MutationObserver`` in the page stamps the moment each marker's text enters the thread's DOM.

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

With ``--stages``, where the time goes, per message (p50 / p95 / p99 of each stage): POST →
archive row (``received_at``) → the ingest pass's start (its task) → the push's start (after
the pass's commit) → the push sent → the socket event in the page → the page's fetch of the new
rows (start, end; Resource Timing) → the DOM. The worker loads ``bench/stage_probe.py`` for the
task and push timestamps. Also printed with it: the CPU per message of the worker (every
process of it), the web process and the database's backends over the Parley phase.

Its own database ``parley_bench_live`` (created, dropped) and Redis db 3 (``BENCH_REDIS``
where db 3 is another's); only 127.0.0.1; bounded by ``--messages`` and a 5-minute deadline.
Usage::

    .venv/bin/python bench/live_dom.py [--messages 300] [--rate 10] [--stages]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    drop_database,
    percentile,
    recreate_database,
    start_server,
    start_workers,
    stop,
)

DB_NAME = "parley_bench_live"
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/3")
STAGE_LOG = ROOT / "test-artifacts" / "bench-live-stages.jsonl"
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

from bench.dashboard import PASSWORD  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sign_and_post(session, url: str, account, body: bytes) -> None:
    from tests.helpers import sandbox_headers

    response = session.post(
        f"{url}/webhooks/sandbox/{account.pk}/",
        data=body,
        headers=sandbox_headers("bench-secret", body),
        timeout=10,
    )
    response.raise_for_status()


def body(text: str) -> bytes:
    return json.dumps(
        {
            "id": f"bench-live-{uuid.uuid4().hex}",
            "sender": {"id": "bench-live-customer", "name": "Live Customer"},
            "text": text,
            "timestamp": int(time.time() * 1000),
        }
    ).encode()


def open_live_conversation(playwright, url: str, session, account, username: str, timeout: float):
    """The first webhook's conversation open in headless Chromium (Debian's), logged in as
    ``username``, its live socket up: (browser, page, conversation)."""
    from inbox.models import Conversation

    sign_and_post(session, url, account, body("hello, first message"))
    deadline = time.monotonic() + timeout
    while not Conversation.objects.filter(contact__name="Live Customer").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not process the first webhook")
        time.sleep(0.05)
    conversation = Conversation.objects.get(contact__name="Live Customer")
    browser = playwright.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run"],
    )  # fmt: skip
    page = browser.new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#live-status[data-state=live]")
    page.goto(f"{url}/conversations/{conversation.pk}/")
    page.wait_for_selector("#live-status[data-state=live]")
    return browser, page, conversation


OBSERVER = """
() => {
  window.__arrivals = {};
  window.__events = [];
  document.addEventListener('parley:event', (e) => {
    if (e.detail.type === 'inbox.message_received') {
      window.__events.push(performance.timeOrigin + performance.now());
    }
  });
  const thread = document.getElementById('thread');
  new MutationObserver((records) => {
    const now = performance.timeOrigin + performance.now();
    for (const record of records) for (const node of record.addedNodes) {
      if (node.nodeType !== 1) continue;
      const match = (node.textContent || '').match(/bench-marker-(\\d+)/);
      if (match && !(match[1] in window.__arrivals)) window.__arrivals[match[1]] = now;
    }
  }).observe(thread, { childList: true, subtree: true });
}
"""


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
# --stages: each message's socket event by message id, and every fetch of new thread rows.
STAGE_OBSERVER = """
() => {
  performance.setResourceTimingBufferSize(100000);
  window.__socket = {};
  document.addEventListener('parley:event', (e) => {
    const d = e.detail;
    const m = d.type === 'inbox.message_received' && d.data && d.data.message;
    if (m && !(m in window.__socket)) window.__socket[m] = performance.timeOrigin + performance.now();
  });
}
"""
FETCHES = """
() => performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/messages/?after='))
  .map((e) => [e.name, performance.timeOrigin + e.startTime, performance.timeOrigin + e.responseEnd])
"""


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


TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pids: set[int]) -> dict[int, float]:
    """User + system CPU (ms) of each live process in ``pids``."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) * TICK_MS
    return found


def tree(root: int) -> set[int]:
    """``root`` and its descendants (the worker's pool processes)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except OSError:
                continue
    found, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def backends() -> set[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [DB_NAME],
        )
        return {row[0] for row in cursor.fetchall()}


class CpuMeter:
    """CPU spent by the workers, the web process and the database's backends between
    ``start`` and ``stop`` (processes that appear meanwhile count from zero)."""

    def __init__(self, workers: list[int], web: int) -> None:
        self.groups = {
            "worker": lambda: set().union(*map(tree, workers)),
            "web": lambda: tree(web),
            "postgres": backends,
        }

    def snapshot(self) -> dict[str, dict[int, float]]:
        return {name: cpu_ms(pids()) for name, pids in self.groups.items()}

    def start(self) -> None:
        self.before = self.snapshot()

    def stop(self, messages: int) -> dict[str, float]:
        after = self.snapshot()
        return {
            f"{name}_cpu_ms_per_message": round(
                sum(v - self.before[name].get(pid, 0.0) for pid, v in after[name].items())
                / messages,
                2,
            )
            for name in after
        }


def stage_figures(sent: dict[int, float], seen: dict, offset: float, page_data: dict) -> dict:
    """Each message's stages (ms) from the rows, the worker's probe and the page, summarised."""
    import re

    from inbox.models import ConversationEvent, Message, WebhookEvent

    marker = re.compile(rb"bench-marker-(\d+) ")
    hooks: dict[int, WebhookEvent] = {}
    for hook in WebhookEvent.objects.all():
        found = marker.search(bytes(hook.body))
        if found:
            hooks[int(found.group(1))] = hook
    messages: dict[int, int] = {}
    for pk, text in Message.objects.filter(text__contains="bench-marker-").values_list(
        "pk", "text"
    ):
        messages[int(re.search(r"bench-marker-(\d+) ", text).group(1))] = pk
    event_of = {
        data["message"]: pk
        for pk, data in ConversationEvent.objects.filter(kind="message_received").values_list(
            "pk", "data"
        )
    }
    records = [json.loads(line) for line in STAGE_LOG.read_text().splitlines() if line]
    passes = [r for r in records if r.get("task") == "inbox.tasks.process_webhooks"]
    pushes: dict[int, dict] = {}
    for record in records:
        for event_id in record.get("push", ()):
            pushes.setdefault(event_id, record)
    # Page times to the client's clock.
    socket = {int(k): v - offset for k, v in page_data["socket"].items()}
    fetches = sorted(
        (int(re.search(r"after=(\d+)", name).group(1)), start - offset, end - offset)
        for name, start, end in page_data["fetches"]
    )
    stages: dict[str, list[float]] = {}

    def add(name: str, value: float | None) -> None:
        if value is not None:
            stages.setdefault(name, []).append(value)

    for i, posted in sent.items():
        hook, message = hooks.get(i), messages.get(i)
        if hook is None or message is None or str(i) not in seen:
            continue
        archived = hook.received_at.timestamp() * 1000
        committed = hook.processed_at.timestamp() * 1000 if hook.processed_at else None
        ingest = next(
            (
                r
                for r in passes
                if committed and r["start"] * 1000 <= committed <= r["end"] * 1000 + 1
            ),
            None,
        )
        push = pushes.get(event_of.get(message))
        dom = seen[str(i)] - offset
        at_socket = socket.get(message)
        fetch = max(
            (f for f in fetches if f[0] < message and f[2] <= dom + 1),
            key=lambda f: f[2],
            default=None,
        )
        add("1 POST → archive row", archived - posted)
        if ingest:
            add("2 archive row → ingest pass start", ingest["start"] * 1000 - archived)
            if push:
                add(
                    "3 ingest pass start → push start (commit)",
                    push["start"] * 1000 - ingest["start"] * 1000,
                )
        if push:
            add("4 push start → push sent", (push["end"] - push["start"]) * 1000)
            if at_socket:
                add("5 push sent → socket event in the page", at_socket - push["end"] * 1000)
        if at_socket and fetch:
            add("6 socket event → rows fetch start", fetch[1] - at_socket)
            add("7 rows fetch (HTTP)", fetch[2] - fetch[1])
            add("8 rows fetched → DOM", dom - fetch[2])
        add("total POST → DOM", dom - posted)
    tasks: dict[str, list[float]] = {}
    for record in records:
        if "task" in record and record["start"]:
            tasks.setdefault(record["task"], []).append((record["end"] - record["start"]) * 1000)
    return {
        "stages_ms": {name: stats(values) for name, values in sorted(stages.items())},
        "worker_tasks": {
            name: {
                "count": len(v),
                "p50_ms": round(percentile(v, 50), 1),
                "total_ms": round(sum(v)),
            }
            for name, v in sorted(tasks.items())
        },
    }


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
    from inbox.models import PlatformAccount, Team, User

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
    # The compose file's shape: the web process with psycopg's pool, prefork workers at nice 10.
    STAGE_LOG.parent.mkdir(exist_ok=True)
    STAGE_LOG.unlink(missing_ok=True)
    probe = ("--include", "bench.stage_probe") if args.stages else ()
    env = {"DEBUG": "0", "BENCH_STAGE_LOG": str(STAGE_LOG)}
    processes = [
        start_server(
            port, {"DEBUG": "0", "DATABASE_POOL": "1"}, "bench-live-uvicorn.log", workers=2
        ),
        *start_workers(
            env,
            "bench-live",
            concurrency=2,
            worker_nice=args.worker_nice,
            ingest_nice=args.ingest_nice,
            one_worker=args.one_worker,
            extra=probe,
        ),
    ]
    try:
        meter = CpuMeter(workers=[p.pid for p in processes[1:]], web=processes[0].pid)
        for _ in range(300):
            try:
                if requests.get(f"{url}/login/", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        session = requests.Session()
        with sync_playwright() as playwright:
            browser, page, conversation = open_live_conversation(
                playwright,
                url,
                session,
                account,
                agent.username,
                timeout=deadline - time.monotonic(),
            )
            page.evaluate(OBSERVER)
            page.evaluate(FLOOR_OBSERVER)
            page.evaluate(STAGE_OBSERVER)
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

            meter.start()
            sent, thread = paced_sends(args.messages, args.rate, post)
            thread.join()
            seen = wait_all(page, "__arrivals", args.messages, deadline)
            cpu = meter.stop(args.messages)
            page_data = {
                "socket": page.evaluate("() => window.__socket"),
                "fetches": page.evaluate(FETCHES),
            }
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
        **cpu,
    }
    if args.stages:
        result.update(stage_figures(sent, seen, offset, page_data))
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
    parser.add_argument(
        "--ingest-nice", type=int, default=10, help="the ingest worker's nice (compose: 10)"
    )
    parser.add_argument(
        "--one-worker",
        action="store_true",
        help="one worker on every queue (the compose shape before the ingest worker)",
    )
    parser.add_argument(
        "--stages", action="store_true", help="where the time goes (bench/stage_probe.py)"
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
