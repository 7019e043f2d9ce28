"""One inbox list row as HTML, built in Python: the list renders 50 of them per request and
Django's template engine spent most of the page's time on them (see bench/README.md). Every
value is escaped by ``escape``; keep the markup in step with the CSS and the live script
(``#row-<id>``, ``data-conversation``, ``data-unread``, one ``<a>`` per row).

The row's fixed words (statuses, platforms, titles) are translated once per language and
process (``_words``): Django's ``get_FOO_display`` and ``gettext`` cost more than the rest of
the row together when called for each of 50 rows."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from inbox.formatting import ago, initials, short_since, time_ago, when
from inbox.models import Conversation, Platform


@dataclass(frozen=True)
class _Words:
    statuses: dict[str, str]
    priorities: dict[int, str]
    platforms: dict[str, str]
    sla_breached: str
    sla_due: str  # "SLA due %(when)s"
    unread: str  # "%(count)s unread"
    waiting_since: str  # "Waiting since %(when)s"
    waiting: str  # "waiting %(duration)s"
    test_badge: str  # markup
    until: str  # "until %(when)s"
    unassigned: str  # markup
    unknown_contact: str
    select: str  # "Select conversation with %(name)s"
    unknown_contact_lower: str
    account_title: str  # "%(account)s on %(platform)s"


@functools.lru_cache(maxsize=32)
def _words(language: str | None) -> _Words:
    """Called with the active language, which the translations below are in."""
    return _Words(
        statuses={value: str(label) for value, label in Conversation.Status.choices},
        priorities={value: str(label) for value, label in Conversation.Priority.choices},
        platforms={value: str(label) for value, label in Platform.choices},
        sla_breached=escape(_("SLA breached")),
        sla_due=_("SLA due %(when)s"),
        unread=_("%(count)s unread"),
        waiting_since=_("Waiting since %(when)s"),
        waiting=_("waiting %(duration)s"),
        test_badge=f'<span class="badge test-badge">{escape(_("test"))}</span> · ',
        until=_("until %(when)s"),
        unassigned=f"<em>{escape(_('unassigned'))}</em>",
        unknown_contact=_("Unknown contact"),
        select=_("Select conversation with %(name)s"),
        unknown_contact_lower=_("unknown contact"),
        account_title=_("%(account)s on %(platform)s"),
    )


def _side(c: Conversation, words: _Words) -> str:
    parts = []
    sla_status = getattr(c, "sla_status", "")
    sla_due_at = getattr(c, "sla_due_at", None)
    if sla_status == "breached":
        parts.append(
            f'<span class="sla sla-breached" title="{words.sla_breached}">'
            f"{words.sla_breached}</span>"
        )
    elif sla_status and sla_due_at:
        parts.append(
            f'<span class="sla sla-{escape(sla_status)}" '
            f'title="{escape(words.sla_due % {"when": when(sla_due_at)})}">'
            f"{escape(words.sla_due % {'when': ago(sla_due_at)})}</span>"
        )
    if c.unread:
        parts.append(
            f'<span class="unread-count" title="{escape(words.unread % {"count": c.unread})}">'
            f"{escape(c.unread)}</span>"
        )
    # A resolved conversation is not waiting for anyone, whatever its last message was.
    if c.waiting_since and c.status != Conversation.Status.RESOLVED:
        parts.append(
            f'<span class="waiting" '
            f'title="{escape(words.waiting_since % {"when": when(c.waiting_since)})}">'
            f"{escape(words.waiting % {'duration': short_since(c.waiting_since)})}</span>"
        )
    else:
        parts.append(time_ago(c.last_activity_at))
    return "".join(parts)


def _meta(c: Conversation, words: _Words) -> str:
    parts = []
    if c.is_test:  # shown only when the list asks for test conversations (?tests=1)
        parts.append(words.test_badge)
    if c.priority >= Conversation.Priority.HIGH:
        priority = words.priorities.get(c.priority, c.priority)
        parts.append(f'<span class="prio">{escape(priority)}</span> · ')
    parts.append(escape(words.statuses.get(c.status, c.status)))
    if c.status == Conversation.Status.SNOOZED and c.snoozed_until:
        parts.append(" " + escape(words.until % {"when": when(c.snoozed_until)}))
    parts.append(" · ")
    if c.assignee:
        parts.append(escape(c.assignee.display_name))
    else:
        parts.append(words.unassigned)
    for label in c.labels.all():
        parts.append(
            f' <span class="label" style="border-color:{escape(label.color)}">'
            f"{escape(label.name)}</span>"
        )
    return "".join(parts)


def row_html(c: Conversation) -> SafeString:
    words = _words(get_language())
    contact = c.contact
    account = c.account
    pk = c.pk
    platform_name = words.platforms.get(account.platform, account.platform)
    avatar = (
        f'<img src="/contacts/{escape(c.contact_id)}/avatar/" alt="" loading="lazy">'
        if contact.avatar_url
        else ""
    )
    select_label = words.select % {"name": contact.name or words.unknown_contact_lower}
    account_title = words.account_title % {"account": account.name, "platform": platform_name}
    return mark_safe(  # noqa: S308 - every value escaped
        f'<li class="row status-{escape(c.status)} priority-{escape(c.priority)}'
        f'{" unread" if c.unread else ""}" id="row-{pk}" '
        f'data-conversation="{pk}" data-unread="{escape(c.unread)}">\n'
        f'  <input type="checkbox" name="ids" value="{pk}" form="bulk-form" '
        f'aria-label="{escape(select_label)}">\n'
        f'  <a href="/conversations/{pk}/">\n'
        f'    <span class="avatar" aria-hidden="true">{avatar}'
        f"<span>{escape(initials(contact.name))}</span></span>\n"
        f'    <span class="who"><strong class="contact">'
        f"{escape(contact.name or words.unknown_contact)}</strong>\n"
        f'      <span class="badge account platform-{escape(account.platform)}" '
        f'title="{escape(account_title)}">'
        f"{escape(platform_name)} · {escape(account.name)}</span></span>\n"
        f'    <span class="preview">{escape(c.last_message_preview)}</span>\n'
        f'    <span class="side">{_side(c, words)}</span>\n'
        f'    <span class="meta">{_meta(c, words)}</span>\n'
        "  </a>\n"
        "</li>"
    )
