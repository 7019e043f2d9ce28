"""Template helpers of the agent pages: safe links in customer text, times and durations."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from inbox import presence, undo
from inbox.formatting import ago, initials, short_since, time_ago, when
from inbox.rows import row_html

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


# One way to write times and durations (inbox/formatting.py), registered for the templates.
register.filter("when", when)
register.filter("short_since", short_since)
register.filter("ago", ago)
register.filter("time_ago", time_ago)
register.filter("initials", initials)


@register.simple_tag
def conversation_row(conversation) -> SafeString:
    """One inbox list row (built in Python for speed: inbox.rows)."""
    return row_html(conversation)


@register.filter
def presence_label(status: str) -> str:
    """An agent's status ("online", "offline", …) in the reader's language."""
    return presence.status_label(status)


@register.simple_tag
def bot_name() -> str:
    return BOT_NAME


@register.simple_tag(takes_context=True)
def undo_offer(context) -> dict | None:
    """The session's open offer to undo a resolve (inbox/undo.py), for the page's flash."""
    request = context.get("request")
    return undo.pending(request) if request is not None and hasattr(request, "session") else None
