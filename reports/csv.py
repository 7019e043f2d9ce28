"""CSV exports of the report tables (through ``inbox.csv_export``, like every CSV)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.http import StreamingHttpResponse

from inbox import csv_export


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 1)
    return "" if value is None else value


def csv_response(
    filename: str, columns: Sequence[str], rows: Iterable[dict[str, Any]]
) -> StreamingHttpResponse:
    """The rows (dicts) as a streamed CSV with one column per name in ``columns``."""
    cells = ([_cell(row.get(column)) for column in columns] for row in rows)
    return csv_export.csv_response(filename, columns, cells)
