"""The contact panel of a conversation page: the person's identities on every platform the
agent may see, their custom attributes (editable there) and a link to their contact page."""

from __future__ import annotations

from django import template

from contacts import attributes, selectors
from contacts.models import AttributeDefinition
from inbox.models import Conversation

register = template.Library()


@register.inclusion_tag("contacts/_panel.html", takes_context=True)
def contact_panel(context, conversation: Conversation) -> dict:
    user = context["user"]
    contact = conversation.contact
    values = contact.attributes
    return {
        "contact": contact,
        "conversation": conversation,
        "identities": selectors.identities_of(user, [contact.pk])[contact.pk],
        "attribute_rows": [
            (d, values.get(d.key), attributes.display(d, values.get(d.key)))
            for d in AttributeDefinition.objects.all()
        ],
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }
