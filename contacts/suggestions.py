"""Who else a contact may be: merge suggestions, each with its reasons.

Signals and their weight (a suggestion needs ``THRESHOLD``, so never one weak signal alone):

- the same username on two platforms (strong; weak when short or only digits);
- the customer's own "I also wrote on Instagram as @name" that names an identity (strong), or
  without a name, on a platform where a contact of the same name is known (weak + weak);
- the same email address, phone number or website written in both contacts' messages (weak
  each), with the same name (weak).

Everything is read through the viewer's access (``inbox.access``): only identities, messages
and contacts on accounts they may see count, so data private to one team (another brand's
customers and what they wrote) never suggests anything to another team.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from contacts.models import ContactClue
from contacts.selectors import SECRET_ACCOUNT_FIELDS
from inbox.access import visible_account_ids, visible_conversations
from inbox.models import Contact, ContactIdentity, Platform, User

STRONG = 2
WEAK = 1
THRESHOLD = 2
MAX_CANDIDATES = 200


@dataclass
class Suggestion:
    contact: Contact
    reasons: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def score(self) -> int:
        return sum(weight for weight, _text in self.reasons.values())

    @property
    def reason_texts(self) -> list[str]:
        return [text for _weight, text in self.reasons.values()]


def _platform_name(platform: str) -> str:
    return str(Platform(platform).label) if platform in Platform.values else platform


def _same_name(a: str, b: str) -> bool:
    a, b = " ".join(a.casefold().split()), " ".join(b.casefold().split())
    return len(a) >= 2 and a == b


def _username_weight(username: str) -> int:
    return STRONG if len(username) >= 4 and not username.isdigit() else WEAK


def for_contact(user: User, contact: Contact, *, limit: int = 5) -> list[Suggestion]:
    """Contacts the user may see that are likely the same person, best first."""
    accounts = None if user.is_admin else set(visible_account_ids(user))

    def visible_identities():
        identities = ContactIdentity.objects.filter(
            contact__merged_into__isnull=True, contact__erased_at__isnull=True
        )
        return identities if accounts is None else identities.filter(account_id__in=accounts)

    mine = list(
        visible_identities()
        .filter(contact=contact)
        .select_related("account")
        .defer(*SECRET_ACCOUNT_FIELDS)
    )
    my_accounts = set(
        ContactIdentity.objects.filter(contact=contact).values_list("account_id", flat=True)
    )
    found: dict[int, Suggestion] = {}

    def add(other: Contact, key: str, weight: int, text: str) -> None:
        if other.pk == contact.pk or len(found) >= MAX_CANDIDATES and other.pk not in found:
            return
        found.setdefault(other.pk, Suggestion(other)).reasons.setdefault(key, (weight, text))

    # The same username on another platform.
    for identity in mine:
        if not identity.username:
            continue
        for other in (
            visible_identities()
            .filter(username__iexact=identity.username)
            .exclude(account__platform=identity.account.platform)
            .exclude(contact=contact)
            .select_related("contact", "account")
            .defer(*SECRET_ACCOUNT_FIELDS)[:MAX_CANDIDATES]
        ):
            add(
                other.contact,
                f"username:{identity.username.lower()}",
                _username_weight(identity.username),
                _("The same username @%(name)s on %(a)s and %(b)s")
                % {
                    "name": identity.username,
                    "a": identity.account.get_platform_display(),
                    "b": other.account.get_platform_display(),
                },
            )

    conversations = visible_conversations(user)
    my_clues = list(
        ContactClue.objects.filter(conversation__in=conversations.filter(contact=contact))
        .values_list("kind", "value")
        .distinct()
    )

    # What the customer said about themselves elsewhere.
    for _kind, value in (c for c in my_clues if c[0] == ContactClue.Kind.ELSEWHERE):
        platform, _sep, username = value.partition(":")
        if username:
            for other in (
                visible_identities()
                .filter(account__platform=platform, username__iexact=username)
                .exclude(contact=contact)
                .select_related("contact")[:MAX_CANDIDATES]
            ):
                add(
                    other.contact,
                    f"elsewhere:{value}",
                    STRONG,
                    _("They wrote that they are @%(name)s on %(platform)s")
                    % {"name": username, "platform": _platform_name(platform)},
                )
        elif contact.name:
            for other in (
                visible_identities()
                .filter(account__platform=platform, contact__name__iexact=contact.name.strip())
                .exclude(contact=contact)
                .select_related("contact")[:MAX_CANDIDATES]
            ):
                add(
                    other.contact,
                    f"elsewhere:{value}",
                    WEAK,
                    _("They wrote that they also wrote on %(platform)s")
                    % {"platform": _platform_name(platform)},
                )

    # Others who said they are this contact elsewhere ("also on X as @me").
    mentions = [f"{i.account.platform}:{i.username.lower()}" for i in mine if i.username]
    if mentions:
        for clue in (
            ContactClue.objects.filter(kind=ContactClue.Kind.ELSEWHERE, value__in=mentions)
            .filter(conversation__in=conversations.exclude(contact=contact))
            .select_related("conversation__contact")[:MAX_CANDIDATES]
        ):
            platform, _sep, username = clue.value.partition(":")
            add(
                clue.conversation.contact,
                f"elsewhere:{clue.value}",
                STRONG,
                _("They wrote that they are @%(name)s on %(platform)s")
                % {"name": username, "platform": _platform_name(platform)},
            )

    # The same email, phone or website in both contacts' messages.
    shared = [c for c in my_clues if c[0] != ContactClue.Kind.ELSEWHERE]
    if shared:
        match = Q()
        for kind, value in shared[:50]:
            match |= Q(kind=kind, value=value)
        for clue in (
            ContactClue.objects.filter(match)
            .filter(conversation__in=conversations.exclude(contact=contact))
            .select_related("conversation__contact")[:MAX_CANDIDATES]
        ):
            add(
                clue.conversation.contact,
                f"{clue.kind}:{clue.value}",
                WEAK,
                _("Both wrote the same %(kind)s %(value)s")
                % {"kind": clue.get_kind_display(), "value": clue.value},
            )

    suggestions = []
    others_accounts: dict[int, set[int]] = defaultdict(set)
    for contact_id, account_id in ContactIdentity.objects.filter(
        contact_id__in=list(found)
    ).values_list("contact_id", "account_id"):
        others_accounts[contact_id].add(account_id)
    for suggestion in found.values():
        other = suggestion.contact
        if other.merged_into_id is not None or other.erased_at is not None:
            continue
        if others_accounts[other.pk] & my_accounts:
            continue  # two people on one account: never one contact (contacts.services.merge)
        if suggestion.reasons and _same_name(contact.name, other.name):
            suggestion.reasons.setdefault("name", (WEAK, _("The same name")))
        if suggestion.score >= THRESHOLD:
            suggestions.append(suggestion)
    suggestions.sort(key=lambda s: (-s.score, -s.contact.pk))
    return suggestions[:limit]
