"""Custom attributes: each type accepts its values and refuses the others; saved replies use
them; an agent's consent change lands in the history beside the bot's."""

from __future__ import annotations

import pytest

from chatbot.engine import set_consent
from contacts import services
from contacts.attributes import InvalidAttribute, clean_value
from contacts.models import AttributeDefinition, ConsentChange
from inbox.saved_replies import render
from tests.contacts.helpers import writes
from tests.helpers import committed

pytestmark = pytest.mark.django_db


def definition(kind: str, **extra) -> AttributeDefinition:
    return AttributeDefinition(key="a", label="A", type=kind, **extra)


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("text", " gold ", "gold"),
        ("number", 3, 3),
        ("number", 2.5, 2.5),
        ("number", "42", 42),
        ("number", "4.5", 4.5),
        ("date", "2026-12-06", "2026-12-06"),
        ("boolean", True, True),
        ("boolean", "false", False),
        ("choice", "pro", "pro"),
        ("text", None, None),
        ("number", "", None),
    ],
)
def test_values_each_type_accepts(kind, value, stored):
    assert clean_value(definition(kind, choices=["free", "pro"]), value) == stored


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("text", 3),
        ("text", "x" * 1001),
        ("number", "many"),
        ("number", True),
        ("number", float("nan")),
        ("number", [1]),
        ("date", "06/12/2026"),
        ("date", "2026-02-30"),
        ("date", 20261206),
        ("boolean", "maybe"),
        ("boolean", 1),
        ("choice", "gold"),
        ("choice", 1),
    ],
)
def test_values_each_type_refuses(kind, value):
    with pytest.raises(InvalidAttribute):
        clean_value(definition(kind, choices=["free", "pro"]), value)


def test_a_wrong_value_saves_nothing(account, agent):
    AttributeDefinition.objects.create(key="plan", label="Plan", type="text")
    AttributeDefinition.objects.create(key="orders", label="Orders", type="number")
    contact = writes(account, "sb-1", name="Sam").conversation.contact

    with pytest.raises(InvalidAttribute):
        services.update_contact(
            contact=contact, actor=agent, attribute_changes={"plan": "pro", "orders": "x"}
        )

    contact.refresh_from_db()
    assert contact.attributes == {}


def test_saved_reply_variables_read_attributes(account, agent):
    AttributeDefinition.objects.create(key="plan", label="Plan", type="text")
    AttributeDefinition.objects.create(key="vip", label="VIP", type="boolean")
    conversation = writes(account, "sb-1", name="Sam Lee").conversation
    services.update_contact(
        contact=conversation.contact, actor=agent, attribute_changes={"plan": "Pro", "vip": True}
    )
    conversation.contact.refresh_from_db()

    text = render(
        "Hi {{contact.first_name}}, your {{attribute.plan}} plan (VIP: {{attribute.vip}}) "
        "{{attribute.missing}}",
        conversation=conversation,
        agent=agent,
    )

    assert text == "Hi Sam, your Pro plan (VIP: yes) {{attribute.missing}}"


def test_consent_history_records_the_bot_and_agents(account, agent):
    conversation = writes(account, "sb-1", name="Sam").conversation
    contact = conversation.contact
    with committed():
        set_consent(contact=contact, conversation=conversation, state="opted_in", source="START")
    with committed():
        services.set_consent(contact=contact, actor=agent, state="opted_out", source="by phone")

    history = list(
        ConsentChange.objects.filter(contact=contact)
        .order_by("id")
        .values_list("state", "source", "actor__username")
    )

    assert history == [("opted_in", "START", None), ("opted_out", "by phone", "alice")]
    contact.refresh_from_db()
    assert contact.marketing_consent == "opted_out"
