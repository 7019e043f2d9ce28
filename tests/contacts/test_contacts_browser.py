"""The contacts page in headless Chromium: an agent searches for a customer by typing, opens
her, merges the suggested Instagram contact with its reasons shown, and undoes the merge."""

from __future__ import annotations

import pytest

from contacts.models import ContactMerge
from inbox.models import Contact, ContactIdentity
from tests.contacts.helpers import writes
from tests.dashboard.test_live_dashboard import log_in

pytestmark = [pytest.mark.live, pytest.mark.browser]


def test_search_merge_and_undo(
    live_server_process, celery_worker_process, chromium, account, instagram, agent
):
    writes(account, "sb-maya", "Where is my parcel?", name="Maya Thompson", username="maya_t")
    writes(instagram, "ig-maya", "Hello?", name="Maya T", username="maya_t")
    writes(account, "sb-rui", "Hi", name="Rui Costa", username="rui")
    maya = ContactIdentity.objects.get(platform_user_id="sb-maya").contact
    other = ContactIdentity.objects.get(platform_user_id="ig-maya").contact
    url = live_server_process.url
    context, page, _alerts = log_in(chromium, url, agent)

    # The top bar's link, then a search typed and sent with Enter.
    page.click("header.topbar nav >> text=Contacts")
    page.wait_for_selector("#contacts")
    page.fill("#contact-search", "thomp")
    page.press("#contact-search", "Enter")
    page.wait_for_url("**/contacts/?q=thomp**")
    rows = page.locator("#contacts tbody tr")
    assert rows.count() == 1 and "Maya Thompson" in rows.inner_text()

    page.click("#contacts >> text=Maya Thompson")
    page.wait_for_selector("#suggestions")
    suggestion = page.locator(f"[data-suggestion='{other.pk}']")
    assert "The same username @maya_t on Sandbox and Instagram" in suggestion.inner_text()
    suggestion.get_by_role("button", name="Merge into this contact").click()

    page.wait_for_selector("#merges")
    assert page.locator("#identities tbody tr").count() == 2
    assert page.locator("#timeline tbody tr").count() == 2
    assert Contact.objects.get(pk=other.pk).merged_into_id == maya.pk
    assert "same username" in page.locator("#merges").inner_text()

    # Undo, by keyboard: focus the button and press Enter.
    page.focus("#merges .undo-merge")
    page.keyboard.press("Enter")
    page.wait_for_selector("#merges >> text=undone")
    assert page.locator("#identities tbody tr").count() == 1
    assert Contact.objects.get(pk=other.pk).merged_into_id is None
    assert ContactMerge.objects.get().undone_at is not None
    context.close()
