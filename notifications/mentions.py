"""``@username`` mentions in private notes: who a note mentions, and who may be mentioned in a
conversation (the note composer's autocomplete, ``static/js/mentions.js``)."""

from __future__ import annotations

import re

from django.db.models import Q

from inbox.access import users_who_may_see
from inbox.models import Conversation, User

# `@` then a Django username's characters, not inside a word or an email address
# (support@shop.com mentions nobody). A trailing full stop ends the sentence, not the name.
MENTION = re.compile(r"(?<![\w.@+-])@([\w.+-]{1,150})")
# A hostile note full of @s costs one bounded query.
MAX_MENTIONS = 20
AUTOCOMPLETE_LIMIT = 8


def mentioned_usernames(text: str) -> list[str]:
    """The usernames a note mentions, lower-cased, in order, each once."""
    found: list[str] = []
    for match in MENTION.finditer(text):
        name = match.group(1).rstrip(".").lower()
        if name and name not in found:
            found.append(name)
        if len(found) >= MAX_MENTIONS:
            break
    return found


def mentioned_users(text: str) -> list[User]:
    names = mentioned_usernames(text)
    if not names:
        return []
    query = Q()
    for name in names:
        query |= Q(username__iexact=name)
    return list(User.objects.filter(query, is_active=True))


def mentionable(
    conversation: Conversation, term: str, *, exclude: User | None = None
) -> list[User]:
    """Active users who may see the conversation whose username or name starts with ``term``
    (any word of the name), for the autocomplete; never anyone who cannot see it."""
    users = users_who_may_see(conversation)
    term = term.strip()[:50]
    if term:
        users = users.filter(
            Q(username__istartswith=term)
            | Q(first_name__istartswith=term)
            | Q(last_name__istartswith=term)
        )
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return list(users.order_by("first_name", "username")[:AUTOCOMPLETE_LIMIT])
