"""The reports page in a real browser: the charts are drawn by the vendored Chart.js."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.factories import PASSWORD
from tests.reports.conftest import T0, Script

pytestmark = [pytest.mark.live, pytest.mark.browser]

ARTIFACTS = Path("test-artifacts")

# Non-blank pixels of a canvas: proof that something was drawn on it.
PAINTED = """(id) => {
  const canvas = document.getElementById(id);
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return painted;
}"""


def play_a_fortnight(account, monkeypatch, agent, teammate) -> None:
    for day in range(12):
        start = T0 - timedelta(days=5) + timedelta(days=day, hours=day % 5)
        for n in range(1 + day % 3):
            script = Script(account, monkeypatch, sender=f"cust-{day}-{n}")
            script.customer(start + timedelta(minutes=7 * n))
            script.bot(start + timedelta(minutes=7 * n, seconds=4))
            who = agent if (day + n) % 2 else teammate
            script.agent(start + timedelta(minutes=7 * n + 5 + 6 * day), who)
            if n != 1:
                script.resolve(start + timedelta(hours=2 + day), who)


def test_manager_sees_the_charts_drawn(
    live_server_process, chromium, account, agent, teammate, manager, monkeypatch
):
    play_a_fortnight(account, monkeypatch, agent, teammate)
    monkeypatch.undo()
    url = live_server_process.url
    context = chromium.new_context(viewport={"width": 1280, "height": 1500})
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")

    page.click("nav >> text=Reports")
    page.goto(f"{url}/reports/?range=custom&from=2026-10-28&to=2026-11-08&tz=UTC")
    page.wait_for_function("() => window.parleyCharts && window.parleyCharts.length === 2")

    assert page.evaluate(PAINTED, "chart-response") > 2000
    assert page.evaluate(PAINTED, "chart-volume") > 2000
    labels = page.evaluate("() => window.parleyCharts[1].data.labels")
    assert labels[0] == "2026-10-28" and len(labels) == 12
    assert "Alice" in page.inner_text("#agents-table")
    assert "Sandbox" in page.inner_text("#platforms-table")
    assert page.locator("#heatmap td[title*='in']").count() == 7 * 24
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reports.png"), full_page=True)
    context.close()


def test_the_period_fills_from_and_to_at_once_and_thin_charts_say_so(
    live_server_process, chromium, account, agent, manager, monkeypatch
):
    # Two conversations of one day, three hours apart: by day, one point per chart.
    for n, start in enumerate((T0, T0 + timedelta(hours=3))):
        script = Script(account, monkeypatch, sender=f"cust-{n}")
        script.customer(start)
        script.agent(start + timedelta(minutes=10), agent)
    monkeypatch.undo()
    url = live_server_process.url
    context = chromium.new_context(viewport={"width": 1280, "height": 1200})
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/reports/?range=custom&from=2026-11-01&to=2026-11-03&tz=UTC")

    assert "Too little data to draw response times" in page.inner_text("#chart-response-empty")
    assert "Too little data to draw the volume" in page.inner_text("#chart-volume-empty")
    assert page.locator("canvas").count() == 0

    today = datetime.now(UTC).date()
    page.select_option("#range", "7d")
    assert page.input_value("#from") == (today - timedelta(days=6)).isoformat()
    assert page.input_value("#to") == today.isoformat()
    # From the keyboard: the option above "Last 7 days" is "Today".
    page.focus("#range")
    page.keyboard.press("ArrowUp")
    assert page.input_value("#range") == "today"
    assert page.input_value("#from") == today.isoformat() == page.input_value("#to")
    # A date of one's own makes the period custom; showing it keeps both dates.
    page.fill("#from", "2026-11-02")
    assert page.input_value("#range") == "custom"
    page.fill("#to", "2026-11-02")
    page.click(".reports .filters button[type=submit]")
    page.wait_for_function("() => window.parleyCharts && window.parleyCharts.length === 2")
    labels = page.evaluate("() => window.parleyCharts[1].data.labels")
    assert labels[0] == "2026-11-02 00:00" and len(labels) == 24  # one day, by hour
    context.close()


def test_manager_filters_by_a_contact_attribute(
    live_server_process, chromium, account, agent, teammate, manager, monkeypatch
):
    from contacts.models import AttributeDefinition

    AttributeDefinition.objects.create(
        key="plan", label="Plan", type="choice", choices=["free", "pro"]
    )
    AttributeDefinition.objects.create(key="company", label="Company", type="text")
    pro = Script(account, monkeypatch, sender="cust-pro")
    pro.customer(T0)
    pro.agent(T0 + timedelta(minutes=10), agent)
    pro.conversation.contact.attributes = {"plan": "pro", "company": "Acme Ltd"}
    pro.conversation.contact.save(update_fields=["attributes"])
    other = Script(account, monkeypatch, sender="cust-other")
    other.customer(T0 + timedelta(hours=1))
    other.agent(T0 + timedelta(hours=1, minutes=30), teammate)
    monkeypatch.undo()
    url = live_server_process.url
    page = chromium.new_context(viewport={"width": 1280, "height": 1200}).new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/reports/?range=custom&from=2026-11-02&to=2026-11-02&tz=UTC")
    assert "20.0 min" in page.inner_text(".headline")

    # A choice attribute: its values come as a menu.
    assert page.is_hidden("#report-attribute-options")
    page.select_option("#report-attribute", "plan")
    assert page.is_visible("#report-attribute-options") and page.is_hidden("#report-attribute-text")
    page.select_option("#report-attribute-options", "pro")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**attribute_value=pro**")
    assert "10.0 min" in page.inner_text(".headline")
    assert "attribute=plan" in page.get_attribute("#headline-csv", "href")

    # A text attribute: typed, in any case.
    page.select_option("#report-attribute", "company")
    assert page.is_hidden("#report-attribute-options")
    page.fill("#report-attribute-text", "acme ltd")
    page.press("#report-attribute-text", "Enter")
    page.wait_for_url("**attribute=company**")
    assert "10.0 min" in page.inner_text(".headline")
    assert page.input_value("#report-attribute-text") == "acme ltd"
