"""Beyond one machine: two web processes and two Celery workers on one PostgreSQL and one Redis,
as on several hosts (docs/scaling.md). No process holds state the others need: a webhook into
one web process reaches a socket on the other, and a burst is shared by the workers without
anything processed twice."""

from __future__ import annotations

import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from inbox.models import Message, WebhookEvent
from tests.helpers import sandbox_body, wait_for
from tests.live import (
    ARTIFACTS,
    process_env,
    start_celery_worker,
    start_uvicorn,
    stop,
    stop_process,
)
from tests.test_live_stack import post_live, receive_events, session_cookie

pytestmark = pytest.mark.live

WORKERS = ("scale-worker-1", "scale-worker-2")
RECEIVED = re.compile(r"Task [\w.]+\[[0-9a-f-]+\] received")


@pytest.fixture
def two_of_each(transactional_db, fake_platforms_session):
    """Two uvicorn processes and two Celery workers (each logging to its own file), started
    as a deployment on several hosts would run them: same database, same Redis, nothing else
    shared."""
    for name in ("scale-web-1", "scale-web-2", *WORKERS):
        (ARTIFACTS / f"{name}.log").unlink(missing_ok=True)
    env = process_env()
    webs, workers = [], []
    try:
        webs = [start_uvicorn(env, log_name=name) for name in ("scale-web-1", "scale-web-2")]
        workers = [
            start_celery_worker(env, f"{name}-{os.getpid()}", log_name=name) for name in WORKERS
        ]
        yield webs
    finally:
        for worker in workers:
            stop_process(worker)
        for web in webs:
            stop(web)


def tasks_received(worker: str) -> int:
    return len(RECEIVED.findall((ARTIFACTS / f"{worker}.log").read_text(errors="replace")))


def test_a_webhook_into_one_web_process_reaches_a_socket_on_the_other(two_of_each, account, agent):
    first, second = two_of_each

    events = receive_events(
        second.url,
        session_cookie(agent),
        lambda: post_live(first.url, account, sandbox_body(text="across processes")),
        3,
    )

    received = [e for e in events if e.get("type") == "inbox.message_received"]
    assert received, events
    assert Message.objects.get(pk=received[0]["data"]["message"]).text == "across processes"


def test_a_burst_is_shared_by_both_workers_and_nothing_is_processed_twice(two_of_each, account):
    webs = two_of_each
    before = {worker: tasks_received(worker) for worker in WORKERS}
    bodies = [
        sandbox_body(message_id=f"burst-{n}", sender_id=f"cust-{n % 10}", text=f"burst {n}")
        for n in range(60)
    ]
    # Every body once into each web process, as a platform retrying on another host would.
    posts = [(web.url, body) for body in bodies for web in webs]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda post: post_live(post[0], account, post[1]), posts))

    assert [a.status_code for a in answers] == [200] * len(posts)
    wait_for(
        lambda: not WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.RECEIVED).exists(),
        timeout=60,
    )
    by_platform_id = Counter(
        Message.objects.filter(account=account).values_list("external_id", flat=True)
    )
    assert by_platform_id == Counter({f"burst-{n}": 1 for n in range(60)})
    assert WebhookEvent.objects.filter(account=account).count() == len(posts)
    assert set(WebhookEvent.objects.values_list("outcome", flat=True)) == {
        WebhookEvent.Outcome.PROCESSED
    }
    assert not WebhookEvent.objects.filter(attempts__gt=1).exists()
    # Both workers took part: each received tasks during the burst.
    shares = {worker: tasks_received(worker) - before[worker] for worker in WORKERS}
    assert all(shares.values()), shares
