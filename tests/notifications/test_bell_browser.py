"""The notification centre in headless Chromium against uvicorn + PostgreSQL + Redis + a real
Celery worker: the bell updates live when a teammate assigns you and mentions you (the mention
typed with the note composer's autocomplete, by keyboard), mark all read, the catch-up after a
dropped socket, and the "test" button's browser notification and sound."""

from __future__ import annotations

import pytest

from inbox.models import Note
from notifications import services as notifications
from notifications.models import Notification
from tests.dashboard.test_live_dashboard import log_in
from tests.dashboard.test_live_thread import customer_writes
from tests.factories import UserFactory
from tests.helpers import wait_for

pytestmark = [pytest.mark.live, pytest.mark.browser]

# Browser notifications, recorded: headless Chromium has no notification centre to look at.
RECORD_NOTIFICATIONS = """
window.__shown = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__shown.push({ title, body: options.body, tag: options.tag }); }
  close() {}
};
"""


def bell_count(page) -> str:
    return page.evaluate(
        "() => { const c = document.getElementById('notification-count');"
        " return c.hidden ? '' : c.textContent; }"
    )


def wait_for_count(page, count: str) -> None:
    page.wait_for_function(
        "(n) => { const c = document.getElementById('notification-count');"
        " return (c.hidden ? '' : c.textContent) === n; }",
        arg=count,
        timeout=10_000,
    )


def test_the_bell_updates_live_when_a_teammate_assigns_and_mentions_you(
    live_server_process, celery_worker_process, chromium, account, team, agent, teammate
):
    url = live_server_process.url
    alan = UserFactory(username="alan", first_name="Alan")
    team.members.add(alan)
    conversation = customer_writes(url, account)
    alice_ctx, alice, alice_alerts = log_in(chromium, url, agent)
    bob_ctx, bob, bob_alerts = log_in(chromium, url, teammate)
    assert bell_count(alice) == ""

    # Bob gives Alice the conversation with the mouse.
    bob.goto(f"{url}/conversations/{conversation.pk}/")
    bob.wait_for_selector("#live-status[data-state=live]")
    bob.select_option("#assign-select", str(agent.pk))
    wait_for_count(alice, "1")

    # Bob writes a note and mentions Alice with the keyboard: `@al` lists Alan and Alice.
    bob.keyboard.press("n")
    bob.keyboard.type("Can you take this, @al")
    bob.wait_for_selector("#mention-picker:not([hidden]) [role=option]")
    options = bob.locator("#mention-picker [role=option]")
    assert options.all_inner_texts() == ["Alan\n@alan", "Alice\n@alice"]
    assert bob.get_attribute("#composer-text", "aria-activedescendant") == "mention-option-0"
    bob.keyboard.press("ArrowDown")
    assert bob.get_attribute("#composer-text", "aria-activedescendant") == "mention-option-1"
    bob.keyboard.press("Enter")  # inserts the name; does not add the note
    assert bob.input_value("#composer-text") == "Can you take this, @alice "
    assert bob.locator("#mention-picker").is_hidden()
    bob.keyboard.type("please?")
    bob.keyboard.press("Enter")  # now the note goes
    wait_for(lambda: Note.objects.filter(text="Can you take this, @alice please?").exists())
    wait_for_count(alice, "2")
    assert not Notification.objects.filter(user__in=[teammate, alan]).exists()

    # Alice opens the bell: the newest first; "Mark all read" empties the count.
    alice.click("#notification-bell-button")
    alice.wait_for_selector("#notification-list li[data-notification]")
    texts = alice.locator("#notification-list li[data-notification] a").all_inner_texts()
    assert texts == [
        "Bob mentioned you (conversation with Ines Duarte): “Can you take this, @alice please?”",
        "Bob assigned you the conversation with Ines Duarte",
    ]
    alice.click("#notification-read-all")
    wait_for_count(alice, "")
    assert not Notification.objects.filter(user=agent, read_at__isnull=True).exists()
    alice.wait_for_selector("#notification-list li.read >> nth=1")

    # The socket drops; what is notified meanwhile is caught up after the reconnect.
    alice.evaluate("() => window.Parley.dropConnection()")
    notifications.notify(
        [agent], kind="automation", conversation=conversation, text="VIP is waiting"
    )
    wait_for_count(alice, "1")
    alice.wait_for_selector("#notification-list li.unread >> text=VIP is waiting")
    assert alice_alerts == [] and bob_alerts == []
    alice_ctx.close()
    bob_ctx.close()


def test_the_test_button_shows_a_browser_notification_and_plays_the_sound(
    live_server_process, celery_worker_process, chromium, agent
):
    url = live_server_process.url
    context, page, alerts = log_in(chromium, url, agent)
    page.add_init_script(RECORD_NOTIFICATIONS)
    page.goto(f"{url}/profile/")
    page.wait_for_selector("#live-status[data-state=live]")
    page.click("#notification-test")
    wait_for_count(page, "1")
    page.wait_for_function("() => window.__shown.length === 1")
    shown = page.evaluate("() => window.__shown[0]")
    assert shown["title"] == "Parley"
    assert shown["body"] == "This is a test notification. Notifications reach you here."
    page.wait_for_function(
        "() => document.getElementById('notification-bell').dataset.chimed === '1'"
    )
    assert page.inner_text("#notification-permission") == "This browser shows Parley notifications."

    # Sound and browser notifications off: the next test only rings the bell.
    page.uncheck("#id_browser")
    page.uncheck("#id_sound")
    page.click("#notification-preferences-form button[type=submit]")
    page.wait_for_selector("#live-status[data-state=live]")
    page.click("#notification-test")
    wait_for_count(page, "2")
    assert page.evaluate("() => window.__shown.length") == 0  # a fresh page since the save
    assert (
        page.evaluate("() => document.getElementById('notification-bell').dataset.chimed") is None
    )
    assert alerts == []
    context.close()
