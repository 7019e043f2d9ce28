"""The API's JSON parser: DRF's, with one hole closed."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser turns ValueError into a 400, but JSON nested deeper than the
    interpreter's recursion limit (``[[[[…``) raises RecursionError: a 500 for a few KB of
    brackets. It is a 400 here too."""

    def parse(self, stream, media_type: str | None = None, parser_context=None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
