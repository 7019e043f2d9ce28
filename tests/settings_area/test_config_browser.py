"""The configuration pages used in Chromium, as a new team lead would on day one: mostly by
keyboard, with the previews and the chatbot's "try it" box answering as they type."""

from __future__ import annotations

import pytest

from chatbot.models import BotSettings, FaqEntry
from inbox.models import Label, SavedReply
from inbox.settings_area.models import AuditLog
from sla.models import BusinessHours, Holiday, SlaPolicy
from surveys.models import SurveySettings
from tests.factories import UserFactory
from tests.settings_area.test_live_admin import login

pytestmark = [pytest.mark.live, pytest.mark.browser]


@pytest.fixture
def manager(team):
    user = UserFactory(username="mina", first_name="Mina", role="manager")
    team.members.add(user)
    return user


def test_a_manager_sets_up_labels_replies_the_bot_and_sla_by_keyboard(
    live_server_process, chromium, manager, account
):
    url = live_server_process.url
    BotSettings.objects.create(account=account, faq_threshold=70)
    page = login(chromium.new_context(), url, manager)
    page.click("text=Settings")
    page.wait_for_selector("#label-form")  # a manager's settings start at the labels

    # Labels: the preview follows the name and colour; Enter adds it.
    page.fill("#id_color", "#dc2626")
    page.focus("#id_name")
    page.keyboard.type("urgent")
    assert page.inner_text("#label-preview") == "urgent"
    colour = page.eval_on_selector("#label-preview", "e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(220, 38, 38)"
    text = "() => getComputedStyle(document.getElementById('label-preview')).color"
    assert page.evaluate(text) == "rgb(255, 255, 255)"
    # A light colour gets black text (readable, WCAG AA), then back to the chosen red.
    page.fill("#id_color", "#fde68a")
    assert page.evaluate(text) == "rgb(0, 0, 0)"
    page.fill("#id_color", "#dc2626")
    page.focus("#id_name")
    page.keyboard.press("Enter")
    page.locator("#labels", has_text="urgent").wait_for()
    assert Label.objects.get(name="urgent").color == "#dc2626"

    # Saved replies: the variables are listed, the preview fills them while typing.
    page.click(".settings-nav >> text=Saved replies")
    assert "{{contact.first_name}}" in page.inner_text("#variables")
    page.fill("#id_shortcut", "hello")
    page.fill("#id_title", "Hello")
    page.focus("#id_text")
    page.keyboard.type("Hi {{contact.first_name}}, {{agent.first_name}} here.")
    page.locator("#reply-preview", has_text="Hi Ana, Sam here.").wait_for()
    page.check("input[name=scope][value=personal]")
    page.click("#reply-form button[type=submit]")
    page.locator("#saved-replies", has_text="/hello").wait_for()
    assert SavedReply.objects.get(shortcut="hello").owner == manager

    # Chatbot: an FAQ entry added by keyboard, then the "try it" box explains the answer.
    page.click(".settings-nav >> text=Chatbot")
    page.focus("#add-faq summary")
    page.keyboard.press("Enter")
    page.fill("#id_faq-question", "Do you ship abroad?")
    page.fill("#id_faq-examples", "international shipping")
    page.fill("#id_faq-answer", "Yes, to 40 countries.")
    page.click("#faq-form button[type=submit]")
    page.locator("#faqs", has_text="Do you ship abroad?").wait_for()
    assert FaqEntry.objects.get().account == account
    page.focus("#try-text")
    page.keyboard.type("do you do international shipping?")
    page.keyboard.press("Enter")
    page.locator("#try-answer", has_text="Yes, to 40 countries.").wait_for()
    why = page.inner_text("#try-why")
    assert "Do you ship abroad?" in why and "similarity" in why
    page.fill("#try-text", "I want to talk to a human")
    page.keyboard.press("Enter")
    page.locator("#try-why", has_text="asks for a person").wait_for()
    page.screenshot(path="test-artifacts/settings-chatbot-try-it.png", full_page=True)

    # SLA: targets in hours and minutes.
    page.click(".settings-nav >> text=SLA policies")
    page.fill("#id_name", "Standard")
    page.fill("#id_order", "10")
    page.fill("#id_first_response_seconds_0", "1")
    page.fill("#id_first_response_seconds_1", "30")
    page.fill("#id_resolution_seconds_0", "8")
    page.focus("#id_resolution_seconds_0")
    page.keyboard.press("Enter")
    page.locator("#policies", has_text="1 h 30 min").wait_for()
    assert SlaPolicy.objects.get().first_response_seconds == 5400
    page.screenshot(path="test-artifacts/settings-sla.png", full_page=True)

    # The admin-only pages are not offered to a manager.
    assert page.locator(".settings-nav >> text=Business hours").count() == 0
    assert AuditLog.objects.filter(actor=manager).count() == 4


def test_an_admin_sets_business_hours_a_holiday_calendar_assignment_and_surveys(
    live_server_process, chromium, admin_user, account, team, agent, teammate
):
    url = live_server_process.url
    page = login(chromium.new_context(), url, admin_user)
    page.goto(f"{url}/settings/business-hours/")
    page.fill("#id_name", "Office")
    page.fill("#id_time_zone", "UTC")
    for day in ("mon", "tue", "wed", "thu", "fri"):
        page.fill(f"#id_day_{day}", "09:00-17:00")
    page.fill("#id_day_sat", "10:00 to 12:00")  # a mistake, named on the page
    page.click("#hours-form button[type=submit]")
    page.locator("#hours-form .error", has_text="not an interval").wait_for()
    page.fill("#id_day_sat", "")
    page.click("#hours-form button[type=submit]")
    page.wait_for_selector("#calendar")
    hours = BusinessHours.objects.get()

    # A partial day (Christmas Eve, morning only) and a closed day, shown in the calendar.
    page.goto(f"{url}/settings/business-hours/{hours.pk}/?month=2026-12")
    page.fill("#id_holiday-date", "2026-12-24")
    page.fill("#id_holiday-name", "Christmas Eve")
    page.fill("#id_holiday-open_from", "09:00")
    page.fill("#id_holiday-open_until", "13:00")
    page.click("#holiday-form button[type=submit]")
    page.wait_for_selector("#holidays [data-holiday='2026-12-24']")
    page.goto(f"{url}/settings/business-hours/{hours.pk}/?month=2026-12")
    cell = page.locator("td[data-date='2026-12-24']")
    assert cell.get_attribute("data-kind") == "partial" and "09:00–13:00" in cell.inner_text()
    assert page.locator("td[data-date='2026-12-26']").get_attribute("data-kind") == "closed"
    page.screenshot(path="test-artifacts/settings-business-hours.png", full_page=True)
    page.focus("a[rel=next]")
    page.keyboard.press("Enter")
    page.locator("#calendar-month", has_text="January 2027").wait_for()
    assert Holiday.objects.get().partial

    # Auto-assignment: the teammate does not take part, the agent has a cap of their own.
    page.goto(f"{url}/settings/assignment/")
    page.click(f"#teams-assignment a >> text={team.name}")
    page.check("#id_auto_assign")
    page.fill("#id_cap", "5")
    page.focus(f"#id_part_{teammate.pk}")
    page.keyboard.press("Space")  # untick
    page.fill(f"#id_cap_{agent.pk}", "2")
    page.click("#assignment-form button[type=submit]")
    page.locator(f"#teams-assignment tr[data-team='{team.pk}']", has_text="bob").wait_for()
    team.refresh_from_db()
    assert team.auto_assign and team.agent_caps == {str(agent.pk): 2}

    # Surveys: the preview follows the question as it is typed.
    page.goto(f"{url}/settings/surveys/{account.pk}/")
    page.check("#id_enabled")
    page.fill("#id_question", "")
    page.focus("#id_question")
    page.keyboard.type("How did we do today?")
    assert page.inner_text("[data-preview=question]") == "How did we do today?"
    page.screenshot(path="test-artifacts/settings-surveys.png", full_page=True)
    page.click("#survey-form button[type=submit]")
    page.locator("#surveys", has_text="How did we do today?").wait_for()
    assert SurveySettings.objects.get(account=account).enabled
