"""Who a campaign is for, and its text as each recipient reads it.

The audience is a small JSON object: ``labels`` (names: for each, the contact has a
conversation with that label), ``platform`` (the contact has an identity there) and
``attributes`` ({key: value}, each equal). Every filter given must match; none means every
contact of the account.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from inbox.models import Contact, ContactIdentity, Conversation, Label, Platform, PlatformAccount

# {first_name}, {name} and {attribute.<key>}: plain substitution, never a template.
VARIABLE = re.compile(r"\{(first_name|name|attribute\.([a-z][a-z0-9_]{0,49}))\}")


class InvalidAudience(ValueError):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


def clean(audience: Any) -> dict[str, Any]:
    """The audience as stored; bad input raises ``InvalidAudience`` naming the field."""
    if audience is None:
        return {}
    if not isinstance(audience, dict):
        raise InvalidAudience("audience", _("An object with labels, platform or attributes."))
    unknown = set(audience) - {"labels", "platform", "attributes"}
    if unknown:
        raise InvalidAudience("audience", _("Unknown filter: %(f)s.") % {"f": sorted(unknown)[0]})
    cleaned: dict[str, Any] = {}
    labels = audience.get("labels")
    if labels:
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise InvalidAudience("labels", _("A list of label names."))
        known = set(Label.objects.filter(name__in=labels).values_list("name", flat=True))
        missing = [x for x in labels if x not in known]
        if missing:
            raise InvalidAudience("labels", _("No such label: %(l)s.") % {"l": missing[0]})
        cleaned["labels"] = sorted(set(labels))
    platform = audience.get("platform")
    if platform:
        if platform not in Platform.values:
            raise InvalidAudience(
                "platform", _("One of: %(p)s.") % {"p": ", ".join(Platform.values)}
            )
        cleaned["platform"] = platform
    attributes = audience.get("attributes")
    if attributes:
        if not isinstance(attributes, dict) or not all(
            isinstance(k, str) and isinstance(v, str | int | float | bool)
            for k, v in attributes.items()
        ):
            raise InvalidAudience("attributes", _("An object of attribute keys and values."))
        cleaned["attributes"] = attributes
    return cleaned


def contacts(account: PlatformAccount, audience: dict[str, Any]) -> QuerySet[Contact]:
    """Contacts of the account (an identity on it) matching every filter, merged ones left out."""
    query = Contact.objects.filter(
        pk__in=ContactIdentity.objects.filter(account=account).values("contact_id"),
        merged_into__isnull=True,
        erased_at__isnull=True,
    )
    for name in audience.get("labels") or ():
        labelled = Conversation.objects.filter(labels__name=name).values("contact_id")
        query = query.filter(pk__in=labelled)
    if audience.get("platform"):
        on_platform = ContactIdentity.objects.filter(account__platform=audience["platform"])
        query = query.filter(pk__in=on_platform.values("contact_id"))
    if audience.get("attributes"):
        query = query.filter(attributes__contains=audience["attributes"])
    return query.order_by("pk")


def missing_attributes(text: str, contact: Contact) -> list[str]:
    """The ``{attribute.<key>}`` of ``text`` this contact has no value for."""
    return [
        m.group(2)
        for m in VARIABLE.finditer(text)
        if m.group(2) and contact.attributes.get(m.group(2)) in (None, "")
    ]


def render(text: str, contact: Contact) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match.group(1) == "first_name":
            return contact.first_name
        if match.group(1) == "name":
            return contact.name
        value = contact.attributes.get(match.group(2))
        return "" if value is None else str(value)

    return VARIABLE.sub(substitute, text).strip()
