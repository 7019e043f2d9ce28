"""Campaigns in headless Chromium: a manager creates a campaign, reads the eligibility preview
with the reason each contact is left out, sends it, and reads the report."""

from __future__ import annotations

import pytest

from campaigns import services
from campaigns.models import Campaign
from inbox.models import Contact, ContactIdentity, Message
from tests.contacts.helpers import writes
from tests.dashboard.test_live_dashboard import log_in
from tests.helpers import wait_for

pytestmark = [pytest.mark.live, pytest.mark.browser]


def test_create_preview_and_send_a_campaign(
    live_server_process,
    celery_worker_process,
    chromium,
    account,
    manager,  # noqa: F811
):
    writes(account, "sb-ana", "Hi!", name="Ana Silva")
    writes(account, "sb-rui", "Hello", name="Rui Costa")
    ana = ContactIdentity.objects.get(platform_user_id="sb-ana").contact
    Contact.objects.filter(pk=ana.pk).update(marketing_consent=Contact.Consent.OPTED_IN)
    context, page, _alerts = log_in(chromium, live_server_process.url, manager)

    page.click("header.topbar nav >> text=Campaigns")
    page.click("#new-campaign")
    page.fill("#campaign-name", "Spring offers")
    page.select_option("#campaign-account", str(account.pk))
    page.fill("#campaign-text", "Hi {first_name}, 20% off our mugs this week!")
    page.click("#campaign-create")

    page.wait_for_selector("#preview")
    assert "1 of 2 contacts will receive it" in page.locator("#eligible-count").inner_text()
    rui_row = page.locator("#preview tr", has_text="Rui Costa")
    assert "Has not opted in to promotional messages." in rui_row.inner_text()
    assert page.locator("#preview tr[data-eligible='yes']", has_text="Ana Silva").count() == 1

    # Send, by keyboard.
    page.focus("#campaign-send")
    page.keyboard.press("Enter")
    page.wait_for_selector("#recipients")
    assert page.locator("#campaign-status").inner_text() == "Sending"
    campaign = Campaign.objects.get(name="Spring offers")

    # The periodic pass (beat, or the embedded scheduler) queues Ana's message at her turn.
    services.advance()
    wait_for(
        lambda: Message.objects.filter(
            metadata__campaign=campaign.pk, status=Message.Status.SENT
        ).exists(),
        timeout=20,
    )
    page.reload()
    ana_row = page.locator("#recipients tr[data-status='sent']", has_text="Ana Silva")
    assert ana_row.count() == 1
    assert page.locator("#recipients tr[data-status='skipped']", has_text="Rui Costa").count() == 1
    message = Message.objects.get(metadata__campaign=campaign.pk)
    assert message.text == "Hi Ana, 20% off our mugs this week!"
    assert message.is_promotional
    context.close()
