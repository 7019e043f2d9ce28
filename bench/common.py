"""What the benchmarks share: percentiles, an admin connection to PostgreSQL, processes with
their logs in test-artifacts/, and an open-loop paced HTTP client."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-th percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "requests": len(latencies),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
    }


def admin_sql(statement: str) -> None:
    """Run one statement on the server's maintenance database (CREATE / DROP DATABASE)."""
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)


def recreate_database(name: str) -> None:
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_in_process(name: str, server: str = ADMIN_URL.rsplit("/", 1)[0]) -> None:
    """A fresh database ``name`` on ``server`` and Django set up in this process against it,
    with no Redis (tasks in-process): for the benchmarks that time code, not servers. Static
    files come from the source folders (``PARLEY_TESTING``: no collectstatic manifest)."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(
        DATABASE_URL=f"{server}/{name}",
        DJANGO_SETTINGS_MODULE="parley.settings",
        SECRET_KEY="bench-only-key",
        ALLOWED_HOSTS="testserver,127.0.0.1",
        DATABASE_POOL="0",
        LOG_LEVEL="WARNING",
        PARLEY_TESTING="1",
    )
    os.environ.pop("REDIS_URL", None)
    # Django reads the environment when it is set up, so it is imported only now.
    import django

    django.setup()


def start(cmd: list[str], env: dict[str, str], log: str) -> subprocess.Popen:
    """A process of the benchmarked stack, its output in test-artifacts/<log>."""
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=open(ROOT / "test-artifacts" / log, "wb"),  # noqa: SIM115 - lives with the process
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def paced(items: list, rate: float, send: Callable[[Any, Any], int], threads: int) -> list[float]:
    """Send ``items`` at ``rate`` per second (open loop: one shared schedule, so a slow answer
    does not slow the offered load) from ``threads`` threads; ``send(session, item)`` returns
    the HTTP status. Returns each request's latency in ms; any non-200 aborts the run."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    start_at = time.perf_counter() + 0.2

    def worker(offset: int) -> None:
        import requests

        session = requests.Session()
        for index in range(offset, len(items), threads):
            delay = start_at + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            began = time.perf_counter()
            status = send(session, items[index])
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)
                if status != 200:
                    failures.append(str(status))

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed: {failures[:5]}")
    return latencies


def start_server(port: int, env: dict[str, str], log: str, workers: int = 1) -> subprocess.Popen:
    """The ASGI app in uvicorn, as the compose file's web service runs it."""
    return start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "parley.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--lifespan",
            "off",
            "--workers",
            str(workers),
        ],
        env,
        log,
    )


EVERY_QUEUE = "default,ingest,delivery,chatbot,sla,media,webhooks"


def start_worker(
    env: dict[str, str],
    log: str,
    concurrency: int,
    nice: int = 0,
    queues: str = EVERY_QUEUE,
    extra: tuple[str, ...] = (),
) -> subprocess.Popen:
    """A Celery worker (prefork) consuming ``queues`` (every one unless told), at CPU priority
    ``nice`` (as the compose file runs it: background work yields the CPU to the web
    processes); ``extra``: more arguments for ``celery worker``."""
    return start(
        [
            *(["nice", "-n", str(nice)] if nice else []),
            sys.executable,
            "-m",
            "celery",
            "-A",
            "parley",
            "worker",
            "-P",
            "prefork",
            "-c",
            str(concurrency),
            "-Q",
            queues,
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            *extra,
        ],
        env,
        log,
    )


def start_workers(
    env: dict[str, str],
    log_prefix: str,
    *,
    concurrency: int,
    worker_nice: int = 10,
    ingest_nice: int = 10,
    one_worker: bool = False,
    extra: tuple[str, ...] = (),
) -> list[subprocess.Popen]:
    """The compose file's workers: ``ingest`` alone (concurrency 2, ``ingest_nice``) and one on
    every other queue (``concurrency``, ``worker_nice``); ``one_worker``: a single worker on every
    queue, the shape before ingestion had its own."""
    queues = EVERY_QUEUE if one_worker else EVERY_QUEUE.replace("ingest,", "")
    workers = [
        start_worker(
            env,
            f"{log_prefix}-worker.log",
            concurrency=concurrency,
            nice=worker_nice,
            queues=queues,
            extra=extra,
        )
    ]
    if not one_worker:
        workers.append(
            start_worker(
                env,
                f"{log_prefix}-ingest-worker.log",
                concurrency=2,
                nice=ingest_nice,
                queues="ingest",
                extra=(*extra, "-n", "ingest@%h"),
            )
        )
    return workers


def wait_ready(base_url: str, timeout: float = 60.0) -> None:
    """Until the worker answers a ping and the server serves its login page."""
    import requests

    from parley.celery import app

    deadline = time.monotonic() + timeout
    while not app.control.ping(timeout=0.5):
        if time.monotonic() > deadline:
            raise RuntimeError("worker did not start")
    while True:
        try:
            requests.get(f"{base_url}/login/", timeout=1)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start") from None
            time.sleep(0.2)
