"""Reports filtered by a custom contact attribute (issue 17): the figures, the page, the CSV
exports and the API; the checks of the key and value; access; the exact rows over long ranges."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from contacts.models import AttributeDefinition
from reports import queries, rollups
from reports.filters import organisation_time_zone
from tests.factories import AccountFactory
from tests.reports.conftest import T0, Script

pytestmark = pytest.mark.django_db

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
NOW = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)
DAY = "range=custom&from=2026-11-02&to=2026-11-02&tz=UTC"
Type = AttributeDefinition.Type


@pytest.fixture
def definitions(db):
    AttributeDefinition.objects.create(
        key="plan", label="Plan", type=Type.CHOICE, choices=["free", "pro"]
    )
    AttributeDefinition.objects.create(key="company", label="Company", type=Type.TEXT)
    AttributeDefinition.objects.create(key="seats", label="Seats", type=Type.NUMBER)
    AttributeDefinition.objects.create(key="vip", label="VIP", type=Type.BOOLEAN)
    AttributeDefinition.objects.create(key="renewal", label="Renewal", type=Type.DATE)
    # A key named like a lookup stays a key.
    AttributeDefinition.objects.create(key="contains", label="Odd key", type=Type.TEXT)


@pytest.fixture
def played(script, agent, teammate, account, monkeypatch, definitions):
    """Two conversations on the same day: the "pro" customer's answered by Alice in 10 minutes
    and resolved after 2 hours; the other customer (no attributes) answered by Bob in 30."""
    script.customer(T0)
    script.agent(T0 + 10 * MIN, agent)
    script.resolve(T0 + 2 * HOUR, agent)
    contact = script.conversation.contact
    contact.attributes = {
        "plan": "pro",
        "company": "Acme Ltd",
        "seats": 3,
        "vip": True,
        "renewal": "2027-01-31",
        "contains": "x",
    }
    contact.save(update_fields=["attributes"])
    other = Script(account, monkeypatch, sender="cust-2")
    other.customer(T0 + HOUR)
    other.agent(T0 + HOUR + 30 * MIN, teammate)
    return script, other


def summary(user, **params):
    return queries.summary(
        queries.parse_filters({"tz": "UTC", "range": "7d", **params}, user, now=NOW)
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_figures_follow_the_contact_attribute_compared_by_its_type(played, admin_user):
    everyone = summary(admin_user)
    pro = summary(admin_user, attribute="plan", attribute_value="pro")
    free = summary(admin_user, attribute="plan", attribute_value="free")

    assert everyone["opened"] == 2 and everyone["first_response_seconds_p50"] == 1200
    assert pro["opened"] == 1
    assert pro["first_response_seconds_p50"] == 600
    assert pro["resolved"] == 1 and pro["resolution_seconds_p50"] == 7200
    assert (pro["messages_in"], pro["messages_out"]) == (1, 1)
    assert free["opened"] == 0 and free["first_response_seconds_p50"] is None
    # Text in any case; numbers by value; yes/no and dates exactly.
    for key, value in [
        ("company", "acme LTD"),
        ("seats", "3.0"),
        ("vip", "true"),
        ("renewal", "2027-01-31"),
        ("contains", "X"),
    ]:
        assert summary(admin_user, attribute=key, attribute_value=value)["opened"] == 1, key
    assert summary(admin_user, attribute="company", attribute_value="Acme")["opened"] == 0
    assert summary(admin_user, attribute="vip", attribute_value="false")["opened"] == 0
    assert summary(admin_user, attribute="seats", attribute_value="4")["opened"] == 0
    # No value: every contact that has the attribute.
    assert summary(admin_user, attribute="plan")["opened"] == 1


def test_the_page_filters_and_keeps_the_filter_in_its_links(played, manager):
    response = client_for(manager).get(f"/reports/?{DAY}&attribute=plan&attribute_value=pro")

    assert response.status_code == 200
    html = response.content.decode()
    assert "10.0 min" in html and "20.0 min" not in html
    assert '<option value="plan" selected>Plan</option>' in html
    assert '<option value="pro" selected>pro</option>' in html
    assert "attribute=plan&amp;attribute_value=pro" in html  # CSV and JSON links
    assert "js/report-filters.js" in html

    unfiltered = client_for(manager).get(f"/reports/?{DAY}").content.decode()
    assert "20.0 min" in unfiltered


def test_the_page_offers_a_typed_field_for_text_attributes(played, manager):
    html = (
        client_for(manager)
        .get(f"/reports/?{DAY}&attribute=company&attribute_value=acme+ltd")
        .content.decode()
    )
    assert 'id="report-attribute-text"' in html and 'value="acme ltd"' in html
    assert (
        'id="report-attribute-options" aria-labelledby="report-attribute-value-label" hidden'
        in html
    )


def test_csv_exports_are_filtered(played, manager):
    client = client_for(manager)
    response = client.get(f"/reports/export/agents.csv?{DAY}&attribute=plan&attribute_value=pro")
    assert response.status_code == 200
    rows = csv_rows(response)
    assert [row["agent"] for row in rows if row["handled"] != "0"] == ["Alice"]
    assert rows[0]["first_response_seconds_p50"] == "600.0"

    headline = csv_rows(
        client.get(f"/reports/export/headline.csv?{DAY}&attribute=vip&attribute_value=false")
    )
    assert next(row for row in headline if row["figure"] == "opened")["value"] == "0"


def test_the_api_filters_by_attribute(played, manager):
    token = Token.objects.create(user=manager)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")

    pro = api.get(f"/api/v1/reports/summary/?{DAY}&attribute=plan&attribute_value=pro").json()
    everyone = api.get(f"/api/v1/reports/summary/?{DAY}").json()
    platforms = api.get(
        f"/api/v1/reports/platforms/?{DAY}&attribute=company&attribute_value=ACME+LTD"
    ).json()

    assert pro["current"]["opened"] == 1
    assert pro["current"]["first_response_seconds_p50"] == 600
    assert everyone["current"]["opened"] == 2
    assert everyone["current"]["first_response_seconds_p50"] == 1200
    assert [row["opened"] for row in platforms["results"]] == [1]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("attribute=shoe_size&attribute_value=9", "attribute: no contact attribute has the key"),
        ("attribute=plan&attribute_value=gold", "attribute_value: plan must be one of: free, pro"),
        ("attribute=seats&attribute_value=many", "attribute_value: seats must be a number"),
        ("attribute=vip&attribute_value=maybe", "attribute_value: vip must be true or false"),
        ("attribute=renewal&attribute_value=soon", "attribute_value: renewal must be a date"),
        ("attribute_value=pro", "attribute_value: choose an attribute too"),
    ],
)
def test_a_bad_attribute_or_value_is_a_400_naming_the_field(definitions, manager, params, message):
    client = client_for(manager)
    token = Token.objects.create(user=manager)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")

    page = client.get(f"/reports/?{params}")
    export = client.get(f"/reports/export/series.csv?{params}")
    answer = api.get(f"/api/v1/reports/summary/?{params}")

    assert page.status_code == export.status_code == answer.status_code == 400
    assert message in page.content.decode()
    assert export.content.decode().startswith(message)
    assert answer.json()["detail"].startswith(message)


def test_a_hostile_key_is_refused_and_shown_escaped(definitions, manager):
    response = client_for(manager).get("/reports/", {"attribute": "<script>x</script>"})
    assert response.status_code == 400
    assert "<script>x</script>" not in response.content.decode()


def test_a_managers_teams_still_limit_the_rows(played, manager, admin_user):
    hidden = AccountFactory(platform="sandbox", external_id="hidden")
    elsewhere = Script(hidden, played[0].monkeypatch, sender="x")
    elsewhere.customer(T0)
    elsewhere.conversation.contact.attributes = {"plan": "pro"}
    elsewhere.conversation.contact.save(update_fields=["attributes"])

    assert summary(admin_user, attribute="plan", attribute_value="pro")["opened"] == 2
    assert summary(manager, attribute="plan", attribute_value="pro")["opened"] == 1
    token = Token.objects.create(user=manager)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    answer = api.get(f"/api/v1/reports/summary/?{DAY}&attribute=plan&attribute_value=pro")
    assert answer.json()["current"]["opened"] == 1


def test_a_long_range_reads_the_metric_rows_not_the_rollups(played, admin_user):
    rollups.rebuild(now=NOW)
    params = {
        "tz": organisation_time_zone(),
        "range": "custom",
        "from": "2026-09-01",
        "to": "2026-11-05",
    }
    unfiltered = queries.parse_filters(params, admin_user, now=NOW)
    f = queries.parse_filters(
        {**params, "attribute": "plan", "attribute_value": "pro"}, admin_user, now=NOW
    )

    assert rollups.usable(unfiltered)
    assert not rollups.usable(f) and not rollups.usable(f.previous())
    current = queries.summary(f)
    assert current["opened"] == 1 and current["first_response_seconds_p50"] == 600
    assert sum(row["opened"] or 0 for row in queries.series(f)) == 1


def test_the_filter_round_trips_through_its_parameters(definitions, admin_user):
    f = queries.parse_filters({"attribute": "vip", "attribute_value": "yes"}, admin_user, now=NOW)
    assert f.as_params()["attribute"] == "vip" and f.as_params()["attribute_value"] == "true"
    again = queries.parse_filters(f.as_params(), admin_user, now=NOW)
    assert (again.attribute, again.attribute_value) == ("vip", True)
    assert (
        "attribute_value" not in queries.parse_filters({"attribute": "vip"}, admin_user).as_params()
    )


def test_openapi_documents_the_attribute_parameters(admin_user):
    schema = client_for(admin_user).get("/api/schema/?format=json").json()
    summary_params = schema["paths"]["/api/v1/reports/summary/"]["get"]["parameters"]
    names = {p["name"]: p for p in summary_params}
    assert "attribute" in names and "attribute_value" in names
    assert "contact attribute" in names["attribute"]["description"]
