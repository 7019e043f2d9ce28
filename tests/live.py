"""The real stack for live tests: a uvicorn process serving the ASGI app, a Celery worker
process, headless Chromium — all on the test database and the test Redis database.

Live tests use ``transactional_db`` (requested by these fixtures) so what they create is
committed and the processes see it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings
from django.db import OperationalError
from django.db.backends.postgresql.operations import DatabaseOperations

from parley.celery import app

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class LiveProcess:
    url: str
    process: subprocess.Popen


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("live tests need PostgreSQL (run them with `make test`)")
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    """Environment of a live process: the test database, the test Redis, test settings."""
    if not settings.REDIS_URL:
        pytest.skip("live tests need Redis (run them with `make test`)")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url(),
        REDIS_URL=settings.REDIS_URL,
        PARLEY_TESTING="1",
        DEBUG="0",
        DATABASE_POOL="0",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        META_GRAPH_URL=settings.META_GRAPH_URL,
        X_API_URL=settings.X_API_URL,
        LINKEDIN_API_URL=settings.LINKEDIN_API_URL,
        MEDIA_FETCH_ALLOWED_HOSTS=",".join(settings.MEDIA_FETCH_ALLOWED_HOSTS),
        WEBHOOK_ALLOWED_HOSTS=",".join(settings.WEBHOOK_ALLOWED_HOSTS),
        # The settings area's OAuth providers and app credentials (tests/fakes/oauth.py).
        **{
            name: str(getattr(settings, name, "") or "")
            for name in (
                "META_APP_ID",
                "META_APP_SECRET",
                "META_VERIFY_TOKEN",
                "META_OAUTH_DIALOG_URL",
                "META_OAUTH_TOKEN_URL",
                "X_CLIENT_ID",
                "X_CLIENT_SECRET",
                "X_OAUTH_AUTHORIZE_URL",
                "X_OAUTH_TOKEN_URL",
                "LINKEDIN_CLIENT_ID",
                "LINKEDIN_CLIENT_SECRET",
                "LINKEDIN_OAUTH_AUTHORIZE_URL",
                "LINKEDIN_OAUTH_TOKEN_URL",
            )
        },
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def _log(name: str):
    ARTIFACTS.mkdir(exist_ok=True)
    return open(ARTIFACTS / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process


def start_uvicorn(env: dict[str, str], log_name: str = "uvicorn") -> LiveProcess:
    """A uvicorn process serving Parley on a free port, ready to answer; stop it with ``stop``."""
    port = _free_port()
    log = _log(log_name)
    process = subprocess.Popen(
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
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{url}/login/", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            raise RuntimeError(f"uvicorn did not start; see {ARTIFACTS / f'{log_name}.log'}")
        time.sleep(0.1)
    return LiveProcess(url=url, process=process)


def stop(live: LiveProcess) -> None:
    _stop(live.process)


@pytest.fixture(scope="session")
def _live_server_session(django_db_setup, django_db_blocker, fake_platforms_session):
    live = start_uvicorn(process_env())
    yield live
    stop(live)


@pytest.fixture
def live_server_process(_live_server_session, transactional_db) -> LiveProcess:
    """The ASGI app (pages, API, webhooks, websockets) in its own uvicorn process."""
    return _live_server_session


def start_celery_worker(env: dict[str, str], name: str, log_name: str = "celery-worker"):
    """A Celery worker process consuming every queue (node ``name``), answering pings."""
    log = _log(log_name)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "parley",
            "worker",
            "-P",
            "solo",
            "-Q",
            settings.CELERY_WORKER_QUEUES,
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 40
    while not any(name in node for reply in app.control.ping(timeout=0.5) for node in reply):
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            raise RuntimeError(f"celery worker did not start; see {ARTIFACTS / f'{log_name}.log'}")
    return process


def stop_process(process: subprocess.Popen) -> None:
    _stop(process)


@pytest.fixture(scope="session")
def _celery_worker_session(django_db_setup, fake_platforms_session):
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # stale tasks of an earlier run
    process = start_celery_worker(process_env(), f"test-{os.getpid()}")
    yield process
    _stop(process)


@pytest.fixture
def celery_worker_process(_celery_worker_session, transactional_db):
    """A real Celery worker process consuming every queue from the test Redis. After the test
    it waits for the worker to finish what the test set off (listeners react after commit):
    the database flush that ends the test must not race the worker's last transactions."""
    yield _celery_worker_session
    wait_until_worker_idle()


def wait_until_worker_idle(timeout: float = 20.0) -> None:
    """Until the queues are empty and the worker answers with nothing running, twice in a row
    (a task may queue another). A solo worker cannot answer while it runs a task: no answer
    is "busy". Tasks held for a later time (a retry's ETA) are not waited for."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    queues = settings.CELERY_WORKER_QUEUES.split(",")
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2 and time.monotonic() < deadline:
        waiting = sum(client.llen(queue) for queue in queues)
        replies = app.control.inspect(timeout=0.5).active() or {}
        idle = bool(replies) and not any(replies.values())
        quiet = quiet + 1 if waiting == 0 and idle else 0
        if quiet < 2:
            time.sleep(0.1)


FLUSH_ATTEMPTS = 5


@pytest.fixture(scope="session", autouse=True)
def _flush_outlasts_a_deadlock():
    """The flush that ends a live test can meet a transaction the server process starts after
    the test (a closed socket marks its user away): PostgreSQL then cancels the flush's
    TRUNCATE as a deadlock, and every later test starts on the rows left behind. The flush is
    tried again once the other transaction is through."""
    flush = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        for attempt in range(1, FLUSH_ATTEMPTS + 1):
            try:
                return flush(self, sql_list)
            except OperationalError as exc:
                if "deadlock detected" not in str(exc) or attempt == FLUSH_ATTEMPTS:
                    raise
                time.sleep(0.2 * attempt)

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = flush


@pytest.fixture(scope="session")
def _chromium_session() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def chromium(_chromium_session):
    """Headless Chromium (Debian's), shared by the session; make a context per user."""
    return _chromium_session
