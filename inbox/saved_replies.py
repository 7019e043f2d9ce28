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


# Values the settings page's preview fills the variables with.
SAMPLE = {
    "contact.name": "Ana Silva",
    "contact.first_name": "Ana",
    "agent.name": "Sam Taylor",
    "agent.first_name": "Sam",
    "account.name": "Acme Support",
    "account.platform": "Messenger",
    "conversation.id": "1234",
}


def unknown_variables(text: str) -> list[str]:
    """The ``{{…}}`` names in ``text`` that are not variables (a typo the settings page names)."""
    found = [(m.group(1), f"{m.group(1)}.{m.group(2)}") for m in VARIABLE.finditer(text)]
    # A contact attribute (``attribute.<key>``) is known whatever its key: a contact without
    # it leaves the variable as written, for the agent to fill in.
    return sorted({name for scope, name in found if name not in VARIABLES and scope != "attribute"})


def preview(text: str) -> str:
    """``text`` with the sample values filled in."""
    return VARIABLE.sub(
        lambda m: SAMPLE.get(f"{m.group(1)}.{m.group(2)}", m.group(0)),
        text,
    )


def _attribute(conversation: Conversation, key: str) -> str:
    """A custom attribute of the contact as text; empty when the contact has none (the
    variable then stays as written, for the agent to fill in)."""
    value = conversation.contact.attributes.get(key)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return "" if value is None else str(value)


def available(user: User) -> QuerySet[SavedReply]:
    """Replies for everyone plus those of the user's teams (admins: all shared ones), and the
    user's own personal ones; nobody sees another person's personal replies."""
    shared = Q(owner__isnull=True)
    if not user.is_admin:
        shared &= Q(teams__isnull=True) | Q(teams__members=user)
    return SavedReply.objects.filter(shared | Q(owner=user)).distinct().order_by("shortcut")


def rendered_for(user: User, conversation: Conversation) -> list[dict[str, str]]:
    return [
        {
            "shortcut": reply.shortcut,
            "title": reply.title,
            "text": render(reply.text, conversation=conversation, agent=user),
        }
        for reply in available(user)
    ]
