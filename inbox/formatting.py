"""How Parley writes times and durations, on every page and in every sentence it shows.

- ``when``: "Nov 23, 17:05" ("Nov 23, 2025, 17:05" in another year), in the agent's zone and
  language (the order of day and month, the month's name and the units are translated).
- ``ago``: "just now", "4 min ago", "in 3 h".
- ``duration``: how long, in three readings of one unit table — "3 h" (at a glance),
  "3 h 12 min" (``parts=2``: a window that closes), "20.6 min" (``decimals=1``: a figure).

static/js/times.js writes ``when`` and ``ago`` the same way in the browser, to keep them fresh.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import formats, timezone
from django.utils.dates import MONTHS_3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, pgettext, pgettext_lazy

# (seconds in the unit, its name), largest first. The names are abbreviations each language
# writes its own way ("d" is "T" in German, "j" in French).
UNITS = (
    (86400, "d", pgettext_lazy("duration unit: days", "d")),
    (3600, "h", pgettext_lazy("duration unit: hours", "h")),
    (60, "min", pgettext_lazy("duration unit: minutes", "min")),
)
# A figure keeps the smaller unit until the larger one would read at least this many: "75 s",
# "80.0 min" and "30.0 h" say more than "1.3 min", "1.3 h" and "1.3 d".
FIGURE_FROM = {"d": 2.0, "h": 1.5, "min": 1.5}


@dataclass(frozen=True)
class _Words:
    """The fixed words of ``when``, ``ago`` and ``short_since`` in one language: translated
    once per language and process, not a dozen times per row of the inbox list."""

    months: tuple[str, ...]  # "Jan" … "Dec", index 1 … 12
    date: str
    date_with_year: str
    date_time: str
    units: tuple[tuple[int, str], ...]  # (seconds in the unit, its name), largest first
    under_a_minute: str
    just_now: str
    ago: str
    in_: str


@functools.lru_cache(maxsize=32)
def _words(language: str | None) -> _Words:
    """Called with the active language, which the translations below are in."""
    return _Words(
        months=("", *(str(MONTHS_3[m]).capitalize() for m in range(1, 13))),
        date=pgettext("date", "%(month)s %(day)s"),
        date_with_year=pgettext("date with year", "%(month)s %(day)s, %(year)s"),
        date_time=gettext("%(date)s, %(time)s"),
        units=tuple((size, str(name)) for size, _key, name in UNITS),
        under_a_minute=gettext("<1 min"),
        just_now=gettext("just now"),
        ago=gettext("%(duration)s ago"),
        in_=gettext("in %(duration)s"),
    )


def duration(seconds: float, *, parts: int = 1, decimals: int = 0) -> str:
    """``seconds`` in words: "4 min", "3 h", "2 d" (whole units, rounded down); with ``parts=2``
    the next unit too: "3 h 12 min", "2 d 3 h"; with ``decimals`` a figure in one unit:
    "45 s", "20.6 min", "2.0 h"."""
    seconds = max(0.0, float(seconds))
    if decimals:
        # The decimal separator of the reader's language: "20,6 min" in German.
        for size, key, name in UNITS:
            if seconds >= FIGURE_FROM[key] * size:
                figure = f"{seconds / size:.{decimals}f}"  # rounded (number_format truncates)
                return f"{figure.replace('.', formats.get_format('DECIMAL_SEPARATOR'))} {name}"
        unit = pgettext("duration unit: seconds", "s")
        return f"{seconds:.0f} {unit}"
    words: list[str] = []
    units = _words(get_language()).units
    for size, name in units:
        if words or seconds >= size or size == units[-1][0]:
            words.append(f"{int(seconds // size)} {name}")
            seconds %= size
        if len(words) == parts:
            break
    return " ".join(words)


def when(value: datetime | date | None) -> str:
    """The date and time, in the agent's time zone and language: "Nov 23, 17:05" ("23 nov,
    17:05" in Spanish); a date: "Nov 23"."""
    if not value:
        return ""
    words = _words(get_language())
    this_year = timezone.localdate().year
    local = timezone.localtime(value) if isinstance(value, datetime) else value
    # Formatted by hand, not with Django's dateformat: a tenth of the cost (the list renders
    # many rows). The order of the parts is each language's (its translation of these).
    parts = {"month": words.months[local.month], "day": local.day, "year": local.year}
    day = (words.date_with_year if local.year != this_year else words.date) % parts
    if not isinstance(value, datetime):
        return day
    return words.date_time % {"date": day, "time": f"{local:%H:%M}"}


def short_since(value: datetime | None) -> str:
    """ "4 min", "3 h", "2 d" since ``value``: how long something has waited."""
    if not value:
        return ""
    seconds = (timezone.now() - value).total_seconds()
    if seconds < 60:
        return _words(get_language()).under_a_minute
    return duration(seconds)


def ago(value: datetime | None) -> str:
    """ "just now", "4 min ago", "in 3 h": ``value`` relative to now."""
    if not value:
        return ""
    seconds = int((timezone.now() - value).total_seconds())
    words = _words(get_language())
    if abs(seconds) < 60:
        return words.just_now
    if seconds > 0:
        return words.ago % {"duration": duration(seconds)}
    return words.in_ % {"duration": duration(-seconds)}


def time_ago(value: datetime | None) -> SafeString:
    """A ``<time>`` that reads "4 min ago", titled with the date; static/js/times.js keeps
    its text current while the page stays open."""
    if not value:
        return mark_safe("")
    return mark_safe(  # noqa: S308 - each part escaped
        f'<time datetime="{escape(value.isoformat())}" data-ago title="{escape(when(value))}">'
        f"{escape(ago(value))}</time>"
    )


def initials(name: str) -> str:
    """ "Ada Lovelace" → "AL": the avatar of someone without a picture."""
    words = [w for w in (name or "?").split() if w]
    return "".join(w[0] for w in words[:2]).upper() or "?"
