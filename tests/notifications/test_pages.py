"""The bell in the top bar, preferences and the "test" button on /profile/, and the mention
autocomplete's list of teammates (only those who may see the conversation)."""

from __future__ import annotations

import pytest

from notifications.models import Notification, NotificationPreference
from tests.factories import TeamFactory
from tests.helpers import customer_writes

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, agent):
    client.force_login(agent)
    return client


def test_the_bell_shows_the_unread_count(signed_in, agent):
    for _ in range(3):
        Notification.objects.create(user=agent, kind="test", text="hi")
    Notification.objects.create(user=agent, kind="test", text="read", read_at="2026-12-01T00:00Z")
    page = signed_in.get("/profile/").content.decode()
    assert 'id="notification-count" data-count="3"' in page


def test_preferences_are_saved_and_only_ones_own_teams_can_be_watched(signed_in, agent, team):
    elsewhere = TeamFactory(name="Billing")
    response = signed_in.post(
        "/notifications/preferences/",
        {"sound": "on", "watched_teams": [team.pk, elsewhere.pk]},
    )
    # A team the agent is not in is not a valid choice: nothing is saved, and the page says so.
    assert response.status_code == 302
    assert NotificationPreference.objects.filter(user=agent).first() is None
    assert "Notification preferences not saved" in signed_in.get("/profile/").content.decode()
    response = signed_in.post(
        "/notifications/preferences/", {"sound": "on", "watched_teams": [team.pk]}
    )
    assert response.status_code == 302
    prefs = NotificationPreference.objects.get(user=agent)
    assert (prefs.browser, prefs.sound, prefs.email) == (False, True, False)
    assert list(prefs.watched_teams.all()) == [team]
    page = signed_in.get("/profile/").content.decode()
    assert "Notification preferences saved." in page
    assert 'data-browser="0" data-sound="1"' in page


def test_the_test_button_sends_a_notification_to_oneself(signed_in, agent):
    response = signed_in.post("/notifications/test/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    notification = Notification.objects.get(pk=response.json()["id"])
    assert (notification.user, notification.kind) == (agent, "test")


def test_mentionable_lists_teammates_who_may_see_the_conversation(
    signed_in, account, agent, teammate, outsider
):
    conversation = customer_writes(account, "cust-m", "m-m")
    results = signed_in.get(f"/notifications/mentionable/{conversation.pk}/?q=b").json()["results"]
    assert results == [{"username": "bob", "name": "Bob"}]
    everyone = signed_in.get(f"/notifications/mentionable/{conversation.pk}/").json()["results"]
    assert [u["username"] for u in everyone] == ["bob"]  # not the caller, not Charlie


def test_mentionable_is_404_for_a_conversation_one_may_not_see(client, account, outsider):
    conversation = customer_writes(account, "cust-m", "m-m")
    client.force_login(outsider)
    assert client.get(f"/notifications/mentionable/{conversation.pk}/").status_code == 404
