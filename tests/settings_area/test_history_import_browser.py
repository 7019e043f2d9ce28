"""The history import's progress bar in Chromium, on the real stack (uvicorn, a Celery worker),
against a fake Graph API that pages slowly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import HistoryImport, Message
from tests.factories import AccountFactory
from tests.fakes import meta as fake_meta
from tests.helpers import wait_for
from tests.inbox.test_history_import import from_customer
from tests.settings_area.test_live_admin import login

pytestmark = [pytest.mark.live, pytest.mark.browser]


def test_the_progress_bar_follows_a_slow_import_across_a_reload(
    live_server_process, celery_worker_process, chromium, fake_platforms, admin_user, team
):
    account = AccountFactory(
        platform="messenger",
        external_id=fake_meta.PAGE_ID,
        name=fake_meta.PAGE_NAME,
        credentials={"page_access_token": "EAAG-page-token"},
    )
    now = timezone.now()
    fake_meta.HISTORY.reset()
    for n in range(8):
        customer = {"id": f"2401234567890{n:04d}", "name": f"Customer {n}"}
        fake_meta.HISTORY.add(
            f"t_{n}",
            [from_customer(f"m_{n}", f"Question {n}", now - timedelta(days=3 * n + 1), customer)],
        )
    fake_meta.HISTORY.page_size = 1
    fake_meta.HISTORY.delay = 0.6
    try:
        page = login(chromium.new_context(), live_server_process.url, admin_user)
        page.goto(f"{live_server_process.url}/settings/accounts/{account.pk}/")
        page.click("#history-start")
        page.wait_for_selector("#history-progress")
        # The bar moves while the worker reads the pages.
        page.wait_for_function(
            "() => { const bar = document.getElementById('history-progress');"
            " return bar && bar.value > 0 && bar.value < 100; }",
            timeout=20_000,
        )
        assert " read on " in page.inner_text("#history-status")
        assert page.get_attribute("#history-status", "aria-live") == "polite"
        # A reload shows the same import, still running, from the database.
        page.reload()
        assert page.locator("#history-import[data-active]").count() == 1
        assert page.locator("#history-cancel").is_visible()
        # At the end the page offers the import again and says it is done.
        page.wait_for_selector("#history-start", timeout=30_000)
        assert "Done" in page.inner_text("#history-status")
        assert "8 items read" in page.inner_text("#history-status")
    finally:
        fake_meta.HISTORY.reset()
    job = wait_for(
        lambda: HistoryImport.objects.filter(account=account, status="done").first(), timeout=5
    )
    assert job.stored == 8
    assert Message.objects.filter(account=account, imported=True).count() == 8
