"""Availability end to end in headless Chromium (uvicorn + PostgreSQL + Redis + a Celery
worker): an agent says they are busy from the top bar with the keyboard, a teammate sees it at
once, auto-assignment passes the busy agent over, and the profile page brings them back."""

from __future__ import annotations

import pytest
import requests

from inbox.models import Conversation
from inbox.settings_area.models import AuditLog
from tests.dashboard.test_live_dashboard import log_in
from tests.factories import ConversationFactory
from tests.helpers import sandbox_body, sandbox_headers, wait_for
from tests.live import ARTIFACTS

pytestmark = [pytest.mark.live, pytest.mark.browser]


def customer_writes(url: str, account, sender: str) -> Conversation:
    body = sandbox_body(sender_id=sender, name=sender.title(), text="Hello?")
    response = requests.post(
        f"{url}/webhooks/sandbox/{account.pk}/",
        data=body,
        headers=sandbox_headers(account.credentials["secret"], body),
        timeout=10,
    )
    assert response.status_code == 200
    return wait_for(
        lambda: (
            Conversation.objects.filter(contact__name=sender.title())
            .exclude(assignee=None)
            .select_related("assignee")
            .first()
        ),
        timeout=15,
    )


def test_busy_agent_is_shown_to_the_team_live_and_skipped_by_auto_assignment(
    live_server_process, celery_worker_process, chromium, account, team, agent, teammate
):
    team.auto_assign = True
    team.max_open_per_agent = 10
    team.save()
    url = live_server_process.url
    conversation = ConversationFactory(account=account)
    alice_ctx, alice, _ = log_in(chromium, url, agent)
    bob_ctx, bob, _ = log_in(chromium, url, teammate)
    bob_thread = bob_ctx.new_page()
    bob_thread.goto(f"{url}/conversations/{conversation.pk}/")
    bob_thread.wait_for_selector("#live-status[data-state=live]")
    alice_in_team_list = bob.locator(f"#teammates li[data-availability-user='{agent.pk}']")
    alice_in_assignee_select = bob_thread.locator(
        f"#assign-select option[data-availability-user='{agent.pk}']"
    )
    assert alice_in_team_list.get_attribute("data-status") == "online"
    bob_in_team_list = bob.locator(f"#teammates li[data-availability-user='{teammate.pk}']")
    assert bob_in_team_list.get_attribute("data-status") == "online"  # he is here
    assert alice_in_assignee_select.text_content() == "Alice · online"

    # Alice says she is busy, from the top bar, with the keyboard only.
    alice.focus("#availability-select")
    alice.keyboard.press("ArrowDown")  # Online → Busy
    alice.wait_for_selector("#availability-form[data-status=busy]")
    assert alice.input_value("#availability-select") == "busy"

    # Bob sees it without reloading: in the team list and in the assignee select.
    alice_in_team_list.locator("text=busy").wait_for(timeout=10_000)
    assert alice_in_team_list.get_attribute("data-status") == "busy"
    wait_for(lambda: alice_in_assignee_select.text_content() == "Alice · busy")
    bob.screenshot(path=str(ARTIFACTS / "availability-teammate.png"))

    # New customers go to Bob only while Alice is busy.
    assert customer_writes(url, account, "first").assignee == teammate
    assert customer_writes(url, account, "second").assignee == teammate

    # Back online from the profile page (reached from the nav): the next one is hers.
    alice.click("a[href='/profile/']")
    alice.check("#profile-form input[name=availability][value=online]")
    alice.press("#profile-form input[name=availability][value=online]", "Enter")
    alice.wait_for_selector("#availability-form[data-status=online]")
    alice_in_team_list.locator("text=online").wait_for(timeout=10_000)
    assert customer_writes(url, account, "third").assignee == agent

    assert list(
        AuditLog.objects.filter(action="user.availability_changed", actor=agent)
        .order_by("id")
        .values_list("changes", flat=True)
    ) == [{"availability": ["online", "busy"]}, {"availability": ["busy", "online"]}]
    alice_ctx.close()
    bob_ctx.close()
