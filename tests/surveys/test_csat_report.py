"""The CSAT report: score and response-rate arithmetic, per agent, team, platform and period,
the comments, the CSV exports, ``GET /api/v1/reports/csat/`` and who may read it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from surveys.models import Survey
from tests.factories import AccountFactory, ConversationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
PERIOD = "from=2026-11-02&to=2026-11-03&tz=UTC"


def survey(
    account, *, agent=None, team=None, rating=None, comment="", at=DAY, status=None, reason=""
):
    return Survey.objects.create(
        conversation=ConversationFactory(account=account),
        account=account,
        platform=account.platform,
        agent=agent,
        team=team,
        rating=rating,
        comment=comment,
        asked_at=at,
        status=status or ("done" if rating else "asked"),
        reason=reason,
    )


@pytest.fixture
def manager(team):
    user = UserFactory(username="maria", first_name="Maria", role="manager")
    team.members.add(user)
    return user


@pytest.fixture
def played(account, team, agent, teammate):
    """In the period: Alice 4 sent, 3 rated (5, 4, 2); Bob 2 sent on the sandbox, 1 rated (1),
    and 1 on an X account of the Sales team (5). Outside it: one not sent (the window) and
    one asked the day before."""
    x = AccountFactory(platform="x", external_id="x-shop")
    team.accounts.add(x)
    sales = TeamFactory(name="Sales")
    survey(account, agent=agent, team=team, rating=5, comment="Lovely, thanks")
    survey(account, agent=agent, team=team, rating=4, at=DAY + timedelta(days=1))
    survey(account, agent=agent, team=team, rating=2, comment="Took <b>ages</b>")
    survey(account, agent=agent, team=team)
    survey(account, agent=teammate, team=team, rating=1)
    survey(account, agent=teammate, team=team)
    survey(account, agent=agent, team=team, status="not_sent", reason="window_closed")
    survey(account, agent=agent, team=team, rating=1, at=DAY - timedelta(days=1))
    survey(x, agent=teammate, team=sales, rating=5, comment="Great on X")


def csat(user, query=PERIOD):
    token, _ = Token.objects.get_or_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}").get(f"/api/v1/reports/csat/?{query}")


def test_score_and_response_rate_arithmetic(played, manager, agent, teammate):
    response = csat(manager)

    assert response.status_code == 200
    body = response.json()
    # 7 sent in the period (the refused one apart), 5 rated, 3 of them 4–5.
    assert (body["sent"], body["responses"], body["satisfied"]) == (7, 5, 3)
    assert body["score"] == 60.0
    assert body["response_rate"] == 71.4
    assert body["not_sent"] == 1 and body["not_sent_reasons"] == {"window_closed": 1}
    assert body["distribution"] == {"1": 1, "2": 1, "3": 0, "4": 1, "5": 2}
    agents = {row["agent"]: row for row in body["by_agent"]}
    assert agents["Alice"] | {} == {
        "agent_id": agent.pk,
        "agent": "Alice",
        "sent": 4,
        "responses": 3,
        "response_rate": 75.0,
        "satisfied": 2,
        "score": 66.7,
    }
    assert (agents["Bob"]["sent"], agents["Bob"]["responses"], agents["Bob"]["score"]) == (
        3,
        2,
        50.0,
    )
    teams = {row["team"]: row["score"] for row in body["by_team"]}
    assert teams == {"Support": 50.0, "Sales": 100.0}
    platforms = {row["platform"]: row["response_rate"] for row in body["by_platform"]}
    assert platforms == {"Sandbox": 66.7, "X": 100.0}
    # Two days are shown by hour (as the rest of the report), every hour of them.
    assert len(body["series"]) == 48
    assert [(r["period"], r["sent"], r["responses"]) for r in body["series"] if r["sent"]] == [
        ("2026-11-02 12:00", 6, 4),
        ("2026-11-03 12:00", 1, 1),
    ]
    assert [c["comment"] for c in body["comments"]] == [
        "Great on X",
        "Took <b>ages</b>",
        "Lovely, thanks",
    ]


def test_filters_narrow_it_per_platform_agent_and_team(played, manager, agent):
    assert csat(manager, f"{PERIOD}&platform=x").json()["responses"] == 1
    body = csat(manager, f"{PERIOD}&agent={agent.pk}").json()
    assert (body["sent"], body["score"]) == (4, 66.7)
    no_surveys = csat(manager, "from=2025-01-01&to=2025-01-02&tz=UTC").json()
    assert (no_surveys["responses"], no_surveys["score"], no_surveys["by_agent"]) == (0, None, [])


def test_the_api_contract_and_who_may_read_it(played, manager, agent, outsider, admin_user):
    body = csat(manager).json()
    assert {"responses", "score", "by_agent"} <= set(body)
    assert body["period"] == {
        "from": "2026-11-02",
        "to": "2026-11-03",
        "time_zone": "UTC",
        "group": "hour",
    }

    assert csat(agent).status_code == 403
    assert csat(outsider).status_code == 403
    assert Client().get(f"/api/v1/reports/csat/?{PERIOD}").status_code in (401, 403)
    bad = csat(admin_user, "from=2026-11-05&to=2026-11-01")
    assert bad.status_code == 400 and "ends before it starts" in bad.json()["detail"]
    assert csat(admin_user, "from=2026-11-02").status_code == 400


def test_a_manager_sees_only_the_accounts_of_their_teams(played, team, admin_user):
    elsewhere = AccountFactory(platform="sandbox", external_id="elsewhere")
    survey(elsewhere, rating=1, comment="Someone else's customer")
    outside_manager = UserFactory(username="otto", role="manager")

    assert csat(admin_user).json()["sent"] == 8
    assert csat(outside_manager).json()["sent"] == 0
    manager = UserFactory(username="mia", role="manager")
    team.members.add(manager)
    body = csat(manager).json()
    assert body["sent"] == 7
    assert "Someone else's customer" not in [c["comment"] for c in body["comments"]]


def test_csv_exports(played, manager):
    client = Client()
    client.force_login(manager)

    response = client.get(f"/reports/export/csat-agents.csv?range=custom&{PERIOD}")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response.status_code == 200
    assert {r["agent"]: (r["sent"], r["responses"], r["score"]) for r in rows} == {
        "Alice": ("4", "3", "66.7"),
        "Bob": ("3", "2", "50.0"),
    }
    comments = client.get(f"/reports/export/csat-comments.csv?range=custom&{PERIOD}")
    text = b"".join(comments.streaming_content).decode()
    assert "Took <b>ages</b>" in text and "Great on X" in text
    for table in ("csat-series", "csat-teams", "csat-platforms"):
        assert client.get(f"/reports/export/{table}.csv?range=custom&{PERIOD}").status_code == 200


def test_the_reports_page_has_a_csat_section(played, manager):
    client = Client()
    client.force_login(manager)
    html = client.get(f"/reports/?range=custom&{PERIOD}").content.decode()

    assert 'id="csat"' in html
    assert 'id="csat-score">60.0 %' in html
    assert "Took &lt;b&gt;ages&lt;/b&gt;" in html  # hostile text is escaped
    assert 'id="chart-csat-ratings"' in html
