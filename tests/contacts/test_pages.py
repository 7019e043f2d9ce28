"""The contacts pages: the directory and a contact's page follow access, and the
conversation's contact panel shows the other platforms and edits attributes."""

from __future__ import annotations

import pytest

from contacts import services
from contacts.models import AttributeDefinition, ContactMerge
from inbox.models import Contact, ContactIdentity
from tests.contacts.helpers import writes

pytestmark = pytest.mark.django_db


@pytest.fixture
def maya(account, instagram, other_account):
    writes(account, "sb-maya", "hi", name="Maya Thompson", username="maya_t")
    writes(instagram, "ig-maya", "hi", name="Maya T", username="maya_t")
    writes(other_account, "ot-olga", "hi", name="Olga Secret")
    return ContactIdentity.objects.get(platform_user_id="sb-maya").contact


def test_directory_lists_and_searches_only_visible_contacts(client, maya, agent):
    client.force_login(agent)

    page = client.get("/contacts/").content.decode()
    searched = client.get("/contacts/?q=thompson").content.decode()
    by_platform = client.get("/contacts/?platform=instagram").content.decode()

    assert "Maya Thompson" in page and "Maya T<" in page and "Olga" not in page
    assert "Maya Thompson" in searched and "Maya T<" not in searched
    assert "Maya T<" in by_platform and "Maya Thompson" not in by_platform
    assert 'href="/contacts/"' in client.get("/").content.decode()  # the top bar's link


def test_contact_page_suggests_merges_and_follows_access(client, maya, agent, outsider):
    client.force_login(agent)
    page = client.get(f"/contacts/{maya.pk}/").content.decode()
    assert "The same username @maya_t on Sandbox and Instagram" in page
    olga = ContactIdentity.objects.get(platform_user_id="ot-olga").contact
    assert client.get(f"/contacts/{olga.pk}/").status_code == 404
    client.force_login(outsider)
    assert client.get(f"/contacts/{maya.pk}/").status_code == 404


def test_merge_from_the_page_redirects_the_other_contact_and_can_be_undone(client, maya, agent):
    other = ContactIdentity.objects.get(platform_user_id="ig-maya").contact
    client.force_login(agent)

    client.post(f"/contacts/{maya.pk}/merge/", {"other": other.pk})

    assert client.get(f"/contacts/{other.pk}/").url == f"/contacts/{maya.pk}/"
    page = client.get(f"/contacts/{maya.pk}/").content.decode()
    assert "Undo merge" in page and "same username" in page
    record = ContactMerge.objects.get()
    client.post(f"/contacts/{maya.pk}/merges/{record.pk}/undo/")
    assert Contact.objects.get(pk=other.pk).merged_into_id is None


def test_contact_panel_shows_other_platforms_and_saves_attributes(client, maya, agent):
    AttributeDefinition.objects.create(
        key="tier", label="Tier", type="choice", choices=["free", "pro"]
    )
    other = ContactIdentity.objects.get(platform_user_id="ig-maya").contact
    services.merge(survivor=maya, other=other, actor=agent)
    conversation = maya.conversations.get(account__platform="sandbox")
    client.force_login(agent)
    url = f"/conversations/{conversation.pk}/"

    panel = client.get(url).content.decode()
    assert "platform-instagram" in panel and "@maya_t" in panel and 'name="attr_tier"' in panel

    saved = client.post(f"/contacts/{maya.pk}/edit/", {"attr_tier": "pro", "next": url})
    assert saved.url == url
    maya.refresh_from_db()
    assert maya.attributes == {"tier": "pro"}
    client.post(f"/contacts/{maya.pk}/edit/", {"attr_tier": "gold"})
    maya.refresh_from_db()
    assert maya.attributes == {"tier": "pro"}


def test_only_admins_define_attributes_and_erase(client, maya, agent, admin_user):
    client.force_login(agent)
    assert (
        client.post(
            "/contacts/attributes/", {"key": "plan", "label": "Plan", "type": "text"}
        ).status_code
        == 403
    )
    assert client.post(f"/contacts/{maya.pk}/erase/", {"confirm": "erase"}).status_code == 403
    client.force_login(admin_user)
    client.post("/contacts/attributes/", {"key": "plan", "label": "Plan", "type": "text"})
    assert AttributeDefinition.objects.filter(key="plan").exists()
    client.post(f"/contacts/{maya.pk}/erase/", {"confirm": "erase"})
    maya.refresh_from_db()
    assert maya.erased_at is not None
