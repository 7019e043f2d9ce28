"""The periodic schedule inside the ASGI process (``parley.scheduler``): run by the embedded
default, which has no broker and no beat; never where a broker exists."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from asgiref.testing import ApplicationCommunicator
from django.utils import timezone

from parley import scheduler
from parley.asgi import application
from tests.helpers import run_async, wait_for

RUNS: list[str] = []


def periodic_probe() -> None:
    RUNS.append("periodic")


def failing_probe() -> None:
    RUNS.append("failing")
    raise RuntimeError("a periodic task that fails")


@pytest.fixture(autouse=True)
def no_scheduler_left():
    RUNS.clear()
    yield
    scheduler.stop()
    RUNS.clear()


def scheduler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "parley-scheduler"]


def lifespan(*phases: str) -> list[str]:
    """Send the server's lifespan messages (``startup``, then ``shutdown``) to the ASGI app and
    return what it answered; ``scheduler.current()`` is read between them by the caller."""

    async def exchange() -> list[str]:
        communicator = ApplicationCommunicator(application, {"type": "lifespan"})
        answers = []
        for phase in phases:
            await communicator.send_input({"type": f"lifespan.{phase}"})
            answers.append((await communicator.receive_output(timeout=15))["type"])
        if "shutdown" in phases:
            await communicator.wait(timeout=15)
        else:
            communicator.future.cancel()
        return answers

    return run_async(exchange())


def test_without_a_broker_the_asgi_process_runs_the_schedule_and_stops_it_on_shutdown(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # what no REDIS_URL gives

    assert lifespan("startup") == ["lifespan.startup.complete"]
    running = scheduler.current()
    assert running is not None and running.running
    assert len(scheduler_threads()) == 1
    # A second startup (another server in the same process) does not make a second scheduler.
    assert scheduler.start() is running

    assert lifespan("shutdown") == ["lifespan.shutdown.complete"]
    assert scheduler.current() is None
    assert not running.running
    assert scheduler_threads() == []


def test_with_a_broker_the_asgi_process_does_not_run_the_schedule(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker: beat runs the schedule

    assert lifespan("startup", "shutdown") == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert scheduler.current() is None
    assert scheduler_threads() == []
    assert scheduler.call_at(timezone.now(), periodic_probe) is False


def test_periodic_tasks_run_on_their_interval_and_a_failure_does_not_end_the_schedule():
    own = scheduler.Scheduler(
        {
            "probe": (f"{__name__}.periodic_probe", 0.2),
            "failing": (f"{__name__}.failing_probe", 0.2),
        }
    )
    own.start()
    try:
        wait_for(lambda: RUNS.count("periodic") >= 2 and RUNS.count("failing") >= 2, timeout=5)
    finally:
        own.stop()
    assert not own.running


def test_a_call_at_runs_when_it_falls_due_not_before():
    own = scheduler.Scheduler({})
    own.start()
    try:
        own.call_at(timezone.now() + timedelta(seconds=1), periodic_probe)
        time.sleep(0.6)
        assert RUNS == []
        wait_for(lambda: RUNS == ["periodic"], timeout=3)
    finally:
        own.stop()
