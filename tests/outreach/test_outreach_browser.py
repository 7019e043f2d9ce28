"""Outreach in headless Chromium: a manager opens Outreach from the top bar, creates a list by
typing, reads the per-handle explanations, sends it, and sees who replied."""

from __future__ import annotations

import pytest

from connectors.models import SandboxOutbox
from inbox.models import Conversation, Message
from outreach.models import OutreachList
from tests.dashboard.test_live_dashboard import log_in
from tests.helpers import customer_writes

pytestmark = [pytest.mark.live, pytest.mark.browser]


def test_manager_creates_and_sends_an_outreach_list(
    live_server_process, celery_worker_process, chromium, account, manager
):
    customer_writes(account, "lena", "sb-1")
    customer_writes(account, "omar", "sb-2")
    url = live_server_process.url
    context, page, _alerts = log_in(chromium, url, manager)

    page.click("header.topbar nav >> text=Outreach")
    page.wait_for_selector("#outreach-form")
    page.fill("#outreach-name", "Summer makers")
    page.select_option("#outreach-account", str(account.pk))
    page.click("#outreach-handles")
    page.keyboard.type("@lena\n@omar\n")
    page.click("#outreach-message")
    page.keyboard.type("Hi! Want to co-design a mug with us?")
    page.fill("#outreach-follow-up", "2")
    page.click("#outreach-create")

    page.wait_for_selector("#outreach-recipients")
    outreach = OutreachList.objects.get()
    assert page.url.endswith(f"/outreach/{outreach.pk}/")
    rows = page.locator("#outreach-recipients tbody tr")
    assert rows.count() == 2
    assert "where their settings allow it" in rows.first.inner_text()

    # Sent with the keyboard: focus the button, press Enter.
    page.focus("#outreach-send")
    page.keyboard.press("Enter")
    page.wait_for_selector("#flash >> text=Sent: 2.")
    page.wait_for_function(
        "() => document.querySelectorAll('#outreach-recipients tr[data-status=sent]').length == 2"
    )
    # The real worker delivers both through the sandbox.
    for _ in range(100):
        if SandboxOutbox.objects.count() == 2:
            break
        page.wait_for_timeout(100)
    assert sorted(SandboxOutbox.objects.values_list("recipient_id", flat=True)) == ["lena", "omar"]

    # Lena answers: the list shows it, and her conversation carries the list's label.
    customer_writes(account, "lena", "sb-3")
    page.reload()
    lena = page.locator("#outreach-recipients tr[data-handle=lena] .replied")
    assert "Replied" in lena.inner_text()
    assert page.locator("#outreach-replied-count").inner_text() == "1 / 2"
    lena.get_by_role("link").click()
    page.wait_for_selector("#composer-form")
    conversation = Conversation.objects.get(contact__identities__platform_user_id="lena")
    assert page.url.endswith(f"/conversations/{conversation.pk}/")
    assert conversation.labels.get().name == "Outreach: Summer makers"
    assert Message.objects.filter(
        conversation=conversation, text="Hi! Want to co-design a mug with us?"
    ).exists()
    context.close()
