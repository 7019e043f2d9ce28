"""One ingest batch (a transaction applying many events at once) as a scope that services can
use without passing anything along:

- ``memoised``: settings-like reads (active SLA policies, auto-assigning teams) done once per
  batch rather than once per conversation;
- ``gather``: requests collected over the batch and handed on once at its end (report
  metrics refreshes: one task per batch, not one per message);
- ``update_each``: rows updated each with its own values in one statement, not one per row.

Outside a scope ``memoised`` and ``gather`` act at once, so a single write behaves exactly as
before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connections, models, router

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


def update_each(model: type[models.Model], changes: Mapping[Any, Mapping[str, Any]]) -> None:
    """``UPDATE`` rows by primary key, each with its own values (``{pk: {field: value}}``,
    fields by name or attname): one statement per set of fields changed, per
    ``bulk_batch_size`` rows, joining a ``VALUES`` list (PostgreSQL, SQLite 3.33+). One UPDATE
    per row costs a round trip and a plan each, and ``bulk_update``'s CASE per field and row
    costs more to build than those."""
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    table, pk_column = quote(meta.db_table), quote(meta.pk.column)
    alike: dict[tuple[str, ...], list[Any]] = {}
    for pk, values in changes.items():
        if values:
            alike.setdefault(tuple(sorted(values)), []).append(pk)
    for names, pks in alike.items():
        fields = [meta.get_field(name) for name in names]
        size = connection.ops.bulk_batch_size([meta.pk, *fields], pks) or len(pks)
        for start in range(0, len(pks), size):
            chunk = pks[start : start + size]
            rows = [[changes[pk][name] for name in names] for pk in chunk]
            # A column that is NULL in every row is set to NULL: a VALUES column of only NULLs
            # has no type PostgreSQL can assign.
            given = [i for i in range(len(names)) if any(row[i] is not None for row in rows)]
            assignments = ", ".join(
                f"{quote(field.column)} = "
                + (f"v.column{given.index(i) + 2}" if i in given else "NULL")
                for i, field in enumerate(fields)
            )
            params: list[Any] = []
            for pk, row in zip(chunk, rows, strict=True):
                params.append(pk)
                params += [fields[i].get_db_prep_save(row[i], connection) for i in given]
            values_row = "(" + ", ".join(["%s"] * (len(given) + 1)) + ")"
            # Only the model's own quoted names are formatted in; every value is a parameter.
            sql = (
                f"UPDATE {table} SET {assignments} "  # noqa: S608
                f"FROM (VALUES {', '.join([values_row] * len(chunk))}) AS v "
                f"WHERE {table}.{pk_column} = v.column1"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
