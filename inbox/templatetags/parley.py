"""Template helpers of the agent pages: safe links in customer text, short durations."""

from __future__ import annotations

import re
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

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


@register.filter
def short_since(value: datetime | None) -> str:
    """ "4 min", "3 h", "2 d" since ``value``: the list's waiting time."""
    if not value:
        return ""
    seconds = max(0, int((timezone.now() - value).total_seconds()))
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


@register.filter
def initials(name: str) -> str:
    words = [w for w in (name or "?").split() if w]
    return "".join(w[0] for w in words[:2]).upper() or "?"


@register.simple_tag
def conversation_row(conversation) -> SafeString:
    """One inbox list row (built in Python for speed: inbox.rows)."""
    from inbox.rows import row_html

    return row_html(conversation)
