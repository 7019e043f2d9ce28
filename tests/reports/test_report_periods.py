"""The reports page's periods and cards: the default period, hourly series for short periods,
charts with too little data, business-hours figures of a closed period, the headline CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from reports import queries
from sla.models import BusinessHours
from tests.reports.conftest import T0, Script

pytestmark = pytest.mark.django_db

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
NOW = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)  # a Friday
ONE_DAY = "range=custom&from=2026-11-02&to=2026-11-02&tz=UTC"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def two_openings(script, account, agent, teammate, monkeypatch):
    """Monday 2 November: one conversation at 10:00 answered in 10 min, one at 13:00 in 30."""
    script.customer(T0)
    script.agent(T0 + 10 * MIN, agent)
    other = Script(account, monkeypatch, sender="cust-2")
    other.customer(T0 + 3 * HOUR)
    other.agent(T0 + 3 * HOUR + 30 * MIN, teammate)
    return script, other


def test_the_default_period_is_the_last_7_days(manager):
    f = queries.parse_filters({"tz": "UTC"}, manager, now=NOW)
    assert f.preset == "7d"
    assert (f.first_day, f.last_day) == (date(2026, 10, 31), date(2026, 11, 6))


def test_periods_of_up_to_two_days_are_grouped_by_hour(two_openings, manager):
    one_day = queries.parse_filters(
        {"range": "custom", "from": "2026-11-02", "to": "2026-11-02", "tz": "UTC"}, manager
    )
    two_days = queries.parse_filters(
        {"range": "custom", "from": "2026-11-02", "to": "2026-11-03", "tz": "UTC", "group": "day"},
        manager,
    )
    three_days = queries.parse_filters(
        {"range": "custom", "from": "2026-11-02", "to": "2026-11-04", "tz": "UTC"}, manager
    )

    assert (one_day.group_by, two_days.group_by, three_days.group_by) == ("hour", "hour", "day")
    rows = queries.series(one_day)
    assert [row["period"] for row in rows][:2] == ["2026-11-02 00:00", "2026-11-02 01:00"]
    assert len(rows) == 24 and len(queries.series(two_days)) == 48
    by_hour = {row["period"]: row for row in rows}
    assert by_hour["2026-11-02 10:00"]["opened"] == 1
    assert by_hour["2026-11-02 10:00"]["first_response_seconds_p50"] == 600
    assert by_hour["2026-11-02 13:00"]["first_response_seconds_p50"] == 1800
    assert by_hour["2026-11-02 10:00"]["messages_in"] == 1
    assert sum(row["opened"] for row in rows) == 2


def test_hours_are_local_to_the_reports_time_zone(two_openings, manager):
    f = queries.parse_filters(
        {"range": "custom", "from": "2026-11-02", "to": "2026-11-02", "tz": "Asia/Kolkata"},
        manager,
    )
    by_hour = {row["period"]: row for row in queries.series(f)}
    assert by_hour["2026-11-02 15:00"]["opened"] == 1  # 10:00 UTC is 15:30 in India


def test_group_by_hour_is_refused_for_a_longer_period(manager):
    with pytest.raises(queries.BadFilter, match="group by hour"):
        queries.parse_filters({"range": "7d", "group": "hour"}, manager, now=NOW)


def test_a_chart_with_too_little_data_says_so(two_openings, manager):
    client = client_for(manager)
    # By day, one day is one point: by hour, the two openings are two points.
    week = client.get(
        "/reports/?range=custom&from=2026-11-02&to=2026-11-04&tz=UTC"
    ).content.decode()
    day = client.get(f"/reports/?{ONE_DAY}").content.decode()

    assert 'id="chart-response-empty"' in week and 'id="chart-response"' not in week
    assert "Too little data to draw response times" in week
    assert 'id="chart-response"' in day and 'id="chart-response-empty"' not in day


def test_drawable_needs_two_periods_with_figures():
    rows = [{"opened": 0}, {"opened": 3}, {"opened": None}]
    assert not queries.drawable(rows, ["opened"])
    assert queries.drawable([*rows, {"opened": 1}], ["opened"])


def test_business_hours_figures_of_a_closed_period_say_so(script, agent, manager):
    BusinessHours.objects.create(
        name="Office",
        time_zone="UTC",
        weekly={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        is_default=True,
    )
    saturday = T0 - timedelta(days=2)  # Saturday 31 October, closed all day
    script.customer(saturday)
    script.agent(saturday + 20 * MIN, agent)
    client = client_for(manager)
    params = "range=custom&from=2026-10-31&to=2026-10-31&tz=UTC"

    html = client.get(f"/reports/?{params}").content.decode()
    card = html.split('data-key="first_response_business_seconds_p50"')[1].split("</div>\n")[1]
    rows = {r["figure"]: r for r in csv_rows(client.get(f"/reports/export/headline.csv?{params}"))}

    assert "outside business hours" in card and "0 s" not in card
    assert "20.0 min" in html  # the wall-clock figure stays
    assert rows["first_response_business_seconds_p50"]["note"] == "outside business hours"
    assert rows["first_response_seconds_p50"]["note"] == ""


def test_headline_cards_download_as_csv(two_openings, manager):
    client = client_for(manager)
    page = client.get(f"/reports/?{ONE_DAY}").content.decode()
    assert 'href="/reports/export/headline.csv?' in page

    response = client.get(f"/reports/export/headline.csv?{ONE_DAY}")

    assert response.status_code == 200
    assert "parley-headline-2026-11-02-2026-11-02.csv" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [r["figure"] for r in rows] == [key for key, _, _ in queries.HEADLINES]
    by_figure = {r["figure"]: r for r in rows}
    assert by_figure["opened"]["value"] == "2"
    assert by_figure["opened"]["label"] == "Conversations opened"
    assert by_figure["first_response_seconds_p50"]["value"] == "1200.0"


@pytest.mark.parametrize(
    "query, field",
    [("range=forever", "range"), ("group=fortnight", "group"), ("platform=myspace", "platform")],
)
def test_a_filter_value_that_is_not_a_choice_is_a_400_naming_the_field(manager, query, field):
    page = client_for(manager).get(f"/reports/?{query}")
    export = client_for(manager).get(f"/reports/export/agents.csv?{query}")

    assert page.status_code == 400 and f"{field} must be one of" in page.content.decode()
    assert export.status_code == 400 and f"{field} must be one of" in export.content.decode()
