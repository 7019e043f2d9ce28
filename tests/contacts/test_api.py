"""The contacts REST API as issue 17 writes it, and its access rules: a contact is seen through
the conversations one may see (team isolation, as for conversations)."""

from __future__ import annotations

import pytest

from contacts.models import AttributeDefinition
from inbox.models import Contact, ContactIdentity, Label
from inbox.settings_area.models import AuditLog
from tests.contacts.helpers import api, writes
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(account, instagram, other_account):
    """Maya on the sandbox account and on Instagram; Olga only on an account no team sees."""
    writes(account, "sb-maya", "hi", name="Maya Thompson", username="maya_t")
    writes(instagram, "ig-maya", "hi", name="Maya T", username="mayagram")
    writes(other_account, "ot-olga", "hi", name="Olga Secret", username="olga")
    return {
        p: ContactIdentity.objects.get(platform_user_id=p).contact
        for p in ("sb-maya", "ig-maya", "ot-olga")
    }


def test_list_shape_and_only_visible_contacts(people, agent, outsider, admin_user):
    body = api(agent).get("/api/v1/contacts/").json()

    assert set(body) == {"results", "next"}
    assert {c["name"] for c in body["results"]} == {"Maya Thompson", "Maya T"}
    maya = next(c for c in body["results"] if c["name"] == "Maya Thompson")
    assert maya == {
        "id": people["sb-maya"].pk,
        "name": "Maya Thompson",
        "identities": [
            {
                "platform": "sandbox",
                "account": maya["identities"][0]["account"],
                "platform_user_id": "sb-maya",
                "username": "maya_t",
            }
        ],
        "attributes": {},
        "labels": [],
        "consent": {"state": "unknown", "at": None, "source": ""},
    }
    assert api(outsider).get("/api/v1/contacts/").json()["results"] == []
    assert len(api(admin_user).get("/api/v1/contacts/").json()["results"]) == 3


def test_search_by_name_username_and_attribute_and_platform_filter(people, agent):
    AttributeDefinition.objects.create(key="plan", label="Plan", type="text")
    Contact.objects.filter(pk=people["ig-maya"].pk).update(attributes={"plan": "Platinum"})
    client = api(agent)

    def names(query: str) -> set[str]:
        return {c["name"] for c in client.get(f"/api/v1/contacts/?{query}").json()["results"]}

    assert names("q=thomp") == {"Maya Thompson"}
    assert names("q=@mayagram") == {"Maya T"}
    assert names("q=platin") == {"Maya T"}
    assert names("q=olga") == set()  # not theirs to find
    assert names("platform=instagram") == {"Maya T"}
    assert names("q=maya&platform=sandbox") == {"Maya Thompson"}
    assert client.get("/api/v1/contacts/?platform=myspace").status_code == 400


def test_labels_are_those_of_the_contacts_conversations(people, agent):
    label = Label.objects.create(name="refund")
    people["sb-maya"].conversations.get().labels.add(label)

    body = api(agent).get(f"/api/v1/contacts/{people['sb-maya'].pk}/").json()

    assert body["labels"] == ["refund"]


def test_every_contact_endpoint_is_404_outside_access(people, agent, outsider):
    olga = people["ot-olga"].pk
    client = api(agent)
    for response in (
        client.get(f"/api/v1/contacts/{olga}/"),
        client.patch(f"/api/v1/contacts/{olga}/", {"name": "x"}, format="json"),
        client.delete(f"/api/v1/contacts/{olga}/"),
        client.get(f"/api/v1/contacts/{olga}/export/"),
        client.post(f"/api/v1/contacts/{olga}/merge/", {"other": 1}, format="json"),
        client.post(
            f"/api/v1/contacts/{olga}/unmerge/",
            {"identity": {"platform": "sandbox", "platform_user_id": "ot-olga"}},
            format="json",
        ),
        # Merging a visible contact with one the agent may not see.
        client.post(
            f"/api/v1/contacts/{people['sb-maya'].pk}/merge/", {"other": olga}, format="json"
        ),
    ):
        assert response.status_code == 404, response.content
    maya = people["sb-maya"].pk
    assert api(outsider).get(f"/api/v1/contacts/{maya}/").status_code == 404
    assert api(outsider).get(f"/api/v1/conversations/?contact={maya}").json()["results"] == []
    assert Contact.objects.get(pk=olga).merged_into_id is None


def test_patch_name_and_attributes_and_422_for_a_wrong_type(people, agent):
    AttributeDefinition.objects.create(key="orders", label="Orders", type="number")
    AttributeDefinition.objects.create(
        key="tier", label="Tier", type="choice", choices=["free", "pro"]
    )
    url = f"/api/v1/contacts/{people['sb-maya'].pk}/"
    client = api(agent)

    ok = client.patch(
        url, {"name": "Maya T.", "attributes": {"orders": 3, "tier": "pro"}}, format="json"
    )
    assert ok.status_code == 200
    assert ok.json()["name"] == "Maya T." and ok.json()["attributes"] == {
        "orders": 3,
        "tier": "pro",
    }

    wrong = client.patch(url, {"attributes": {"orders": "many"}}, format="json")
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "invalid_attribute" and "orders" in wrong.json()["detail"]
    unknown = client.patch(url, {"attributes": {"shoe_size": 9}}, format="json")
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_attribute"
    assert client.patch(url, {"attributes": {"tier": "gold"}}, format="json").status_code == 422
    # Nothing half-saved; null removes a value.
    assert Contact.objects.get(pk=people["sb-maya"].pk).attributes == {"orders": 3, "tier": "pro"}
    client.patch(url, {"attributes": {"orders": None}}, format="json")
    assert Contact.objects.get(pk=people["sb-maya"].pk).attributes == {"tier": "pro"}


def test_attribute_definitions_are_created_by_admins(agent, admin_user):
    body = {"key": "plan", "label": "Plan", "type": "choice", "choices": ["free", "pro"]}
    assert api(agent).post("/api/v1/contact-attributes/", body, format="json").status_code == 403

    created = api(admin_user).post("/api/v1/contact-attributes/", body, format="json")

    assert created.status_code == 201
    assert created.json() == body
    assert api(agent).get("/api/v1/contact-attributes/").json()["results"] == [body]
    for bad in (
        {**body, "key": "Plan!"},
        {**body, "type": "colour"},
        {**body, "choices": []},
        body,  # the same key again
    ):
        response = api(admin_user).post("/api/v1/contact-attributes/", bad, format="json")
        assert response.status_code == 400, bad


def test_merge_then_unmerge_through_the_api(people, agent):
    maya, ig = people["sb-maya"].pk, people["ig-maya"].pk
    client = api(agent)

    merged = client.post(f"/api/v1/contacts/{maya}/merge/", {"other": ig}, format="json")

    assert merged.status_code == 200
    assert {i["platform"] for i in merged.json()["identities"]} == {"sandbox", "instagram"}
    assert client.get(f"/api/v1/contacts/{ig}/").status_code == 404
    conversations = client.get(f"/api/v1/conversations/?contact={maya}").json()["results"]
    assert len(conversations) == 2
    assert all(len(c["contact"]["identities"]) == 2 for c in conversations)

    split = client.post(
        f"/api/v1/contacts/{maya}/unmerge/",
        {"identity": {"platform": "instagram", "platform_user_id": "ig-maya"}},
        format="json",
    )

    assert split.status_code == 200
    assert split.json()["id"] == ig
    assert client.get(f"/api/v1/contacts/{ig}/").status_code == 200
    assert len(client.get(f"/api/v1/conversations/?contact={maya}").json()["results"]) == 1
    missing = client.post(
        f"/api/v1/contacts/{maya}/unmerge/",
        {"identity": {"platform": "x", "platform_user_id": "nobody"}},
        format="json",
    )
    assert missing.status_code == 404


def test_a_merge_refused_by_the_rules_is_422(account, agent):
    writes(account, "sb-1", "hi", name="A")
    writes(account, "sb-2", "hi", name="B")
    one, two = (
        ContactIdentity.objects.get(platform_user_id=p).contact_id for p in ("sb-1", "sb-2")
    )

    response = api(agent).post(f"/api/v1/contacts/{one}/merge/", {"other": two}, format="json")

    assert response.status_code == 422
    assert response.json()["code"] == "same_account"


def test_team_isolation_inside_one_merged_contact(people, agent, admin_user, other_account):
    """Maya also wrote to an account only another team sees: the agent sees her, but not that
    identity nor that conversation."""
    writes(other_account, "ot-maya", "private to the other team", name="Maya Thompson")
    hidden = ContactIdentity.objects.get(platform_user_id="ot-maya").contact
    other_team = TeamFactory(name="Other brand")
    other_team.accounts.add(other_account)
    api(admin_user).post(
        f"/api/v1/contacts/{people['sb-maya'].pk}/merge/", {"other": hidden.pk}, format="json"
    )

    body = api(agent).get(f"/api/v1/contacts/{people['sb-maya'].pk}/").json()
    exported = api(agent).get(f"/api/v1/contacts/{people['sb-maya'].pk}/export/").json()
    listed = api(agent).get(f"/api/v1/conversations/?contact={people['sb-maya'].pk}").json()

    assert [i["platform_user_id"] for i in body["identities"]] == ["sb-maya"]
    assert "private to the other team" not in str(exported)
    assert len(listed["results"]) == 1
    assert [i["platform_user_id"] for i in listed["results"][0]["contact"]["identities"]] == [
        "sb-maya"
    ]
    other_agent = UserFactory(username="olaf")
    other_team.members.add(other_agent)
    seen = api(other_agent).get(f"/api/v1/contacts/{people['sb-maya'].pk}/").json()
    assert [i["platform_user_id"] for i in seen["identities"]] == ["ot-maya"]


def test_export_holds_conversations_and_messages(people, agent):
    body = api(agent).get(f"/api/v1/contacts/{people['sb-maya'].pk}/export/").json()

    assert body["contact"]["name"] == "Maya Thompson"
    assert body["identities"][0]["platform_user_id"] == "sb-maya"
    assert [i["text"] for i in body["conversations"][0]["items"]] == ["hi"]


def test_erasure_is_for_admins_only(people, agent, admin_user):
    url = f"/api/v1/contacts/{people['sb-maya'].pk}/"
    assert api(agent).delete(url).status_code == 403
    assert Contact.objects.get(pk=people["sb-maya"].pk).name == "Maya Thompson"

    assert api(admin_user).delete(url).status_code == 204
    assert Contact.objects.get(pk=people["sb-maya"].pk).name == ""
    assert AuditLog.objects.filter(action="contact.erased").exists()


def test_pages_follow_next_without_repeats_through_a_search(account, agent, monkeypatch):
    """A search matching by name, by username and by attribute, two at a time."""
    monkeypatch.setattr("contacts.api.API_PAGE_SIZE", 2)
    AttributeDefinition.objects.create(key="nick", label="Nick", type="text")
    writes(account, "sb-1", name="Rosa Lind")
    writes(account, "sb-2", name="Someone", username="rosa_l")
    writes(account, "sb-3", name="Third")
    writes(account, "sb-4", name="Rosalind Two")
    Contact.objects.filter(name="Third").update(attributes={"nick": "Rosa"})
    client = api(agent)

    seen, url = [], "/api/v1/contacts/?q=rosa"
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= 2
        seen += [c["name"] for c in body["results"]]
        url = body["next"]

    assert seen == ["Rosalind Two", "Third", "Someone", "Rosa Lind"]


def test_bad_input_is_refused_clearly_and_changes_nothing(people, agent):
    maya = people["sb-maya"].pk
    client = api(agent)
    url = f"/api/v1/contacts/{maya}/"

    assert client.patch(url, [1, 2], format="json").status_code == 400
    assert client.patch(url, {"name": 5}, format="json").status_code == 400
    not_an_object = client.patch(url, {"attributes": "plan=gold"}, format="json")
    assert not_an_object.status_code == 422
    assert not_an_object.json()["code"] == "invalid_attributes"
    for body in ({"other": "abc"}, {"other": True}, {}, {"other": [maya]}):
        assert client.post(f"{url}merge/", body, format="json").status_code == 400
    for body in ({"identity": "sb-maya"}, {"identity": {"platform": "sandbox"}}, {}):
        assert client.post(f"{url}unmerge/", body, format="json").status_code == 400
    assert client.get("/api/v1/contacts/?q=" + "x" * 101).status_code == 400
    assert client.get("/api/v1/contacts/?before=abc").status_code == 400
    assert client.post(f"{url}merge/", {"other": maya}, format="json").status_code == 422
    assert Contact.objects.get(pk=maya).name == "Maya Thompson"
