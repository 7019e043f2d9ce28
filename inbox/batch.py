"""One ingest batch (a transaction applying many events at once) as a scope that services can
use without passing anything along:

- ``memoised``: settings-like reads (active SLA policies, auto-assigning teams) done once per
  batch rather than once per conversation;
- ``gather``: requests collected over the batch and handed on once at its end (report
  metrics refreshes: one task per batch, not one per message).

Outside a scope both act at once, so a single write behaves exactly as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_local = threading.local()


class _Scope:
    def __init__(self) -> None:
        self.memo: dict[Hashable, Any] = {}
        self.gathered: dict[Callable[[list[Any]], None], list[Any]] = {}


@contextmanager
def scope() -> Iterator[None]:
    """A batch; nested scopes belong to the outermost one. What was gathered is handed on when
    the scope ends normally (an exception drops it, with the transaction it belongs to)."""
    if getattr(_local, "scope", None) is not None:
        yield
        return
    current = _local.scope = _Scope()
    try:
        yield
    finally:
        _local.scope = None
    for flush, items in current.gathered.items():
        flush(items)


def memoised(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, once per batch for this key."""
    current = getattr(_local, "scope", None)
    if current is None:
        return compute()
    if key not in current.memo:
        current.memo[key] = compute()
    return current.memo[key]


def gather(item: Any, flush: Callable[[list[Any]], None]) -> None:
    """Hand ``item`` to ``flush`` with the others of the batch when it ends (now, outside one)."""
    current = getattr(_local, "scope", None)
    if current is None:
        flush([item])
    else:
        current.gathered.setdefault(flush, []).append(item)
