"""Template helpers of the agent pages: safe links in customer text, short durations."""

from __future__ import annotations

import re
from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from inbox import undo

register = template.Library()

# How the chatbot signs what it writes in a thread (its messages and its private notes).
BOT_NAME = "Parley bot"

# http(s) links only; the text around them is escaped first, so nothing the customer wrote is
# ever markup.
URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
TRAILING = ".,;:!?)]}'\""


def http_url(url: str | None) -> str:
    """``url`` when it is an absolute http(s) URL, else "": a platform's URL is rendered as an
    href or src only through here, so ``javascript:``, ``data:`` and friends never are."""
    url = (url or "").strip()
    scheme, _, rest = url.partition(":")
    if scheme.lower() not in ("http", "https") or not rest.startswith("//"):
        return ""
    return url


register.filter("http_url", http_url)


@register.filter
def safe_links(text: str) -> SafeString:
    """Escape customer text, turn http(s) URLs into links that open safely, keep newlines."""
    text = text or ""
    parts: list[str] = []
    last = 0
    for match in URL.finditer(text):
        url = match.group(0)
        trail = ""
        while url and url[-1] in TRAILING:
            trail = url[-1] + trail
            url = url[:-1]
        parts.append(escape(text[last : match.start()]))
        parts.append(
            f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{escape(url)}</a>'
        )
        parts.append(escape(trail))
        last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts).replace("\n", "<br>"))  # noqa: S308 - every part escaped


# One way to write times, here and in static/js/times.js (which keeps them fresh on the page):
# "Nov 23, 17:05" ("Nov 23, 2025, 17:05" in another year), "just now" / "4 min ago" /
# "in 3 h", and "4 min" for how long something has waited.


@register.filter
def when(value: datetime | date | None) -> str:
    """The date and time, in the server's time zone: "Nov 23, 17:05"; a date: "Nov 23"."""
    if not value:
        return ""
    this_year = timezone.localdate().year
    if not isinstance(value, datetime):
        return f"{value:%b} {value.day}" + (f", {value.year}" if value.year != this_year else "")
    local = timezone.localtime(value)
    # strftime, not Django's dateformat: a tenth of the cost (the list renders many rows).
    year = f", {local.year}" if local.year != this_year else ""
    return f"{local:%b} {local.day}{year}, {local:%H:%M}"


@register.filter
def short_since(value: datetime | None) -> str:
    """ "4 min", "3 h", "2 d" since ``value``: how long something has waited."""
    if not value:
        return ""
    seconds = max(0, int((timezone.now() - value).total_seconds()))
    if seconds < 60:
        return "<1 min"
    return _span(seconds)


def _span(seconds: int) -> str:
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


@register.filter
def ago(value: datetime | None) -> str:
    """ "just now", "4 min ago", "in 3 h": ``value`` relative to now."""
    if not value:
        return ""
    seconds = int((timezone.now() - value).total_seconds())
    if abs(seconds) < 60:
        return "just now"
    return f"{_span(seconds)} ago" if seconds > 0 else f"in {_span(-seconds)}"


@register.filter
def time_ago(value: datetime | None) -> SafeString:
    """A ``<time>`` that reads "4 min ago", titled with the date; static/js/times.js keeps
    its text current while the page stays open."""
    if not value:
        return mark_safe("")
    return format_html(
        '<time datetime="{}" data-ago title="{}">{}</time>',
        value.isoformat(),
        when(value),
        ago(value),
    )


@register.filter
def initials(name: str) -> str:
    words = [w for w in (name or "?").split() if w]
    return "".join(w[0] for w in words[:2]).upper() or "?"


@register.simple_tag
def conversation_row(conversation) -> SafeString:
    """One inbox list row (built in Python for speed: inbox.rows)."""
    from inbox.rows import row_html

    return row_html(conversation)


@register.simple_tag
def bot_name() -> str:
    return BOT_NAME


@register.simple_tag(takes_context=True)
def undo_offer(context) -> dict | None:
    """The session's open offer to undo a resolve (inbox/undo.py), for the page's flash."""
    request = context.get("request")
    return undo.pending(request) if request is not None and hasattr(request, "session") else None
