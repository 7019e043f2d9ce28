"""Reads of contacts. Access follows conversations (``inbox.access``): an agent sees a contact
when they may see one of its conversations, and of that contact only the identities and
conversations on accounts they may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Exists, F, Func, JSONField, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.db.models.lookups import IContains
from django.http import Http404

from contacts.models import AttributeDefinition, ConsentChange, ContactNote
from inbox.access import visible_accounts, visible_conversations
from inbox.models import Contact, ContactIdentity, Conversation, Label, Platform, User

MAX_QUERY = 100
# An account's encrypted credentials: never needed to show a contact, and decrypting them for
# each row of a page costs more than the page's queries.
SECRET_ACCOUNT_FIELDS = ("account__credentials",)
# A page of the directory: enough to scan, small enough to render fast at any size.
PAGE_SIZE = 25


def visible_contacts(
    user: User, *, conversations: QuerySet[Conversation] | None = None
) -> QuerySet[Contact]:
    """Active (not merged away) contacts the user may see."""
    contacts = Contact.objects.filter(merged_into__isnull=True)
    if not user.is_authenticated or not user.is_active:
        return contacts.none()
    if user.is_admin:
        return contacts
    conversations = visible_conversations(user) if conversations is None else conversations
    return contacts.filter(Exists(conversations.filter(contact_id=OuterRef("pk"))))


def get_visible_contact(user: User, pk: int) -> Contact:
    """The contact, or 404 — whether it does not exist, was merged away or is not yours."""
    contact = visible_contacts(user).filter(pk=pk).first()
    if contact is None:
        raise Http404("No such contact")
    return contact


@dataclass(frozen=True)
class ContactFilters:
    q: str = ""
    platform: str = ""
    label: int | None = None
    # (key, value) of a custom attribute; value "" means "has the attribute".
    attribute: tuple[str, str] | None = None

    @classmethod
    def from_query(cls, params: Any) -> ContactFilters:
        """Filters from a query string; what does not parse is ignored (and the page says
        what it shows)."""
        q = (params.get("q") or "").strip()[:MAX_QUERY]
        platform = params.get("platform") or ""
        if platform not in Platform.values:
            platform = ""
        label_raw = params.get("label") or ""
        label = int(label_raw) if label_raw.isdigit() else None
        attribute = None
        if key := (params.get("attr") or "").strip():
            attribute = (key[:50], (params.get("attr_value") or "").strip()[:200])
        return cls(q=q, platform=platform, label=label, attribute=attribute)


def filtered(
    user: User, filters: ContactFilters, *, conversations: QuerySet[Conversation] | None = None
) -> QuerySet[Contact]:
    """Visible contacts passing the filters (platform, label, attribute), not the search.
    ``conversations``: the user's visible conversations, if the caller has them already."""
    conversations = visible_conversations(user) if conversations is None else conversations
    contacts = visible_contacts(user, conversations=conversations)
    if filters.platform:
        # The accounts first (a handful): the planner then reads identities by account.
        accounts = visible_accounts(user).filter(platform=filters.platform)
        on_platform = ContactIdentity.objects.filter(
            account_id__in=list(accounts.values_list("id", flat=True))
        )
        contacts = contacts.filter(pk__in=on_platform.values("contact_id"))
    if filters.label is not None:
        labelled = conversations.filter(labels__id=filters.label)
        contacts = contacts.filter(pk__in=labelled.values("contact_id"))
    if filters.attribute is not None:
        key, value = filters.attribute
        if value:
            contacts = contacts.filter(attributes__contains={key: typed_value(key, value)})
        else:
            contacts = contacts.filter(attributes__has_key=key)
    return contacts


def _matches(query: str) -> list[Any]:
    """What a search matches, one condition per trigram index: a name, a username, an
    attribute value (substrings, any case)."""
    q = query.lstrip("@") or query
    usernames = ContactIdentity.objects.filter(username__icontains=q).values("contact_id")
    return [Q(name__icontains=q), Q(pk__in=usernames), IContains(attribute_values(), q)]


def attribute_values() -> Cast:
    """The contact's attribute values as one text (PostgreSQL: a JSON array of the values, the
    expression of the trigram index ``contact_attribute_values_trgm``; elsewhere the whole
    JSON)."""
    if settings.IS_POSTGRES:
        values = Func(
            F("attributes"),
            template="jsonb_path_query_array(%(expressions)s, '$.*')",
            output_field=JSONField(),
        )
        return Cast(values, TextField())
    return Cast("attributes", TextField())


def typed_value(key: str, value: str) -> Any:
    """The stored form of a filter value (numbers and booleans are stored as JSON ones)."""
    definition = AttributeDefinition.objects.filter(key=key).first()
    if definition is None:
        return value
    if definition.type == AttributeDefinition.Type.BOOLEAN:
        return value.lower() in ("true", "yes", "on", "1")
    if definition.type == AttributeDefinition.Type.NUMBER:
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return value
    return value


def page(
    user: User, filters: ContactFilters, *, before: int | None = None, size: int = PAGE_SIZE
) -> tuple[list[Contact], int | None]:
    """One page of the directory, newest first (keyset by id), and the id to continue before.

    A search is the UNION of one newest-first page per match (name, username, attribute
    value), then the newest of those: each part can stop early on its own index (the newest
    contacts for a common word, the trigram index for a rare one), where one OR of the three
    scanned every contact and a UNION of all matches sorted thousands of ids."""
    # The access rule read once for the page (each call of it is a query).
    conversations = visible_conversations(user)
    contacts = filtered(user, filters, conversations=conversations)
    if before is not None:
        contacts = contacts.filter(pk__lt=before)
    if filters.q and connection.features.supports_slicing_ordering_in_compound:
        parts = [contacts.filter(m).order_by("-id")[: size + 1] for m in _matches(filters.q)]
        contacts = parts[0].union(*parts[1:])
    elif filters.q:
        # SQLite (the embedded default) has no LIMIT inside a UNION; a small database.
        name, username, value = _matches(filters.q)
        contacts = contacts.filter(name | username | Q(value))
    rows = list(contacts.order_by("-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    attach_identities(user, rows, conversations=conversations)
    return rows, (rows[-1].pk if more else None)


def identities_of(user: User, contact_ids: list[int]) -> dict[int, list[ContactIdentity]]:
    """Each contact's identities on accounts the user may see."""
    identities = (
        ContactIdentity.objects.filter(contact_id__in=contact_ids)
        .select_related("account")
        .defer(*SECRET_ACCOUNT_FIELDS)
    )
    if not user.is_admin:
        # A subquery, not a list: no extra round trip for a page.
        identities = identities.filter(account_id__in=visible_accounts(user).values("id"))
    by_contact: dict[int, list[ContactIdentity]] = {pk: [] for pk in contact_ids}
    for identity in identities.order_by("account__platform", "id"):
        by_contact[identity.contact_id].append(identity)
    return by_contact


def attach_identities(
    user: User, contacts: list[Contact], *, conversations: QuerySet[Conversation] | None = None
) -> None:
    """Set ``visible_identities`` and ``label_names`` on each contact (two queries for a page)."""
    ids = [c.pk for c in contacts]
    identities = identities_of(user, ids)
    labels = labels_of(user, ids, conversations=conversations)
    for contact in contacts:
        contact.visible_identities = identities[contact.pk]
        contact.label_names = labels.get(contact.pk, [])


def labels_of(
    user: User, contact_ids: list[int], *, conversations: QuerySet[Conversation] | None = None
) -> dict[int, list[str]]:
    """The labels of each contact's visible conversations (a contact's labels)."""
    conversations = visible_conversations(user) if conversations is None else conversations
    rows = (
        conversations.filter(contact_id__in=contact_ids, labels__isnull=False)
        .values_list("contact_id", "labels__name")
        .distinct()
    )
    by_contact: dict[int, list[str]] = {}
    for contact_id, name in rows:
        by_contact.setdefault(contact_id, []).append(name)
    for names in by_contact.values():
        names.sort()
    return by_contact


def timeline(user: User, contact: Contact) -> QuerySet[Conversation]:
    """Every conversation of the contact the user may see, across platforms, newest first."""
    return (
        visible_conversations(user)
        .filter(contact=contact)
        .select_related("account", "assignee")
        .defer(*SECRET_ACCOUNT_FIELDS)
        .prefetch_related("labels")
        .order_by("-last_activity_at", "-id")
    )


def notes(contact: Contact) -> QuerySet[ContactNote]:
    return contact.contact_notes.select_related("author").order_by("-created_at", "-id")


def consent_history(contact: Contact) -> QuerySet[ConsentChange]:
    return contact.consent_changes.select_related("actor").order_by("-created_at", "-id")


def labels() -> QuerySet[Label]:
    return Label.objects.order_by("name")
