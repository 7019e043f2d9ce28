"""The reports page's CSAT section in a real browser: a manager picks a period, sees the score,
the charts drawn by the vendored Chart.js, the agents and the comments, and downloads a CSV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from surveys.models import Survey
from tests.factories import PASSWORD, ConversationFactory

pytestmark = [pytest.mark.live, pytest.mark.browser]

PAINTED = """(id) => {
  const canvas = document.getElementById(id);
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return painted;
}"""


@pytest.fixture
def manager(team):
    from tests.factories import UserFactory

    user = UserFactory(username="maria", first_name="Maria", role="manager")
    team.members.add(user)
    return user


def test_manager_reads_the_csat_section(live_server_process, chromium, account, agent, manager):
    start = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    # Ten days; each day two surveys sent, one rated (alternately 5 and 2), one commented.
    for day in range(10):
        for n in range(2):
            rated = n == 0
            Survey.objects.create(
                conversation=ConversationFactory(account=account),
                account=account,
                platform="sandbox",
                agent=agent,
                status="done" if rated else "asked",
                asked_at=start + timedelta(days=day, hours=n),
                rating=(5 if day % 2 else 2) if rated else None,
                comment=f"Comment of day {day}" if rated and day == 3 else "",
            )
    url = live_server_process.url
    context = chromium.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")

    page.click("nav >> text=Reports")
    page.wait_for_url(f"{url}/reports/")
    page.fill("#tz", "UTC")
    page.fill("#from", "2026-11-02")
    page.fill("#to", "2026-11-11")
    page.locator("#to").press("Enter")
    page.wait_for_url("**/reports/?*")
    page.wait_for_function("() => window.parleyCsatCharts && window.parleyCsatCharts.length === 2")

    assert page.inner_text("#csat-score") == "50.0 %"
    assert page.inner_text("#csat-rate") == "50.0 %"
    assert page.inner_text("#csat-sent") == "20"
    assert page.evaluate(PAINTED, "chart-csat") > 2000
    assert page.evaluate(PAINTED, "chart-csat-ratings") > 500
    assert page.evaluate("() => window.parleyCsatCharts[1].data.datasets[0].data") == [
        0,
        5,
        0,
        0,
        5,
    ]
    assert len(page.evaluate("() => window.parleyCsatCharts[0].data.labels")) == 10
    assert "Alice" in page.inner_text("#csat-agents")
    assert "Comment of day 3" in page.inner_text("#csat-comments")

    with page.expect_download() as download:
        page.click("#csat-agents-csv")
    content = Path(download.value.path()).read_text(encoding="utf-8")
    assert content.splitlines()[0].startswith("agent_id,agent,sent,responses")
    assert ",Alice,20,10,50.0,5,50.0" in content
    context.close()
