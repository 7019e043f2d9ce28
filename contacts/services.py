"""Every write to contacts: edits, consent, notes, merge and unmerge, erasure. Each records a
``ContactUpdated`` domain event (attribute keys and field names only, never values: the event
log outlives an erasure) and the big ones an audit entry."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.db import connection, transaction
from django.db.models import F, IntegerField, Max
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts import attributes
from contacts.models import (
    AttributeDefinition,
    ConsentChange,
    ContactClue,
    ContactMerge,
    ContactNote,
)
from inbox import events as domain_events
from inbox.models import (
    Attachment,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationEvent,
    Message,
    Note,
    Reaction,
    User,
    WebhookEvent,
)
from inbox.settings_area import audit

log = logging.getLogger(__name__)

KEY = re.compile(r"[a-z][a-z0-9_]{0,49}")


class ContactRefused(Exception):
    """A change the rules refuse (the API answers 422 with ``code`` and ``detail``)."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _record_updated(
    contact: Contact, *, actor: User | None, action: str, changes: dict[str, Any] | None = None
) -> None:
    """A ``ContactUpdated`` event on the contact's latest conversation of each account, so
    every team that sees the person is told (listeners read the contact itself)."""
    latest_ids = (
        Conversation.objects.filter(contact=contact)
        .values("account_id")
        .annotate(latest=Max("id"))
        .values_list("latest", flat=True)
    )
    latest = {c.pk: c for c in Conversation.objects.filter(pk__in=list(latest_ids))}
    domain_events.record_many(
        [
            domain_events.entry(
                conversation,
                ConversationEvent.Kind.CONTACT_UPDATED,
                actor=actor if actor is not None and actor.is_authenticated else None,
                data={"contact": contact.pk, "action": action, "changes": changes or {}},
            )
            for conversation in latest.values()
        ]
    )


def _audit(actor: User | None, action: str, contact: Contact, **extra: Any) -> None:
    # The target is named by id only: the log outlives an erasure of the person's name.
    audit.record(
        actor=actor,
        action=action,
        target_type="contact",
        target_id=str(contact.pk),
        target_repr=f"Contact {contact.pk}",
        extra=extra,
    )


# --- Edits ------------------------------------------------------------------------------------


@transaction.atomic
def update_contact(
    *,
    contact: Contact,
    actor: User | None,
    name: str | None = None,
    attribute_changes: dict[str, Any] | None = None,
) -> Contact:
    """Rename and/or change attributes ({key: value or null}); a value of the wrong type
    raises ``attributes.InvalidAttribute`` and nothing is saved."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    changed: dict[str, Any] = {}
    if name is not None:
        name = name.strip()[:200]
        if name != contact.name:
            contact.name = name
            changed["name"] = True
    if attribute_changes is not None:
        new = attributes.clean_values(attribute_changes, contact.attributes)
        keys = sorted(
            k for k in set(new) | set(contact.attributes) if new.get(k) != contact.attributes.get(k)
        )
        if keys:
            contact.attributes = new
            changed["attributes"] = keys
    if changed:
        contact.save(update_fields=["name", "attributes"])
        _record_updated(contact, actor=actor, action="updated", changes=changed)
    return contact


def set_consent(*, contact: Contact, actor: User, state: str, source: str) -> None:
    """An agent records the person's marketing consent (told on the phone, by email...)."""
    if state not in Contact.Consent.values:
        raise ContactRefused("invalid_consent", _("Unknown consent state."))
    with transaction.atomic():
        now = timezone.now()
        source = (source.strip() or _("set by %(agent)s") % {"agent": actor.display_name})[:200]
        Contact.objects.filter(pk=contact.pk).update(
            marketing_consent=state, marketing_consent_at=now, marketing_consent_source=source
        )
        contact.marketing_consent = state
        conversation = Conversation.objects.filter(contact=contact).order_by("-id").first()
        if conversation is None:
            # No conversation to carry the event: the history row is written here.
            ConsentChange.objects.create(contact=contact, state=state, source=source, actor=actor)
            return
        # The consent listener writes the history row (contacts.consent), as for the bot's.
        domain_events.record(
            conversation,
            ConversationEvent.Kind.CONSENT_CHANGED,
            actor=actor,
            data={"contact": contact.pk, "consent": state, "source": source},
        )


@transaction.atomic
def add_note(*, contact: Contact, author: User, text: str) -> ContactNote:
    text = text.strip()
    if not text:
        raise ContactRefused("empty_note", _("A note needs some text."))
    note = ContactNote.objects.create(
        contact=contact, written_on=contact, author=author, text=text[:10_000]
    )
    _record_updated(contact, actor=author, action="note_added", changes={"note": note.pk})
    return note


@transaction.atomic
def define_attribute(
    *, key: Any, label: Any, kind: Any, choices: Any = None, actor: User | None
) -> AttributeDefinition:
    """A new custom attribute (admins); bad input raises ``attributes.InvalidAttribute``."""
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise attributes.InvalidAttribute(
            "key", _("Lower-case letters, digits and _, starting with a letter (at most 50).")
        )
    if not isinstance(label, str) or not label.strip() or len(label) > 100:
        raise attributes.InvalidAttribute("label", _("A label of at most 100 characters."))
    if kind not in AttributeDefinition.Type.values:
        raise attributes.InvalidAttribute(
            "type", _("One of: %(types)s.") % {"types": ", ".join(AttributeDefinition.Type.values)}
        )
    definition = AttributeDefinition.objects.create(
        key=key, label=label.strip(), type=kind, choices=attributes.clean_choices(kind, choices)
    )
    audit.record(actor=actor, action="contact_attribute.created", target=definition)
    return definition


# --- Merge and unmerge ------------------------------------------------------------------------


@transaction.atomic
def merge(
    *, survivor: Contact, other: Contact, actor: User | None, reasons: list[str] | None = None
) -> ContactMerge:
    """Make ``other`` part of ``survivor``: its identities, conversations, notes and consent
    history move; messages, metrics and SLA stay on their conversations untouched. ``other``
    keeps its row (``merged_into``) so an unmerge brings it back. Two identities on one
    platform account are refused: replies and incoming messages find the thread by
    (account, contact), so one contact keeps one identity per account."""
    if survivor.pk == other.pk:
        raise ContactRefused("same_contact", _("A contact cannot be merged with itself."))
    locked = {
        c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=[survivor.pk, other.pk])
    }
    survivor, other = locked[survivor.pk], locked[other.pk]
    for contact in (survivor, other):
        if contact.merged_into_id is not None or contact.erased_at is not None:
            raise ContactRefused("not_mergeable", _("That contact was merged or erased."))
    shared = set(survivor.identities.values_list("account_id", flat=True)) & set(
        other.identities.values_list("account_id", flat=True)
    )
    if shared:
        raise ContactRefused(
            "same_account",
            _(
                "Both contacts are known on the same platform account: they are two people "
                "there, so replies could go to the wrong one."
            ),
        )
    ContactIdentity.objects.filter(
        contact__in=[survivor, other], first_contact__isnull=True
    ).update(first_contact=F("contact"))
    identity_ids = list(other.identities.values_list("pk", flat=True))
    conversation_ids = list(Conversation.objects.filter(contact=other).values_list("pk", flat=True))
    ContactIdentity.objects.filter(pk__in=identity_ids).update(contact=survivor)
    Conversation.objects.filter(pk__in=conversation_ids).update(contact=survivor)
    ContactNote.objects.filter(contact=other).update(contact=survivor)
    ConsentChange.objects.filter(contact=other).update(contact=survivor)
    # Contacts merged into ``other`` earlier now point at the survivor (no chains to follow).
    Contact.objects.filter(merged_into=other).update(merged_into=survivor)

    added = sorted(set(other.attributes) - set(survivor.attributes))
    survivor.attributes = {**other.attributes, **survivor.attributes}
    survivor.name = survivor.name or other.name
    survivor.avatar_url = survivor.avatar_url or other.avatar_url
    if other.marketing_consent_at and (
        survivor.marketing_consent_at is None
        or other.marketing_consent_at > survivor.marketing_consent_at
    ):
        # The person's latest word on promotions stands.
        survivor.marketing_consent = other.marketing_consent
        survivor.marketing_consent_at = other.marketing_consent_at
        survivor.marketing_consent_source = other.marketing_consent_source
    survivor.save()
    other.merged_into = survivor
    other.save(update_fields=["merged_into"])

    record = ContactMerge.objects.create(
        survivor=survivor,
        merged=other,
        actor=actor if actor is not None and actor.is_authenticated else None,
        moved={
            "identities": identity_ids,
            "conversations": conversation_ids,
            "attributes_added": added,
        },
        reasons=list(reasons or []),
    )
    _audit(actor, "contact.merged", survivor, merged=other.pk, merge=record.pk)
    _record_updated(survivor, actor=actor, action="merged", changes={"merged": other.pk})
    return record


@transaction.atomic
def unmerge(*, contact: Contact, identity: ContactIdentity, actor: User | None) -> Contact:
    """Split ``identity`` (with its account's conversations) off ``contact``: back to the
    contact it came from when a merge brought it, else to a new contact. Returns that contact."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    identity = ContactIdentity.objects.select_for_update().get(pk=identity.pk)
    if identity.contact_id != contact.pk:
        raise ContactRefused("not_an_identity", _("That identity is not this contact's."))
    if contact.identities.count() < 2:
        raise ContactRefused("only_identity", _("A contact's only identity cannot be split off."))
    target = None
    if identity.first_contact_id not in (None, contact.pk):
        target = (
            Contact.objects.select_for_update()
            .filter(pk=identity.first_contact_id, erased_at__isnull=True)
            .first()
        )
    if target is None:
        target = Contact.objects.create(
            name=identity.name or identity.username, avatar_url=identity.avatar_url
        )
    elif target.merged_into_id is not None:
        target.merged_into = None
        target.save(update_fields=["merged_into"])
    ContactIdentity.objects.filter(pk=identity.pk).update(contact=target)
    moved = list(
        Conversation.objects.filter(contact=contact, account_id=identity.account_id).values_list(
            "pk", flat=True
        )
    )
    Conversation.objects.filter(pk__in=moved).update(contact=target)
    ContactNote.objects.filter(contact=contact, written_on=target).update(contact=target)
    ConsentChange.objects.filter(contact=contact, conversation_id__in=moved).update(contact=target)

    merges = ContactMerge.objects.filter(survivor=contact, merged=target, undone_at__isnull=True)
    if not ContactIdentity.objects.filter(contact=contact, first_contact=target).exists():
        # The last of the merged contact's identities left: the merge is undone, and the
        # attributes it brought (and nobody changed since) go back with it.
        for record in merges:
            for key in record.moved.get("attributes_added", []):
                if contact.attributes.get(key) == target.attributes.get(key):
                    contact.attributes.pop(key, None)
        contact.save(update_fields=["attributes"])
        merges.update(undone_at=timezone.now(), undone_by=actor)
    _audit(
        actor,
        "contact.unmerged",
        contact,
        identity=identity.pk,
        split_off=target.pk,
        conversations=moved,
    )
    _record_updated(contact, actor=actor, action="unmerged", changes={"split_off": target.pk})
    _record_updated(target, actor=actor, action="unmerged", changes={"from": contact.pk})
    return target


def undo_merge(*, record: ContactMerge, actor: User | None) -> Contact | None:
    """Undo one merge: every identity it moved that is still on the survivor goes back."""
    target = None
    for identity in ContactIdentity.objects.filter(
        pk__in=record.moved.get("identities", []), contact=record.survivor_id
    ):
        target = unmerge(contact=record.survivor, identity=identity, actor=actor)
    return target


# --- Erasure ----------------------------------------------------------------------------------


@transaction.atomic
def erase(*, contact: Contact, actor: User) -> dict[str, int]:
    """Delete the person's personal data and media (a right-to-erasure request). The
    conversation and message rows stay, emptied, so report metrics keep their counts; the
    contact stays as an anonymous row. Audited (by id, without the name)."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    people = [contact.pk, *Contact.objects.filter(merged_into=contact).values_list("pk", flat=True)]
    conversations = Conversation.objects.filter(contact_id__in=people)
    conversation_ids = list(conversations.values_list("pk", flat=True))
    messages = Message.objects.filter(conversation_id__in=conversation_ids)
    identities = list(ContactIdentity.objects.filter(contact_id__in=people))
    user_ids = [i.platform_user_id for i in identities]

    attachments = Attachment.objects.filter(message__conversation_id__in=conversation_ids)
    files = [name for name in attachments.exclude(file="").values_list("file", flat=True)]
    counts = {
        "conversations": len(conversation_ids),
        "messages": messages.count(),
        "attachments": attachments.count(),
        "identities": len(identities),
    }
    storage = Attachment._meta.get_field("file").storage
    transaction.on_commit(lambda: _delete_files(storage, files))
    attachments.delete()
    Reaction.objects.filter(message__conversation_id__in=conversation_ids).delete()
    messages.update(text="", metadata={}, error="", edited_at=None)
    Note.objects.filter(conversation_id__in=conversation_ids).delete()
    conversations.update(subject="", last_message_preview="", metadata={})
    ContactClue.objects.filter(conversation_id__in=conversation_ids).delete()
    ContactNote.objects.filter(contact_id__in=people).delete()
    ConsentChange.objects.filter(contact_id__in=people).delete()
    ContactMerge.objects.filter(survivor_id__in=people).update(reasons=[])
    ContactMerge.objects.filter(merged_id__in=people).update(reasons=[])
    # Events hold ids, kinds and statuses; the few that carried words are emptied.
    ConversationEvent.objects.filter(
        conversation_id__in=conversation_ids,
        kind__in=[ConversationEvent.Kind.CONSENT_CHANGED, ConversationEvent.Kind.NOTE_ADDED],
    ).update(data={})
    for identity in identities:
        ContactIdentity.objects.filter(pk=identity.pk).update(
            platform_user_id=f"erased-{identity.pk}",
            username="",
            name="",
            avatar_url="",
        )
    Contact.objects.filter(pk__in=people).update(
        name="",
        avatar_url="",
        attributes={},
        marketing_consent=Contact.Consent.UNKNOWN,
        marketing_consent_at=None,
        marketing_consent_source="",
        erased_at=timezone.now(),
    )
    counts["webhook_bodies"] = _delete_raw_webhooks(identities, user_ids)
    _audit(actor, "contact.erased", contact, **counts)
    _record_updated(contact, actor=actor, action="erased")
    return counts


def _delete_raw_webhooks(identities: list[ContactIdentity], user_ids: list[str]) -> int:
    """Archived webhook bodies of the person's accounts that name their platform ids."""
    deleted = 0
    for identity, user_id in zip(identities, user_ids, strict=True):
        if len(user_id) < 4:
            continue
        archived = WebhookEvent.objects.filter(account_id=identity.account_id)
        if connection.vendor == "postgresql":
            found = RawSQL("position(%s::bytea in body)", [user_id.encode()], IntegerField())
            deleted += archived.annotate(found=found).filter(found__gt=0).delete()[0]
        else:
            needle = user_id.encode()
            ids = [pk for pk, body in archived.values_list("pk", "body") if needle in bytes(body)]
            deleted += WebhookEvent.objects.filter(pk__in=ids).delete()[0]
    return deleted


def _delete_files(storage, names: list[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            log.exception("erasure: media file %s not deleted", name)
