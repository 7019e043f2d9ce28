"""Aggregation, percentiles, time zones, access and CSV of the reports (page, export, API)."""

from __future__ import annotations

import csv
import io
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from inbox.models import Label
from reports import queries
from reports.models import ConversationMetric
from tests.factories import AccountFactory, ConversationFactory, UserFactory
from tests.reports.conftest import T0, Script

pytestmark = pytest.mark.django_db

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# "Now" for the reports: Friday 6 November 2026, so "last 7 days" covers Sat 31 Oct – Fri 6 Nov.
NOW = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)


def filters_for(user, **params) -> queries.ReportFilters:
    return queries.parse_filters({"tz": "UTC", **params}, user, now=NOW)


@pytest.fixture
def played(script, agent, teammate, account, monkeypatch):
    """Two conversations: first responses of 10 and 30 minutes, one resolved after 2 h."""
    script.customer(T0)
    script.agent(T0 + 10 * MIN, agent)
    script.resolve(T0 + 2 * HOUR, agent)
    other = Script(account, monkeypatch, sender="cust-2")
    other.customer(T0 + HOUR)
    other.bot(T0 + HOUR + MIN)
    other.agent(T0 + HOUR + 30 * MIN, teammate)
    return script, other


# --- Percentiles ----------------------------------------------------------------------------


def test_python_percentile_interpolates_like_percentile_cont():
    assert queries.percentile([], 0.5) is None
    assert queries.percentile([7], 0.9) == 7
    assert queries.percentile([1, 2, 3, 4], 0.5) == 2.5
    # p90 of 1..10: position 8.1 → 9 + 0.1 × (10 − 9)
    assert queries.percentile(list(range(1, 11)), 0.9) == pytest.approx(9.1)


def test_postgres_percentiles_match_the_python_definition(account, monkeypatch):
    rng = random.Random(7)
    values = [rng.expovariate(1 / 600) for _ in range(101)]
    conversation = ConversationFactory(account=account)
    ConversationMetric.objects.bulk_create(
        ConversationMetric(
            conversation=conversation,
            sequence=i + 1,
            account=account,
            platform=account.platform,
            opened_at=T0 + i * MIN,
            first_response_seconds=value,
        )
        for i, value in enumerate(values)
    )
    qs = ConversationMetric.objects.all()

    database = queries.stats(qs, durations=["first_response_seconds"])[()]
    monkeypatch.setattr(queries, "_use_postgres", lambda: False)
    python = queries.stats(qs, durations=["first_response_seconds"])[()]

    assert database["first_response_seconds_p50"] == pytest.approx(sorted(values)[50])
    assert database["first_response_seconds_p50"] == pytest.approx(
        python["first_response_seconds_p50"]
    )
    assert database["first_response_seconds_p90"] == pytest.approx(
        python["first_response_seconds_p90"]
    )
    assert python["first_response_seconds_p90"] == pytest.approx(queries.percentile(values, 0.9))


# --- Aggregation ----------------------------------------------------------------------------


def test_summary_of_hand_computed_conversations(played, admin_user):
    summary = queries.summary(filters_for(admin_user, range="7d"))

    assert summary["opened"] == 2
    assert summary["answered"] == 2
    assert summary["first_response_seconds_p50"] == pytest.approx(1200)  # of 600 and 1800
    assert summary["first_response_seconds_p90"] == pytest.approx(600 + 0.9 * 1200)
    assert summary["bot_first_response_seconds_p50"] == 60
    assert summary["resolved"] == 1
    assert summary["resolution_seconds_p50"] == 7200
    assert summary["bot_deflection_rate"] == 0.0
    assert summary["replies"] == 2
    assert (summary["messages_in"], summary["messages_out"]) == (2, 3)


def test_headline_compares_with_the_previous_period(played, admin_user, script, agent):
    # One conversation a week earlier, answered in 5 minutes.
    earlier = T0 - timedelta(days=7)
    previous = Script(script.account, script.monkeypatch, sender="cust-0")
    previous.customer(earlier)
    previous.agent(earlier + 5 * MIN, agent)

    headline = queries.headline(filters_for(admin_user, range="7d"))
    figures = {f["key"]: f for f in headline["figures"]}

    assert figures["opened"]["value"] == 2
    assert figures["opened"]["previous"] == 1
    assert figures["opened"]["change_percent"] == 100.0
    assert figures["first_response_seconds_p50"]["previous"] == 300


def test_filters_by_agent_label_and_platform(played, admin_user, agent, teammate):
    first, other = played
    label = Label.objects.create(name="refund")
    first.conversation.labels.add(label)

    by_agent = queries.summary(filters_for(admin_user, range="7d", agent=str(teammate.pk)))
    by_label = queries.summary(filters_for(admin_user, range="7d", label=str(label.pk)))
    elsewhere = queries.summary(filters_for(admin_user, range="7d", platform="messenger"))

    assert by_agent["opened"] == 1 and by_agent["first_response_seconds_p50"] == 1800
    assert by_label["opened"] == 1 and by_label["first_response_seconds_p50"] == 600
    assert elsewhere["opened"] == 0 and elsewhere["first_response_seconds_p50"] is None


def test_series_fills_every_day_and_groups_by_week(played, admin_user):
    days = queries.series(filters_for(admin_user, range="7d"))
    assert [row["period"] for row in days][0] == "2026-10-31"
    assert len(days) == 7
    monday = next(row for row in days if row["period"] == "2026-11-02")
    assert monday["opened"] == 2 and monday["messages_in"] == 2
    assert sum(row["opened"] for row in days) == 2

    weeks = queries.series(filters_for(admin_user, range="7d", group="week"))
    assert [row["period"] for row in weeks] == ["2026-10-26", "2026-11-02"]
    assert weeks[1]["first_response_seconds_p50"] == pytest.approx(1200)


def test_days_and_heat_map_follow_the_time_zone(script, agent, admin_user):
    # 23:30 UTC on Monday is 08:30 on Tuesday in Tokyo (UTC+9).
    late = T0.replace(hour=23, minute=30)
    script.customer(late)

    utc = queries.series(filters_for(admin_user, range="7d"))
    tokyo = queries.series(filters_for(admin_user, range="7d", tz="Asia/Tokyo"))
    assert next(r for r in utc if r["opened"])["period"] == "2026-11-02"
    assert next(r for r in tokyo if r["opened"])["period"] == "2026-11-03"

    grid = queries.heatmap(filters_for(admin_user, range="7d", tz="Asia/Tokyo"))["grid"]
    assert grid[1][8]["in"] == 1  # Tuesday, 08:00 hour
    utc_grid = queries.heatmap(filters_for(admin_user, range="7d"))["grid"]
    assert utc_grid[0][23]["in"] == 1  # Monday, 23:00 hour


def test_agent_and_platform_tables(played, admin_user, agent, teammate):
    f = filters_for(admin_user, range="7d")
    rows = {row["agent"]: row for row in queries.agents(f)}
    assert rows["Alice"]["handled"] == 1
    assert rows["Alice"]["first_response_seconds_p50"] == 600
    assert rows["Alice"]["resolution_seconds_p50"] == 7200
    assert rows["Bob"]["first_response_seconds_p50"] == 1800
    assert rows["Bob"]["resolved"] == 0

    [sandbox] = queries.platforms(f)
    assert sandbox["platform"] == "Sandbox"
    assert sandbox["opened"] == 2
    assert sandbox["reply_seconds_p50"] == pytest.approx(1200)


def test_a_manager_sees_only_the_accounts_of_their_teams(played, manager, admin_user):
    hidden = AccountFactory(platform="sandbox", external_id="hidden")
    Script(hidden, played[0].monkeypatch, sender="x").customer(T0)

    assert queries.summary(filters_for(admin_user, range="7d"))["opened"] == 3
    assert queries.summary(filters_for(manager, range="7d"))["opened"] == 2


def test_bad_filters_are_refused_with_a_reason(admin_user):
    for params, fragment in [
        ({"range": "forever"}, "range must be"),
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
        ({"range": "custom", "from": "2026-02-01"}, "needs from and to"),
        ({"range": "custom", "from": "2026-02-01", "to": "2026-01-01"}, "ends before"),
        ({"agent": "bob"}, "agent must be a number"),
        ({"platform": "myspace"}, "platform must be one of"),
    ]:
        with pytest.raises(queries.BadFilter, match=fragment):
            queries.parse_filters(params, admin_user, now=NOW)


# --- Access, page, CSV, API -----------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_agents_get_403_on_the_page_the_exports_and_the_api(agent):
    client = client_for(agent)
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/export/agents.csv").status_code == 403
    token = Token.objects.create(user=agent)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/reports/summary/").status_code == 403
    assert api.get("/api/v1/reports/agents/").status_code == 403


def test_anonymous_visitors_are_sent_to_login_and_refused_by_the_api(db):
    response = Client().get("/reports/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert Client().get("/api/v1/reports/summary/").status_code in (401, 403)


def test_manager_sees_the_page_with_figures_and_tables(played, manager):
    response = client_for(manager).get(
        "/reports/?range=custom&from=2026-11-02&to=2026-11-02&tz=UTC"
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="chart-response"' in html and 'id="chart-volume"' in html
    assert "vendor/chart-4.6.1.umd.min.js" in html
    assert "20.0 min" in html  # median first response of 10 and 30 minutes
    assert "Alice" in html and "Bob" in html
    assert 'href="/reports/"' in html  # the nav link


def test_the_page_explains_a_bad_filter(manager):
    response = client_for(manager).get("/reports/?tz=Nowhere/Land")
    assert response.status_code == 400
    assert "unknown time zone" in response.content.decode()


def test_agent_csv_is_streamed_with_the_tables_figures(played, manager):
    response = client_for(manager).get(
        "/reports/export/agents.csv?range=custom&from=2026-11-02&to=2026-11-02&tz=UTC"
    )

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv"
    assert "parley-agents-2026-11-02-2026-11-02.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_agent = {row["agent"]: row for row in rows}
    assert list(rows[0]) == list(queries.AGENT_COLUMNS)
    assert by_agent["Alice"]["first_response_seconds_p50"] == "600.0"
    assert by_agent["Alice"]["resolved"] == "1"
    assert by_agent["Bob"]["resolution_seconds_p50"] == ""


def test_every_table_exports_as_csv(played, manager):
    client = client_for(manager)
    for table, columns in [
        ("platforms", queries.PLATFORM_COLUMNS),
        ("series", queries.SERIES_COLUMNS),
        ("heatmap", ("weekday", "hour", "messages_in", "messages_out")),
    ]:
        response = client.get(f"/reports/export/{table}.csv?range=7d")
        assert response.status_code == 200
        body = b"".join(response.streaming_content).decode()
        assert body.splitlines()[0] == ",".join(columns)
    assert client.get("/reports/export/secrets.csv").status_code == 404


# (A display name is stripped, so tab and CR never lead one: inbox.csv_export covers them.)
HOSTILE_NAMES = ['=HYPERLINK("http://x")', "+1+cmd", "-2+3", "@SUM(A1)"]


@pytest.mark.parametrize("hostile", HOSTILE_NAMES)
def test_agent_csv_shows_a_formula_looking_name_as_text(played, manager, agent, hostile):
    agent.first_name, agent.last_name = hostile, ""
    agent.save()
    response = client_for(manager).get(
        "/reports/export/agents.csv?range=custom&from=2026-11-02&to=2026-11-02&tz=UTC"
    )

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    names = {row["agent"] for row in rows}
    assert "'" + hostile in names and hostile not in names


def test_api_serves_the_same_figures_with_a_token(played, manager):
    token = Token.objects.create(user=manager)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    params = "range=custom&from=2026-11-02&to=2026-11-02&tz=UTC"

    summary = api.get(f"/api/v1/reports/summary/?{params}").json()
    agents = api.get(f"/api/v1/reports/agents/?{params}").json()
    heatmap = api.get(f"/api/v1/reports/heatmap/?{params}").json()

    assert summary["period"] == {
        "from": "2026-11-02",
        "to": "2026-11-02",
        "time_zone": "UTC",
        "group": "hour",  # a period of one day is shown by hour
    }
    assert summary["current"]["first_response_seconds_p50"] == pytest.approx(1200)
    assert {row["agent"] for row in agents["results"]} == {"Alice", "Bob"}
    assert len(heatmap["results"]) == 7 * 24
    assert api.get("/api/v1/reports/nothing/").status_code == 404
    assert api.get("/api/v1/reports/summary/?range=forever").status_code == 400


def test_admins_see_reports_too(admin_user):
    assert client_for(admin_user).get("/reports/").status_code == 200


def test_unused_helpers_are_not_needed_for_a_manager_without_teams(db):
    lonely = UserFactory(username="lonely", role="manager")
    response = client_for(lonely).get("/reports/")
    assert response.status_code == 200
    assert queries.summary(filters_for(lonely, range="7d"))["opened"] == 0


def test_openapi_schema_documents_the_report_endpoints(admin_user):
    schema = client_for(admin_user).get("/api/schema/?format=json").json()
    assert "/api/v1/reports/summary/" in schema["paths"]
    table = schema["paths"]["/api/v1/reports/{table}/"]["get"]
    [path_param] = [p for p in table["parameters"] if p["in"] == "path"]
    assert sorted(path_param["schema"]["enum"]) == [
        "agents",
        "csat-agents",
        "csat-comments",
        "csat-platforms",
        "csat-series",
        "csat-teams",
        "headline",
        "heatmap",
        "platforms",
        "series",
    ]
    assert "/api/v1/reports/csat/" in schema["paths"]


def test_the_python_fallback_gives_the_same_tables(played, admin_user, monkeypatch):
    f = filters_for(admin_user, range="7d")
    on_postgres = (queries.agents(f), queries.platforms(f), queries.series(f))
    monkeypatch.setattr(queries, "_use_postgres", lambda: False)
    assert (queries.agents(f), queries.platforms(f), queries.series(f)) == on_postgres


@pytest.mark.django_db(transaction=True)
def test_the_page_parts_run_in_parallel_with_the_same_result(account, agent, monkeypatch):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the parts run in parallel on PostgreSQL only")
    script = Script(account, monkeypatch)
    script.customer(T0)
    script.agent(T0 + 10 * MIN, agent)
    admin = UserFactory(username="boss", role="admin")
    f = filters_for(admin, range="7d")
    assert not connection.in_atomic_block  # so report() takes the parallel path
    threads = []
    original = queries._part

    def recording(call):
        threads.append(threading.get_ident())
        return original(call)

    monkeypatch.setattr(queries, "_part", recording)

    parallel = queries.report(f)
    with queries.report_session():
        sequential = queries.report(f)

    assert len(threads) == 6 and len(set(threads)) == 2
    assert parallel == sequential
    assert parallel["headline"]["current"]["first_response_seconds_p50"] == 600
