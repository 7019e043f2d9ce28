"""Stage timestamps for ``bench/live_dom.py --stages``: loaded into the benchmarked Celery
worker with ``--include bench.stage_probe`` (never by Parley itself).

Each worker process appends JSON lines to ``$BENCH_STAGE_LOG``: every task's start and end
(name, process, the number of ids it was given) and every live push (the event ids and the
moment before and after the channel layer took them). Wall clock (``time.time()``), the same
clock as the client's sends and the database rows' timestamps on this one machine.
"""

from __future__ import annotations

import json
import os
import time

from celery.signals import task_postrun, task_prerun

from inbox import live

_PATH = os.environ.get("BENCH_STAGE_LOG", "")
_started: dict[str, float] = {}


def _write(record: dict) -> None:
    if not _PATH:
        return
    line = json.dumps(record) + "\n"
    # One write per line in append mode: lines of several processes never interleave.
    fd = os.open(_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@task_prerun.connect
def _task_started(task_id=None, task=None, args=None, **_) -> None:
    _started[task_id] = time.time()


@task_postrun.connect
def _task_ended(task_id=None, task=None, args=None, **_) -> None:
    ids = args[0] if args and isinstance(args[0], list) else []
    _write(
        {
            "task": task.name,
            "pid": os.getpid(),
            "start": _started.pop(task_id, None),
            "end": time.time(),
            "ids": len(ids),
        }
    )


_send = live.send_to_groups


def _timed_send(messages, handler="inbox.event"):
    began = time.time()
    _send(messages, handler)
    ids = [payload.get("id") for _group, payload in messages if isinstance(payload, dict)]
    _write({"push": [i for i in ids if i], "start": began, "end": time.time(), "pid": os.getpid()})


live.send_to_groups = _timed_send
