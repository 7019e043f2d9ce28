"""In Chromium: an agent runs a macro from the composer's `/` picker with the keyboard alone;
a macro that cannot run here says why and changes nothing; a manager writes a time rule in the
settings form."""

from __future__ import annotations

import pytest

from automation import services
from inbox.models import Conversation, SavedReply
from tests.dashboard.test_live_dashboard import log_in
from tests.factories import ConversationFactory, MessageFactory
from tests.helpers import wait_for

pytestmark = [pytest.mark.live, pytest.mark.browser]


def test_a_macro_runs_from_the_slash_picker_by_keyboard(
    live_server_process, chromium, account, agent, outsider, labels
):
    url = live_server_process.url
    SavedReply.objects.create(shortcut="mvp", title="MVP reply", text="Hello!")
    services.save_macro(
        actor=agent,
        name="Make VIP",
        actions_raw=[
            {"type": "add_label", "value": "vip"},
            {"type": "set_priority", "value": "urgent"},
        ],
        shared=False,
    )
    services.save_macro(
        actor=agent,
        name="Make it Charlie's",
        actions_raw=[
            {"type": "add_label", "value": "billing"},
            {"type": "assign", "value": outsider.pk},
        ],
        shared=False,
    )
    conversation = ConversationFactory(account=account)
    MessageFactory(conversation=conversation, text="Where is my order?")
    context, alice, alerts = log_in(chromium, url, agent)
    alice.goto(f"{url}/conversations/{conversation.pk}/")
    alice.wait_for_selector("#live-status[data-state=live]")

    # A macro that cannot run: chosen by keyboard, it says why, and nothing half-runs.
    alice.focus("#composer-text")
    alice.keyboard.type("/charlie")
    alice.locator("#saved-picker [data-macro]", has_text="Make it Charlie's").wait_for()
    alice.keyboard.press("Enter")
    alice.locator("#flash .flash-error", has_text="cannot see this conversation").wait_for()
    assert not conversation.labels.exists()

    # Saved replies and macros share the picker; arrows move to the macro, Enter runs it.
    alice.focus("#composer-text")
    alice.keyboard.type("/m")
    picker = alice.locator("#saved-picker")
    picker.locator("[data-macro]", has_text="Make VIP").wait_for()
    options = picker.locator(".saved")
    names = [options.nth(i).inner_text() for i in range(options.count())]
    steps = next(i for i, n in enumerate(names) if "Make VIP" in n)
    for _ in range(steps):
        alice.keyboard.press("ArrowDown")
    assert "Make VIP" in picker.locator(".saved.active").inner_text()
    alice.keyboard.press("Enter")
    alice.locator("#flash .flash-success", has_text="Macro “Make VIP” ran.").wait_for()
    wait_for(lambda: conversation.labels.filter(name="vip").exists())
    assert Conversation.objects.get(pk=conversation.pk).priority == Conversation.Priority.URGENT
    # The header shows the change (the live push, or the refresh after the run).
    alice.locator("#conversation-state .label", has_text="vip").wait_for()
    assert alice.input_value("#composer-text") == ""
    assert alerts == []
    context.close()


def test_a_manager_writes_a_time_rule_in_the_settings_form(
    live_server_process, chromium, manager, labels
):
    from automation.models import Rule

    url = live_server_process.url
    context, page, alerts = log_in(chromium, url, manager)
    page.goto(f"{url}/settings/automation/")
    page.click("#new-rule")
    page.wait_for_load_state()  # a new page: its fields exist before its script sorts them
    assert page.locator("#id_minutes").is_hidden()  # only the chosen trigger's fields
    page.fill("#id_name", "Nudge slow replies")
    page.select_option("#id_trigger", "no_reply")
    assert page.locator("#id_minutes").is_visible() and page.locator("#id_days").is_hidden()
    page.fill("#id_minutes", "45")
    page.check("#id_business_hours")
    page.fill("#id_actions", '[{"type": "set_priority", "value": "hgih"}]')
    page.click("#save-rule")
    page.locator("#error-actions", has_text="Priority is one of").wait_for()
    page.fill("#id_actions", '[{"type": "set_priority", "value": "high"}]')
    page.click("#save-rule")
    page.locator("#rules", has_text="Nudge slow replies").wait_for()
    assert Rule.objects.get().trigger == {"no_reply_minutes": 45, "business_hours": True}
    assert alerts == []
    context.close()
