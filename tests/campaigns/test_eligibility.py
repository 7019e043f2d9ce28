"""The eligibility preview: every platform rule and consent state, each with its reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign
from inbox.models import Contact, Conversation, Label, Message
from inbox.send_refusals import SEND_WARNING
from tests.campaigns.conftest import person
from tests.factories import AccountFactory, MessageFactory

pytestmark = pytest.mark.django_db


def campaign_on(account, manager, text="Hi {first_name}, 20% off this week", **audience):
    return services.create(
        name="Winter sale",
        account=account,
        text=text,
        audience_filters=audience,
        actor=manager,
    )


def verdicts(campaign) -> dict[int, str]:
    return {c.pk: v.reason for c, v in services.preview(campaign)}


def test_messenger_needs_opt_in_and_a_customer_who_wrote_inside_the_window(messenger, manager):
    ok = person(messenger)
    unknown = person(messenger, consent=Contact.Consent.UNKNOWN)
    out = person(messenger, consent=Contact.Consent.OPTED_OUT)
    never = person(messenger, wrote=None)
    old = person(messenger, wrote=timedelta(hours=30))

    found = verdicts(campaign_on(messenger, manager))

    assert found == {
        ok.pk: "",
        unknown.pk: "not_opted_in",
        out.pk: "opted_out",
        never.pk: "cannot_initiate",
        old.pk: "window_closed",
    }


def test_human_agent_tag_does_not_open_the_window_for_promotions(messenger, manager):
    messenger.options = {"human_agent": True}
    messenger.save()
    three_days = person(messenger, wrote=timedelta(days=3))

    [(contact, verdict)] = services.preview(campaign_on(messenger, manager))

    assert contact.pk == three_days.pk
    assert not verdict.eligible
    assert verdict.reason == "window_closed"
    assert "no message tag" in verdict.detail


def test_instagram_follows_the_same_rule(instagram, manager):
    ok = person(instagram)
    never = person(instagram, wrote=None)

    assert verdicts(campaign_on(instagram, manager)) == {ok.pk: "", never.pk: "cannot_initiate"}


def test_x_reaches_anyone_whose_dm_settings_did_not_refuse(x_account, manager):
    wrote = person(x_account)
    never = person(x_account, wrote=None)
    refused = person(x_account)
    Conversation.objects.filter(contact=refused).update(
        metadata={SEND_WARNING: {"code": "dm_refused", "detail": "refused"}}
    )
    unknown = person(x_account, consent=Contact.Consent.UNKNOWN, wrote=None)

    assert verdicts(campaign_on(x_account, manager)) == {
        wrote.pk: "",
        never.pk: "",
        refused.pk: "dm_closed",
        unknown.pk: "not_opted_in",
    }


def test_linkedin_has_nothing_a_campaign_can_send(team, manager):
    account = AccountFactory(platform="linkedin", external_id="urn:li:organization:1")
    contact = person(account)

    assert verdicts(campaign_on(account, manager)) == {contact.pk: "platform_cannot_send"}


def test_frequency_cap_leaves_out_who_got_a_promotion_lately(messenger, manager, settings):
    settings.CAMPAIGN_FREQUENCY_CAP_DAYS = 7
    recent = person(messenger)
    long_ago = person(messenger)
    for contact, age in ((recent, timedelta(days=2)), (long_ago, timedelta(days=9))):
        MessageFactory(
            conversation=Conversation.objects.get(contact=contact),
            direction=Message.Direction.OUTBOUND,
            sender_kind=Message.SenderKind.SYSTEM,
            status=Message.Status.SENT,
            is_promotional=True,
            created_at=timezone.now() - age,
        )

    assert verdicts(campaign_on(messenger, manager)) == {
        recent.pk: "frequency_cap",
        long_ago.pk: "",
    }


def test_a_missing_attribute_the_text_uses_leaves_the_contact_out(messenger, manager):
    with_city = person(messenger, attributes={"city": "Lisbon"})
    without = person(messenger)

    campaign = campaign_on(messenger, manager, text="New store in {attribute.city}!")

    assert verdicts(campaign) == {with_city.pk: "", without.pk: "missing_attribute"}


def test_audience_filters_must_all_match(messenger, manager):
    vip = Label.objects.create(name="vip")
    both = person(messenger, attributes={"tier": "gold"})
    label_only = person(messenger, attributes={"tier": "silver"})
    person(messenger, attributes={"tier": "gold"})  # no label
    for contact in (both, label_only):
        Conversation.objects.get(contact=contact).labels.add(vip)

    campaign = campaign_on(messenger, manager, labels=["vip"], attributes={"tier": "gold"})

    assert list(verdicts(campaign)) == [both.pk]


def test_no_filter_means_every_contact_of_the_account_only(messenger, manager, account):
    mine = person(messenger)
    person(account)  # another account's contact

    campaign = campaign_on(messenger, manager)

    assert list(verdicts(campaign)) == [mine.pk]
    assert campaign.status == Campaign.Status.DRAFT
