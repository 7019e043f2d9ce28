"""Saved replies: the ones an agent may use, and their variables filled in.

Variables are a small, fixed vocabulary (``{{contact.first_name}}``, ``{{agent.first_name}}``…)
plus the contact's custom attributes (``{{attribute.<key>}}``, issue 17), replaced by plain
string substitution — a saved reply is user text and is never executed as a
Django template. Unknown variables stay as written so the agent sees them before sending.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from inbox.models import Conversation, SavedReply, User

VARIABLE = re.compile(r"\{\{\s*([a-z_]+)\.([a-z0-9_]+)\s*\}\}")

VARIABLES: dict[str, Callable[[Conversation, User], str]] = {
    "contact.name": lambda c, a: c.contact.name,
    "contact.first_name": lambda c, a: c.contact.first_name,
    "agent.name": lambda c, a: a.display_name,
    "agent.first_name": lambda c, a: a.first_name or a.username,
    "account.name": lambda c, a: c.account.name,
    "account.platform": lambda c, a: c.account.get_platform_display(),
    "conversation.id": lambda c, a: str(c.pk),
}


def render(text: str, *, conversation: Conversation, agent: User) -> str:
    def substitute(match: re.Match[str]) -> str:
        key = f"{match.group(1)}.{match.group(2)}"
        if match.group(1) == "attribute":
            return _attribute(conversation, match.group(2)) or match.group(0)
        value = VARIABLES.get(key)
        return value(conversation, agent) if value else match.group(0)

    return VARIABLE.sub(substitute, text)


def _attribute(conversation: Conversation, key: str) -> str:
    """A custom attribute of the contact as text; empty when the contact has none (the
    variable then stays as written, for the agent to fill in)."""
    value = conversation.contact.attributes.get(key)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return "" if value is None else str(value)


def available(user: User) -> QuerySet[SavedReply]:
    """Replies for everyone plus those of the user's teams (admins: all)."""
    replies = SavedReply.objects.all()
    if not user.is_admin:
        replies = replies.filter(Q(teams__isnull=True) | Q(teams__members=user))
    return replies.distinct().order_by("shortcut")


def rendered_for(user: User, conversation: Conversation) -> list[dict[str, str]]:
    return [
        {
            "shortcut": reply.shortcut,
            "title": reply.title,
            "text": render(reply.text, conversation=conversation, agent=user),
        }
        for reply in available(user)
    ]
