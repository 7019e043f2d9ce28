"""The campaigns pages: managers and admins only, on the accounts they may see."""

from __future__ import annotations

import pytest

from campaigns import services
from campaigns.models import Campaign
from tests.campaigns.conftest import person
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_agents_see_no_link_and_get_403(client, agent, account):
    client.force_login(agent)
    assert "/campaigns/" not in client.get("/").content.decode()
    assert client.get("/campaigns/").status_code == 403
    assert client.get("/campaigns/new/").status_code == 403


def test_manager_creates_a_draft_and_sees_the_preview(client, manager, account):
    person(account, name="Ana Silva")
    client.force_login(manager)
    assert 'href="/campaigns/"' in client.get("/").content.decode()

    answer = client.post(
        "/campaigns/new/",
        {"name": "Spring", "account": account.pk, "text": "Hi {first_name}"},
    )

    campaign = Campaign.objects.get()
    assert answer.url == f"/campaigns/{campaign.pk}/"
    page = client.get(answer.url).content.decode()
    assert "1 of 1 contact will receive it" in page and "Ana Silva" in page


def test_bad_input_is_refused_and_nothing_is_stored(client, manager, account):
    client.force_login(manager)
    answer = client.post(
        "/campaigns/new/",
        {"name": "", "account": account.pk, "text": "x" * 6000, "labels": ["nope"]},
    )
    assert answer.status_code == 422
    assert not Campaign.objects.exists()


def test_a_campaign_on_an_account_one_may_not_see_is_404(client, manager, admin_user):
    hidden = AccountFactory(platform="sandbox", external_id="hidden")
    campaign = services.create(
        name="Hidden", account=hidden, text="Hi", audience_filters={}, actor=admin_user
    )
    client.force_login(manager)
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 404
    assert client.post(f"/campaigns/{campaign.pk}/send/").status_code == 404
    other = UserFactory(username="other-admin", role="admin")
    client.force_login(other)
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 200
