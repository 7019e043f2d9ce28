"""The periodic schedule run inside the web process, for the embedded default.

With no broker (no ``REDIS_URL``) tasks run eagerly in the process that enqueues them and
there is no Celery beat, so the one ASGI process serving Parley runs ``PERIODIC_TASKS`` itself:
``parley.asgi`` starts this scheduler on the ASGI lifespan's startup and stops it on shutdown
(uvicorn sends the lifespan; daphne does not, so serve the embedded default with uvicorn).
With a broker, beat runs the schedule exactly once for the deployment and this stays off: a
scheduler in every web process would multiply it.

One scheduler per process, in one thread. Besides the periodic list it runs one-off calls at a
given time (``call_at``), the embedded counterpart of a Celery ETA task: a reply a platform
rate-limited is retried when the platform said, not at the next sweep.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string

from parley.celery import PERIODIC_TASKS

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5
STOP_TIMEOUT_SECONDS = 10.0


class Scheduler:
    """Runs each periodic task every its interval (first run one interval after the start, as
    beat does) and one-off calls when they fall due, one at a time, in its own thread."""

    def __init__(self, periodic: dict[str, tuple[str, float]] = PERIODIC_TASKS) -> None:
        self._periodic = periodic
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._due: list[tuple[float, int, str, Callable[..., object], tuple]] = []
        self._order = itertools.count()  # ties in the heap never compare the callables
        self._thread = threading.Thread(target=self._run, name="parley-scheduler", daemon=True)

    def start(self) -> None:
        now = time.monotonic()
        for name, (path, seconds) in self._periodic.items():
            self._push(now + seconds, name, self._run_periodic, name, path, seconds)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the task running now, if any (waiting at most ``STOP_TIMEOUT_SECONDS``)."""
        self._stop.set()
        self._thread.join(STOP_TIMEOUT_SECONDS)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def call_at(self, when: datetime, func: Callable[..., object], *args: object) -> None:
        delay = max(0.0, (when - timezone.now()).total_seconds())
        self._push(time.monotonic() + delay, getattr(func, "name", repr(func)), func, *args)

    def _push(self, at: float, name: str, func: Callable[..., object], *args: object) -> None:
        with self._lock:
            heapq.heappush(self._due, (at, next(self._order), name, func, args))

    def _pop_due(self) -> tuple[str, Callable[..., object], tuple] | None:
        with self._lock:
            if self._due and self._due[0][0] <= time.monotonic():
                _, _, name, func, args = heapq.heappop(self._due)
                return name, func, args
        return None

    def _run_periodic(self, name: str, path: str, seconds: float) -> None:
        # Scheduled again first: a failing run must not end its schedule.
        self._push(time.monotonic() + seconds, name, self._run_periodic, name, path, seconds)
        import_string(path)()

    def _run(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            while not self._stop.is_set() and (due := self._pop_due()):
                name, func, args = due
                # A long-lived thread: connections are checked around each run, as between
                # requests, so a broken one does not fail every later task.
                close_old_connections()
                try:
                    func(*args)
                except Exception:
                    log.exception("scheduled task %s failed", name)
                finally:
                    close_old_connections()


_current: Scheduler | None = None
_current_lock = threading.Lock()


def needed() -> bool:
    """Only without a broker: tasks run eagerly in this process, and no beat exists."""
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def start() -> Scheduler | None:
    """Start this process's scheduler if the deployment needs one and none runs yet."""
    global _current
    with _current_lock:
        if _current is None and needed():
            _current = Scheduler()
            _current.start()
            log.info("running the periodic schedule in this process (no broker)")
        return _current


def stop() -> None:
    global _current
    with _current_lock:
        if _current is not None:
            _current.stop()
            _current = None


def current() -> Scheduler | None:
    return _current


def call_at(when: datetime, func: Callable[..., object], *args: object) -> bool:
    """Run ``func(*args)`` at ``when`` in this process's scheduler; whether one runs here.
    Without one (a management command), the periodic sweep picks the work up later."""
    scheduler = _current
    if scheduler is None:
        return False
    scheduler.call_at(when, func, *args)
    return True
