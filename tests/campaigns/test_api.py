"""The campaigns REST API exactly as issue 18 writes it, its access rules, and the contact
consent PATCH."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign
from campaigns.services import advance
from contacts.models import ConsentChange
from inbox.models import Contact, Message
from tests.campaigns.conftest import person
from tests.contacts.helpers import api
from tests.factories import AccountFactory, UserFactory
from tests.helpers import committed

pytestmark = pytest.mark.django_db


def create(client, account, **extra):
    body = {
        "name": "Winter sale",
        "account": account.pk,
        "text": "Hi {first_name}!",
        "audience": {},
        "promotional": True,
        **extra,
    }
    return client.post("/api/v1/campaigns/", body, format="json")


def test_create_preview_send_and_read_a_campaign(x_account, manager, fake_platforms):
    ok = person(x_account)
    unknown = person(x_account, consent=Contact.Consent.UNKNOWN)
    client = api(manager)

    created = create(client, x_account)
    assert created.status_code == 201
    campaign_id = created.json()["id"]
    assert created.json()["status"] == "draft"

    preview = client.post(f"/api/v1/campaigns/{campaign_id}/preview/")
    assert preview.status_code == 200
    assert preview.json()["recipients"] == [
        {"contact": ok.pk, "eligible": True, "reason": None, "detail": None},
        {
            "contact": unknown.pk,
            "eligible": False,
            "reason": "not_opted_in",
            "detail": "Has not opted in to promotional messages.",
        },
    ]

    with committed():
        sent = client.post(f"/api/v1/campaigns/{campaign_id}/send/")
    assert sent.status_code == 202
    with committed():
        advance()

    detail = client.get(f"/api/v1/campaigns/{campaign_id}/").json()
    assert detail["status"] == "sending"
    rows = {r["contact"]: (r["status"], r["reason"]) for r in detail["recipients"]}
    assert rows == {ok.pk: ("sent", None), unknown.pk: ("skipped", "not_opted_in")}
    again = client.post(f"/api/v1/campaigns/{campaign_id}/send/")
    assert again.status_code == 422
    assert again.json()["code"] == "already_started"


def test_audience_filters_and_send_at_are_checked(x_account, manager):
    client = api(manager)
    assert create(client, x_account, audience={"labels": ["nope"]}).status_code == 400
    assert create(client, x_account, audience={"colour": "red"}).status_code == 400
    assert create(client, x_account, audience={"platform": "myspace"}).status_code == 400
    assert create(client, x_account, send_at="tomorrow").status_code == 400
    scheduled = create(client, x_account, send_at="2030-01-01T10:00:00Z")
    assert scheduled.status_code == 201
    assert scheduled.json()["send_at"].startswith("2030-01-01T10:00:00")
    assert Campaign.objects.count() == 1


def test_campaigns_are_promotional_only(x_account, manager):
    refused = create(api(manager), x_account, promotional=False)
    assert refused.status_code == 422
    assert refused.json()["code"] == "promotional_only"


def test_agents_may_not_use_campaigns(x_account, agent, manager):
    campaign_id = create(api(manager), x_account).json()["id"]
    client = api(agent)
    assert create(client, x_account).status_code == 403
    assert client.get(f"/api/v1/campaigns/{campaign_id}/").status_code == 403
    assert client.post(f"/api/v1/campaigns/{campaign_id}/send/").status_code == 403


def test_a_campaign_on_an_account_one_may_not_see_is_404(x_account, manager):
    hidden = AccountFactory(platform="sandbox", external_id="hidden")
    other_manager = UserFactory(username="omar", role="manager")
    assert create(api(other_manager), x_account).status_code == 400  # not their account
    campaign_id = create(api(manager), x_account).json()["id"]
    client = api(other_manager)
    assert client.get(f"/api/v1/campaigns/{campaign_id}/").status_code == 404
    assert client.post(f"/api/v1/campaigns/{campaign_id}/preview/").status_code == 404
    assert client.post(f"/api/v1/campaigns/{campaign_id}/send/").status_code == 404
    assert create(api(manager), hidden).status_code == 400


def test_contact_consent_patch_is_recorded_with_its_source(x_account, agent, manager):
    contact = person(x_account, consent=Contact.Consent.UNKNOWN)
    client = api(agent)

    with committed():
        answer = client.patch(
            f"/api/v1/contacts/{contact.pk}/", {"consent": {"promotional": True}}, format="json"
        )

    assert answer.status_code == 200
    assert answer.json()["consent"]["state"] == "opted_in"
    assert "API" in answer.json()["consent"]["source"]
    change = ConsentChange.objects.get(contact=contact)
    assert (change.state, change.actor_id) == ("opted_in", agent.pk)
    assert "API, by Alice" in change.source

    with committed():
        client.patch(
            f"/api/v1/contacts/{contact.pk}/", {"consent": {"promotional": False}}, format="json"
        )
    contact.refresh_from_db()
    assert contact.marketing_consent == Contact.Consent.OPTED_OUT


def test_bad_consent_input_changes_nothing(x_account, agent):
    contact = person(x_account, consent=Contact.Consent.UNKNOWN)
    client = api(agent)
    for body in ({"consent": True}, {"consent": {"promotional": "yes"}}):
        assert (
            client.patch(f"/api/v1/contacts/{contact.pk}/", body, format="json").status_code == 400
        )
    refused = client.patch(
        f"/api/v1/contacts/{contact.pk}/",
        {"consent": {"promotional": True}, "attributes": {"nope": 1}},
        format="json",
    )
    assert refused.status_code == 422
    contact.refresh_from_db()
    assert contact.marketing_consent == Contact.Consent.UNKNOWN


def test_a_promotional_api_send_to_an_opted_out_contact_never_leaves(x_account, manager):
    contact = person(x_account)
    client = api(manager)
    campaign_id = create(client, x_account).json()["id"]
    Contact.objects.filter(pk=contact.pk).update(marketing_consent=Contact.Consent.OPTED_OUT)
    with committed():
        client.post(f"/api/v1/campaigns/{campaign_id}/send/")
        advance()

    assert not Message.objects.filter(is_promotional=True).exists()
    detail = client.get(f"/api/v1/campaigns/{campaign_id}/").json()
    assert detail["recipients"] == [
        {
            "contact": contact.pk,
            "status": "skipped",
            "reason": "opted_out",
            "detail": "Opted out of promotional messages.",
        }
    ]
