"""Benchmark: the worker's cost per inbound message — CPU and queries.

What a worker does for each customer message a platform sends, in process: the ingest pass
(``inbox.tasks.process_webhooks``: claim the archived body, parse, apply, record its outcome)
and, after its commit, the live push and the durable listeners (``inbox.listeners.handle``:
each in its own transaction with a ``ListenerReceipt`` per event), and what those listeners
start (the chatbot's pass). Tasks run eagerly here (no Redis), so everything the worker's
processes would do runs in this process, in the same order. The report metrics' refresh pass,
which the worker runs ``REFRESH_DELAY_SECONDS`` after a change for every conversation changed
meanwhile, runs once at the end of each measurement and is counted in it (amortised over its
messages, as at a sustained rate).

The bodies are archived first through the webhook entrance itself (``inbox.webhooks.receive``,
signed sandbox messages from ``--customers`` customers in turn, so most messages land in an
existing conversation), while an ingest pass is marked pending so none starts; then the pass
runs, as the worker would:

- ``singles``: one pass per archived body (a quiet inbox: each POST has a pass of its own);
- ``bursts``: one pass over ``--burst`` bodies waiting (a busy inbox: batches of
  ``inbox.ingest.BATCH_SIZE``).

Printed per message: this process's CPU (``time.process_time``), the database backend's CPU
(``/proc``), the queries (a second run, with Django's query log, so its overhead is not in the
CPU figures), and the queries run more than once per message, most repeated first.

Its own database ``parley_bench_worker`` (created, dropped); no Redis. Usage::

    .venv/bin/python bench/worker_cost.py [--messages 300] [--burst 25] [--customers 20]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import django_in_process, drop_database  # noqa: E402

DB_NAME = "parley_bench_worker"
SECRET = "bench-secret"
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def backend_cpu_ms() -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS


def shape(sql: str) -> str:
    """A query with its values taken out: repeats of one query compare equal."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
    sql = re.sub(r"\(\?(?:, \?)*\)", "(…)", sql)
    return sql


class QueryLog:
    """An execute wrapper keeping each statement's SQL (no limit, unlike Django's debug log)."""

    def __init__(self, into: list[str]) -> None:
        self.into = into

    def __call__(self, execute, sql, params, many, context):
        self.into.append(sql)
        return execute(sql, params, many, context)


@contextmanager
def counted_commits():
    """How many transactions the connection commits (``atomic`` blocks; in autocommit each
    statement outside one is also its own, not counted here)."""
    from django.db import connection

    count = [0]
    commit = connection.commit

    def counting():
        count[0] += 1
        commit()

    connection.commit = counting
    try:
        yield count
    finally:
        del connection.commit


class Inbox:
    def __init__(self, customers: int) -> None:
        from inbox.models import PlatformAccount, Team, User

        self.account = PlatformAccount.objects.create(
            platform="sandbox",
            name="Shop",
            external_id="bench-worker",
            credentials={"secret": SECRET},
        )
        team = Team.objects.create(name="Support")
        team.accounts.add(self.account)
        for n in range(3):
            team.members.add(User.objects.create_user(username=f"agent{n}", password="x"))
        self.customers = customers
        self.sent = 0

    def archive(self, count: int) -> None:
        """``count`` signed bodies through the webhook entrance, no pass started for them."""
        from inbox import tasks, triggers, webhooks
        from reports.metrics import refresh_report_metrics as metrics_pass
        from tests.helpers import sandbox_headers

        for _ in range(count):
            n = self.sent % self.customers
            self.sent += 1
            body = json.dumps(
                {
                    "id": f"m-{uuid.uuid4().hex}",
                    "sender": {"id": f"customer-{n}", "name": f"Customer {n}"},
                    "text": f"message {self.sent}: where is my parcel?",
                    "timestamp": int(time.time() * 1000),
                }
            ).encode()
            # A pass marked pending: the POST requests none (the worker's would start later).
            triggers.shared_cache().set(f"parley:pass-pending:{tasks.process_webhooks.name}", 1, 60)
            # And the metrics pass: it runs at the end (see above).
            triggers.shared_cache().set(f"parley:pass-pending:{metrics_pass.name}", 1, 600)
            answer = webhooks.receive(
                "sandbox", sandbox_headers(SECRET, body), body, account_id=self.account.pk
            )
            assert answer.status == 200, answer


def run_pass() -> None:
    from inbox import tasks

    tasks.process_webhooks()


def run_metrics_pass() -> None:
    from reports.metrics import refresh_report_metrics

    refresh_report_metrics()


def measure(inbox: Inbox, mode: str, messages: int, burst: int, queries: bool) -> dict:
    from django.db import connection

    per_pass = 1 if mode == "singles" else burst
    cpu = db = 0.0
    shapes: Counter[str] = Counter()
    total_queries = total_commits = 0
    done = 0
    passes = [run_pass] * (messages // per_pass) + [run_metrics_pass]
    for step in passes:
        if step is run_pass:
            inbox.archive(per_pass)
            done += per_pass
        db_before, cpu_before = backend_cpu_ms(), time.process_time()
        if queries:
            seen: list[str] = []
            with connection.execute_wrapper(QueryLog(seen)), counted_commits() as commits:
                step()
            total_queries += len(seen)
            total_commits += commits[0]
            shapes.update(shape(sql) for sql in seen)
        else:
            step()
        cpu += (time.process_time() - cpu_before) * 1000
        db += backend_cpu_ms() - db_before
    if queries:
        return {
            "queries_per_message": round(total_queries / done, 1),
            "transactions_per_message": round(total_commits / done, 1),
            "repeated": [
                [round(n / done, 2), sql[:200]] for sql, n in shapes.most_common(25) if n > done
            ],
        }
    return {
        "worker_cpu_ms_per_message": round(cpu / done, 2),
        "postgres_cpu_ms_per_message": round(db / done, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--burst", type=int, default=25)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()

    django_in_process(DB_NAME)
    import logging

    from django.core.management import call_command

    logging.disable(logging.WARNING)
    call_command("migrate", verbosity=0)
    try:
        inbox = Inbox(args.customers)
        measure(inbox, "singles", args.warmup, args.burst, queries=False)
        result = {"load_1min": round(os.getloadavg()[0], 2)}
        for mode in ("singles", "bursts"):
            result[mode] = {
                **measure(inbox, mode, args.messages, args.burst, queries=False),
                **measure(inbox, mode, min(args.messages, 100), args.burst, queries=True),
            }
        result["load_1min_after"] = round(os.getloadavg()[0], 2)
        print(json.dumps(result, indent=2, ensure_ascii=False))
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
