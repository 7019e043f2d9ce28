"""Search across statuses and the relative times, as an agent sees them in Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Conversation
from tests.dashboard.test_live_dashboard import log_in
from tests.factories import ContactFactory, ConversationFactory

pytestmark = [pytest.mark.live, pytest.mark.browser]


def test_typing_a_search_finds_resolved_conversations_and_says_where_it_looked(
    live_server_process, chromium, account, agent
):
    now = timezone.now()
    ConversationFactory(
        account=account, contact=ContactFactory(name="Kenji Open"), last_activity_at=now
    )
    ConversationFactory(
        account=account,
        status=Conversation.Status.RESOLVED,
        contact=ContactFactory(name="Kenji Watanabe"),
        last_activity_at=now - timedelta(hours=1),
    )
    context, page, _ = log_in(chromium, live_server_process.url, agent)
    rows = page.locator("#conversation-rows")
    assert "Kenji Watanabe" not in rows.inner_text()  # browsing shows the open ones

    page.click("#search")
    page.keyboard.type("kenji wat")
    page.locator("#search-scope", has_text="Searched every status").wait_for()

    assert "Kenji Watanabe" in rows.inner_text()
    assert page.locator("#search-scope").inner_text() == (
        "Searched every status: open, pending, snoozed, resolved."
    )

    # Narrowing to one status says so, with a way back to every status.
    page.select_option("select[name=status]", "open")
    page.locator("#search-scope", has_text="Searched open conversations only").wait_for()
    assert "Kenji Watanabe" not in rows.inner_text()
    page.click("#search-scope >> text=Search every status")
    page.locator("#conversation-rows li.row", has_text="Kenji Watanabe").wait_for()
    context.close()


def test_relative_times_read_just_now_and_stay_current(
    live_server_process, chromium, account, agent
):
    now = timezone.now()
    ConversationFactory(
        account=account,
        status=Conversation.Status.RESOLVED,
        contact=ContactFactory(name="Done Deal"),
        waiting_since=now,  # the customer wrote last; resolved anyway
        last_activity_at=now,
    )
    context, page, _ = log_in(chromium, live_server_process.url, agent)
    page.clock.install(time=now.timestamp())
    page.goto(f"{live_server_process.url}/?status=resolved")
    row = page.locator("#conversation-rows li.row", has_text="Done Deal")
    stamp = row.locator("time[data-ago]")

    assert stamp.inner_text() == "just now"
    assert "waiting" not in row.inner_text()
    # The browser writes a date exactly as the server does.
    assert stamp.evaluate("(t) => window.parleyTimes.when(new Date(t.dateTime))") == (
        stamp.get_attribute("title")
    )

    page.clock.fast_forward("02:05")
    page.wait_for_function(
        "() => document.querySelector('#conversation-rows time[data-ago]').textContent"
        " === '2 min ago'"
    )
    context.close()
