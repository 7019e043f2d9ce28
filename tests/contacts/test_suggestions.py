"""Merge suggestions: each with its reasons, never from one weak signal, never from data the
viewer may not see (another team's customers and what they wrote)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from contacts import clues, suggestions
from contacts.models import ContactClue
from inbox.models import ContactIdentity
from tests.contacts.helpers import writes
from tests.factories import AccountFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def contact_of(platform_user_id: str):
    return ContactIdentity.objects.get(platform_user_id=platform_user_id).contact


def suggested(user, platform_user_id: str) -> dict[str, list[str]]:
    return {
        s.contact.name: s.reason_texts
        for s in suggestions.for_contact(user, contact_of(platform_user_id))
    }


def test_the_same_username_on_two_platforms(account, instagram, agent):
    writes(account, "sb-1", name="Maya Thompson", username="maya_t")
    writes(instagram, "ig-1", name="M.", username="Maya_T")

    found = suggested(agent, "sb-1")

    assert list(found) == ["M."]
    assert "The same username @maya_t on Sandbox and Instagram" in found["M."]


def test_one_weak_signal_is_never_enough(account, instagram, agent):
    writes(account, "sb-1", name="Sam Lee", username="jo")
    writes(instagram, "ig-1", name="Jo Smith", username="jo")  # a short username: weak
    writes(account, "sb-2", "mail me at kim@example.com", name="Kim")
    writes(instagram, "ig-2", "I'm kim@example.com", name="Someone else")  # email alone
    writes(account, "sb-3", "hello", name="Ann Roe")
    writes(instagram, "ig-3", "hello", name="Ann Roe")  # the same name alone

    assert suggested(agent, "sb-1") == {}
    assert suggested(agent, "sb-2") == {}
    assert suggested(agent, "sb-3") == {}


def test_a_shared_email_with_the_same_name(account, instagram, agent):
    writes(account, "sb-1", "reach me at kim@example.com", name="Kim Park")
    writes(instagram, "ig-1", "my email: KIM@example.com", name="kim park")
    writes(instagram, "ig-2", "hello", name="Kim Park")  # same name alone: nothing

    found = suggested(agent, "sb-1")

    assert list(found) == ["kim park"]
    assert found["kim park"] == [
        "Both wrote the same email address kim@example.com",
        "The same name",
    ]


def test_the_customers_own_link_to_another_platform(account, instagram, agent):
    writes(account, "sb-1", "I also wrote to you on Instagram as @lena.b", name="Lena")
    writes(instagram, "ig-1", "hi", name="L", username="lena.b")

    found = suggested(agent, "sb-1")

    assert found == {"L": ["They wrote that they are @lena.b on Instagram"]}
    # And from the other side.
    assert list(suggested(agent, "ig-1")) == ["Lena"]


def test_nothing_across_teams(account, agent, admin_user):
    """Another brand's account, seen only by its own team, holds a customer with the same
    username and the same email: Alice's team gets no suggestion, nor does the other team."""
    other = AccountFactory(platform="instagram", external_id="ig-brand-b")
    team_b = TeamFactory(name="Brand B")
    team_b.accounts.add(other)
    bea = UserFactory(username="bea")
    team_b.members.add(bea)
    writes(account, "sb-1", "I'm rui@example.com", name="Rui Costa", username="ruicosta")
    writes(other, "ig-1", "I'm rui@example.com", name="Rui Costa", username="ruicosta")

    assert suggested(agent, "sb-1") == {}
    assert suggested(bea, "ig-1") == {}
    assert list(suggested(admin_user, "sb-1")) == ["Rui Costa"]


def test_two_people_on_one_account_are_not_suggested(account, agent):
    writes(account, "sb-1", "kim@example.com", name="Kim Park")
    writes(account, "sb-2", "kim@example.com", name="Kim Park")

    assert suggested(agent, "sb-1") == {}


def test_clues_found_in_text():
    found = clues.extract(
        "Mail ana@shop.io or call +33 6 12 34 56 78, see www.ana-shop.com. "
        "I also messaged you on twitter as @ana_s"
    )
    assert ("email", "ana@shop.io") in found
    assert ("phone", "33612345678") in found
    assert ("website", "ana-shop.com") in found
    assert ("elsewhere", "x:ana_s") in found
    assert ("website", "shop.io") not in found
    assert clues.extract("") == []
    assert clues.extract("order 1234") == []


def test_past_messages_are_scanned_by_command(account, agent):
    writes(account, "sb-1", "old message: ana@shop.io", name="Ana")
    ContactClue.objects.all().delete()

    call_command("contacts_scan_clues", stdout=io.StringIO())

    assert list(ContactClue.objects.values_list("kind", "value")) == [("email", "ana@shop.io")]
