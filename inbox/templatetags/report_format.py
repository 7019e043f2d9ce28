"""Formatting for the reports page: durations, percentages, changes, heat-map shades."""

from __future__ import annotations

from django import template
from django.utils.dates import WEEKDAYS_ABBR

from inbox import formatting

register = template.Library()


@register.filter
def weekday(index: int) -> str:
    """Monday (0) to Sunday (6), abbreviated in the reader's language: the heat map's rows."""
    return str(WEEKDAYS_ABBR.get(index, index))


@register.filter
def duration(seconds: float | None) -> str:
    """1234 → "20.6 min"; None → "–"."""
    return "–" if seconds is None else formatting.duration(seconds, decimals=1)


@register.filter
def figure(value, kind: str) -> str:
    """A headline figure by its kind: count, duration or percent."""
    if value is None:
        return "–"
    if kind == "duration":
        return duration(value)
    if kind == "percent":
        return f"{value:.1f} %"
    return f"{int(value):,}"


@register.filter
def percent(value) -> str:
    return "–" if value is None else f"{value:.1f} %"


@register.filter
def change(value) -> str:
    """+12.5 % / −3.0 % against the previous period."""
    if value is None:
        return "no previous data"
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return f"{sign}{abs(value):.1f} %"


@register.filter
def shade(cell: dict, peak: int) -> str:
    """Background of a heat-map cell: white to dark blue by its share of the busiest hour."""
    total = cell["in"] + cell["out"]
    strength = 0.0 if not peak else total / peak
    return f"rgba(37, 99, 235, {strength:.2f})"
