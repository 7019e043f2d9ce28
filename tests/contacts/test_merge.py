"""Merge and unmerge: one person across platforms, with every conversation, message, metric
and SLA timer where it was, replies to the right identity, and an undo that restores both."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts import services
from contacts.models import AttributeDefinition, ContactMerge, ContactNote
from inbox.delivery import outbound_for
from inbox.models import Contact, ContactIdentity, Conversation, ConversationEvent, Message
from inbox.settings_area.models import AuditLog
from reports.models import ConversationMetric, VolumeHour
from tests.contacts.helpers import writes
from tests.factories import IdentityFactory, MessageFactory

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    """What must not move in a merge: messages, report metrics and SLA state."""
    return {
        "messages": sorted(Message.objects.values_list("pk", "conversation_id", "text")),
        "metrics": sorted(
            ConversationMetric.objects.values_list(
                "conversation_id", "sequence", "messages_in", "messages_out", "opened_at"
            )
        ),
        "volume": sorted(VolumeHour.objects.values_list("conversation_id", "messages_in")),
        "sla": sorted(
            Conversation.objects.values_list("pk", "account_id", "sla_status", "sla_due_at")
        ),
    }


@pytest.fixture
def maya(account, instagram):
    """Maya wrote on the sandbox account (twice) and on Instagram: two contacts so far."""
    writes(account, "sb-maya", "Hi, my order?", name="Maya Thompson", username="maya_t")
    writes(account, "sb-maya", "Still waiting", name="Maya Thompson", username="maya_t")
    writes(instagram, "ig-maya", "Hello from Instagram", name="Maya T", username="maya_t")
    sandbox = ContactIdentity.objects.get(platform_user_id="sb-maya")
    ig = ContactIdentity.objects.get(platform_user_id="ig-maya")
    due = timezone.now() + timedelta(hours=1)
    Conversation.objects.filter(contact=ig.contact).update(sla_status="warning", sla_due_at=due)
    return sandbox, ig


def test_merge_and_unmerge_round_trip_keeps_messages_metrics_and_sla(maya, agent):
    sandbox, ig = maya
    survivor, other = sandbox.contact, ig.contact
    AttributeDefinition.objects.create(key="plan", label="Plan", type="text")
    AttributeDefinition.objects.create(key="vip", label="VIP", type="boolean")
    services.update_contact(contact=survivor, actor=agent, attribute_changes={"plan": "gold"})
    services.update_contact(contact=other, actor=agent, attribute_changes={"vip": True})
    note = services.add_note(contact=other, author=agent, text="Prefers Instagram")
    sandbox_thread = Conversation.objects.get(contact=survivor)
    ig_thread = Conversation.objects.get(contact=other)
    before = snapshot()
    assert before["metrics"], "the metrics listener made rows to compare"

    services.merge(survivor=survivor, other=other, actor=agent)

    survivor.refresh_from_db()
    other.refresh_from_db()
    assert other.merged_into_id == survivor.pk
    assert set(Conversation.objects.filter(contact=survivor)) == {sandbox_thread, ig_thread}
    # Conversations stay per platform: each on its account, with its own participant.
    assert Conversation.objects.get(pk=ig_thread.pk).account_id == ig.account_id
    assert set(survivor.identities.values_list("platform_user_id", flat=True)) == {
        "sb-maya",
        "ig-maya",
    }
    assert survivor.attributes == {"plan": "gold", "vip": True}
    assert ContactNote.objects.get(pk=note.pk).contact_id == survivor.pk
    assert snapshot() == before

    # A reply in the Instagram thread still goes to the Instagram identity.
    reply = MessageFactory(
        conversation=ig_thread,
        direction=Message.Direction.OUTBOUND,
        sender_kind=Message.SenderKind.AGENT,
        status=Message.Status.QUEUED,
        external_id=None,
    )
    assert outbound_for(Message.objects.get(pk=reply.pk)).recipient_id == "ig-maya"
    reply.delete()

    split = services.unmerge(contact=survivor, identity=ig, actor=agent)

    assert split.pk == other.pk  # the same contact comes back, under its own id
    split.refresh_from_db()
    survivor.refresh_from_db()
    assert split.merged_into_id is None
    assert list(Conversation.objects.filter(contact=split)) == [ig_thread]
    assert list(Conversation.objects.filter(contact=survivor)) == [sandbox_thread]
    assert survivor.attributes == {"plan": "gold"}
    assert split.attributes == {"vip": True}
    assert ContactNote.objects.get(pk=note.pk).contact_id == split.pk
    assert snapshot() == before
    assert ContactMerge.objects.get().undone_at is not None
    actions = list(AuditLog.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["contact.merged", "contact.unmerged"]
    updated = ConversationEvent.objects.filter(kind="contact_updated")
    assert {e.data["action"] for e in updated} >= {"updated", "merged", "unmerged"}


def test_after_a_merge_each_identity_keeps_writing_into_its_own_thread(maya, agent):
    sandbox, ig = maya
    ig_thread = Conversation.objects.get(contact=ig.contact)
    services.merge(survivor=sandbox.contact, other=ig.contact, actor=agent)

    message = writes(ig.account, "ig-maya", "Me again on Instagram")

    assert message.conversation_id == ig_thread.pk
    assert Conversation.objects.filter(account=ig.account).count() == 1


def test_two_identities_on_one_account_are_never_one_contact(account, agent):
    writes(account, "sb-1", "hi", name="Sam")
    writes(account, "sb-2", "hi", name="Sam")
    one, two = (ContactIdentity.objects.get(platform_user_id=p).contact for p in ("sb-1", "sb-2"))

    with pytest.raises(services.ContactRefused) as refused:
        services.merge(survivor=one, other=two, actor=agent)

    assert refused.value.code == "same_account"
    assert Contact.objects.get(pk=two.pk).merged_into_id is None


def test_undo_of_a_merge_brings_back_a_contact_with_two_identities(account, instagram, agent):
    from tests.factories import AccountFactory

    x = AccountFactory(platform="x", external_id="x-shop")
    survivor = IdentityFactory(account=account, platform_user_id="sb-1").contact
    other = IdentityFactory(account=instagram, platform_user_id="ig-1").contact
    IdentityFactory(account=x, platform_user_id="x-1", contact=other)
    record = services.merge(survivor=survivor, other=other, actor=agent)
    assert survivor.identities.count() == 3

    back = services.undo_merge(record=record, actor=agent)

    assert back.pk == other.pk
    assert set(other.identities.values_list("platform_user_id", flat=True)) == {"ig-1", "x-1"}
    assert survivor.identities.count() == 1
    record.refresh_from_db()
    assert record.undone_at is not None


def test_splitting_off_the_survivors_own_identity_makes_a_new_contact(maya, agent):
    sandbox, ig = maya
    services.merge(survivor=sandbox.contact, other=ig.contact, actor=agent)

    split = services.unmerge(contact=sandbox.contact, identity=sandbox, actor=agent)

    assert split.pk not in (sandbox.contact_id, ig.contact_id)
    assert split.name == "Maya Thompson"
    assert Conversation.objects.get(account=sandbox.account).contact_id == split.pk


def test_a_contacts_only_identity_cannot_be_split_off(maya, agent):
    sandbox, _ig = maya
    with pytest.raises(services.ContactRefused):
        services.unmerge(contact=sandbox.contact, identity=sandbox, actor=agent)
