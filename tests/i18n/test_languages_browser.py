"""Languages in Chromium: the top-bar switch changes every page (a screenshot per language in
test-artifacts/), Arabic lays the workspace out right to left without overflowing, and screen
readers hear new messages in the agent's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from inbox.models import Conversation
from tests.a11y.pages import log_in, seed_workspace
from tests.dashboard.test_live_dashboard import log_in as log_in_agent
from tests.dashboard.test_live_dashboard import post
from tests.helpers import sandbox_body, wait_for

pytestmark = [pytest.mark.live, pytest.mark.browser]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "languages"
# What the inbox link of the top bar reads in each language.
INBOX = {
    "en": "Inbox",
    "es": "Bandeja de entrada",
    "de": "Posteingang",
    "fr": "Boîte de réception",
    "pt-br": "Caixa de entrada",
    "ar": "Inbox",  # no Arabic translation: the layout only (right to left)
}
NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_the_top_bar_switch_changes_the_language_of_every_page(live_server_process, chromium):
    workspace = seed_workspace()
    url = live_server_process.url
    context, page = log_in(chromium, url, workspace.admin.username)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for code, inbox in INBOX.items():
        page.goto(f"{url}/conversations/{workspace.conversation_id}/")
        # By keyboard, as anyone can: focus the switch and pick the language.
        page.focus("#language-switch select")
        with page.expect_navigation():
            page.select_option("#language-switch select", code)
        page.wait_for_selector("#live-status[data-state=live]")
        assert page.get_attribute("html", "lang") == code
        assert page.get_attribute("html", "dir") == ("rtl" if code == "ar" else "ltr")
        assert page.locator(".topbar nav a").first.inner_text() == inbox
        # The scripts speak it too (their catalogue): the live badge was set by inbox.js.
        assert page.locator("#live-status").inner_text() == {
            "es": "en directo",
            "de": "live",
            "fr": "en direct",
            "pt-br": "ao vivo",
        }.get(code, "live")
        page.screenshot(path=str(ARTIFACTS / f"conversation-{code}.png"))
    workspace.admin.refresh_from_db()
    assert workspace.admin.language == "ar"  # kept for the next visit
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_arabic_is_right_to_left_mirrored_and_nothing_overflows(
    live_server_process, chromium, width
):
    workspace = seed_workspace()
    workspace.admin.language = "ar"
    workspace.admin.save(update_fields=["language"])
    url = live_server_process.url
    context, page = log_in(chromium, url, workspace.admin.username)
    page.set_viewport_size({"width": width, "height": 800})

    page.goto(f"{url}/")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.evaluate(NO_OVERFLOW)
    row = page.locator("#conversation-rows li.row").first.bounding_box()
    avatar = page.locator("#conversation-rows li.row .avatar").first.bounding_box()
    # The avatar starts the row: on the right in Arabic.
    assert avatar["x"] + avatar["width"] > row["x"] + row["width"] * 0.75
    if width > 900:
        sidebar = page.locator("nav.sidebar").bounding_box()
        rows = page.locator("#conversation-rows").bounding_box()
        assert sidebar["x"] > rows["x"]  # the views are on the right of the list

    page.goto(f"{url}/conversations/{workspace.conversation_id}/")
    page.wait_for_selector("#live-status[data-state=live]")
    assert page.evaluate(NO_OVERFLOW)
    inbound = page.locator("#thread .message.inbound .bubble").first.bounding_box()
    outbound = page.locator("#thread .message.outbound .bubble").first.bounding_box()
    # The customer on the reading side (right), the agent's replies on the other.
    assert inbound["x"] > outbound["x"]
    send = page.locator("#send").bounding_box()
    note = page.locator("#add-note").bounding_box()
    assert send["x"] > note["x"]  # the composer's first action is on the right
    page.screenshot(path=str(ARTIFACTS / f"conversation-ar-{width}.png"))
    context.close()


def test_screen_readers_hear_a_new_message_in_the_agents_language(
    live_server_process, celery_worker_process, chromium, account, agent
):
    agent.language = "es"
    agent.save(update_fields=["language"])
    url = live_server_process.url
    context, page, _ = log_in_agent(chromium, url, agent)
    announcer = page.locator("#live-announcer")
    assert announcer.get_attribute("aria-live") == "polite"

    post(url, account, sandbox_body(sender_id="cust-ines", name="Ines Duarte", text="¿Hola?"))
    wait_for(lambda: Conversation.objects.filter(contact__name="Ines Duarte").exists())
    page.wait_for_function(
        "() => document.getElementById('live-announcer').textContent"
        " === 'Nuevo mensaje de Ines Duarte'"
    )
    # In the open conversation the thread itself is the live region.
    conversation = Conversation.objects.get(contact__name="Ines Duarte")
    page.goto(f"{url}/conversations/{conversation.pk}/")
    assert page.get_attribute("#thread", "aria-live") == "polite"
    context.close()
