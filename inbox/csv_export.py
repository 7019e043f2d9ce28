"""Every CSV that Parley exports goes through here: streamed line by line (a long export never
sits in memory as one string), and every cell neutralised against formula injection.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and tab or
carriage return are read as the start of one by some of them (OWASP's CSV injection list), so a
customer's name, a username or an audit note could otherwise run ``=HYPERLINK(...)`` on the
manager's machine. Such cells get a leading apostrophe: shown as text, not evaluated.
(defusedcsv does the same for ``= + - @`` but not for tab and carriage return.)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet should show it: text that could start a formula is quoted.
    Numbers are left alone (a negative number is not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header and each row as CSV lines, every cell through :func:`safe_cell`."""
    writer = csv.writer(_Echo())
    yield writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """A streamed CSV download."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
