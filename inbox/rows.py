"""One inbox list row as HTML, built in Python: the list renders 50 of them per request and
Django's template engine spent most of the page's time on them (see bench/README.md). Every
value is escaped by ``format_html``/``escape``; keep the markup in step with the CSS and the
live script (``#row-<id>``, ``data-conversation``, ``data-unread``, one ``<a>`` per row)."""

from __future__ import annotations

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from inbox.formatting import ago, initials, short_since, time_ago, when
from inbox.models import Conversation


def _side(c: Conversation) -> str:
    parts = []
    sla_status = getattr(c, "sla_status", "")
    sla_due_at = getattr(c, "sla_due_at", None)
    if sla_status == "breached":
        breached = _("SLA breached")
        parts.append(
            format_html('<span class="sla sla-breached" title="{}">{}</span>', breached, breached)
        )
    elif sla_status and sla_due_at:
        parts.append(
            format_html(
                '<span class="sla sla-{}" title="{}">{}</span>',
                sla_status,
                _("SLA due %(when)s") % {"when": when(sla_due_at)},
                _("SLA due %(when)s") % {"when": ago(sla_due_at)},
            )
        )
    if c.unread:
        parts.append(
            format_html(
                '<span class="unread-count" title="{}">{}</span>',
                _("%(count)s unread") % {"count": c.unread},
                c.unread,
            )
        )
    # A resolved conversation is not waiting for anyone, whatever its last message was.
    if c.waiting_since and c.status != Conversation.Status.RESOLVED:
        parts.append(
            format_html(
                '<span class="waiting" title="{}">{}</span>',
                _("Waiting since %(when)s") % {"when": when(c.waiting_since)},
                _("waiting %(duration)s") % {"duration": short_since(c.waiting_since)},
            )
        )
    else:
        parts.append(time_ago(c.last_activity_at))
    return "".join(parts)


def _meta(c: Conversation) -> str:
    parts = []
    if c.is_test:  # shown only when the list asks for test conversations (?tests=1)
        parts.append(format_html('<span class="badge test-badge">{}</span> · ', _("test")))
    if c.priority >= Conversation.Priority.HIGH:
        parts.append(format_html('<span class="prio">{}</span> · ', c.get_priority_display()))
    parts.append(escape(c.get_status_display()))
    if c.status == Conversation.Status.SNOOZED and c.snoozed_until:
        parts.append(" " + escape(_("until %(when)s") % {"when": when(c.snoozed_until)}))
    parts.append(" · ")
    if c.assignee:
        parts.append(escape(c.assignee.display_name))
    else:
        parts.append(format_html("<em>{}</em>", _("unassigned")))
    for label in c.labels.all():
        parts.append(
            format_html(
                ' <span class="label" style="border-color:{}">{}</span>', label.color, label.name
            )
        )
    return "".join(parts)


def row_html(c: Conversation) -> SafeString:
    contact = c.contact
    name = contact.name or _("Unknown contact")
    avatar = (
        format_html('<img src="/contacts/{}/avatar/" alt="" loading="lazy">', c.contact_id)
        if contact.avatar_url
        else ""
    )
    return format_html(
        '<li class="row status-{status} priority-{priority}{unread_class}" id="row-{pk}" '
        'data-conversation="{pk}" data-unread="{unread}">\n'
        '  <input type="checkbox" name="ids" value="{pk}" form="bulk-form" '
        'aria-label="{select_label}">\n'
        '  <a href="/conversations/{pk}/">\n'
        '    <span class="avatar" aria-hidden="true">{avatar}<span>{initials}</span></span>\n'
        '    <span class="who"><strong class="contact">{name}</strong>\n'
        '      <span class="badge account platform-{platform}" title="{account_title}">'
        "{platform_name} · {account}</span></span>\n"
        '    <span class="preview">{preview}</span>\n'
        '    <span class="side">{side}</span>\n'
        '    <span class="meta">{meta}</span>\n'
        "  </a>\n"
        "</li>",
        status=c.status,
        priority=c.priority,
        unread_class=" unread" if c.unread else "",
        pk=c.pk,
        unread=c.unread,
        select_label=_("Select conversation with %(name)s")
        % {"name": contact.name or _("unknown contact")},
        account_title=_("%(account)s on %(platform)s")
        % {"account": c.account.name, "platform": c.account.get_platform_display()},
        avatar=avatar,
        initials=initials(contact.name),
        name=name,
        platform=c.account.platform,
        platform_name=c.account.get_platform_display(),
        account=c.account.name,
        preview=c.last_message_preview,
        side=mark_safe(_side(c)),  # noqa: S308 - built from format_html/escape above
        meta=mark_safe(_meta(c)),  # noqa: S308 - built from format_html/escape above
    )
