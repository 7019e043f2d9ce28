"""Daily rollups: histograms within their bound, agreement with the exact report, freshness
(days changed later, days not rolled up yet), time zone days, the rebuild command."""

from __future__ import annotations

import io
import math
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from inbox.models import Conversation, Message
from reports import metrics, queries, rollups
from reports.models import (
    ConversationMetric,
    ReplyMetric,
    ReportAgentDay,
    ReportDay,
    RollupState,
    VolumeHour,
)
from tests.factories import AccountFactory, ConversationFactory, MessageFactory
from tests.reports.conftest import T0

pytestmark = pytest.mark.django_db

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# The organisation's "now" in these tests: Monday 28 December 2026, noon in London.
NOW = datetime(2026, 12, 28, 12, 0, tzinfo=UTC)
# Relative error of a percentile read from the histograms (docs/metrics.md), plus the width of
# bucket 0 ([0, 1) s) for values under a second.
TOLERANCE = rollups.RATIO - 1


@pytest.fixture(autouse=True)
def london(settings):
    settings.ORGANISATION_TIME_ZONE = "Europe/London"


def close(rolled, exact) -> bool:
    if exact is None or rolled is None:
        return rolled is exact
    return abs(rolled - exact) <= TOLERANCE * abs(exact) + 1e-9 or abs(rolled - exact) < 1


# --- Histograms ---------------------------------------------------------------------------------


def test_buckets_are_log_spaced_and_hold_their_values():
    assert rollups.bucket_of(0) == 0
    assert rollups.bucket_of(0.99) == 0
    assert rollups.bucket_of(-3) == 0
    for seconds in (1, 1.5, 59.9, 3600, 86_400 * 3, 86_400 * 400):
        lo, hi = rollups.bucket_bounds(rollups.bucket_of(seconds))
        assert lo <= seconds < hi
        assert hi / lo == pytest.approx(rollups.RATIO)
    assert rollups.bucket_of(1e12) == rollups.LAST_BUCKET


def test_histogram_percentiles_stay_within_the_documented_error():
    rng = random.Random(11)
    for size in (1, 2, 7, 100, 5000):
        values = [60 * math.exp(rng.gauss(2, 1.5)) for _ in range(size)]
        histogram: dict[int, int] = {}
        for value in values:
            histogram[rollups.bucket_of(value)] = histogram.get(rollups.bucket_of(value), 0) + 1
        p50, p90 = rollups.percentiles(histogram, (0.5, 0.9))
        assert close(p50, queries.percentile(values, 0.5)), size
        assert close(p90, queries.percentile(values, 0.9)), size
    assert rollups.percentiles({}, (0.5,)) == [None]


def test_a_median_between_two_buckets_interpolates_like_percentile_cont():
    # Two values, 100 s and 200 s: percentile_cont's median is 150 s.
    histogram = {rollups.bucket_of(100): 1, rollups.bucket_of(200): 1}
    (median,) = rollups.percentiles(histogram, (0.5,))
    assert median == pytest.approx(150, rel=TOLERANCE)


# --- A long range from rollups agrees with the exact report ------------------------------------


def _opening(conversation, sequence, opened, *, agent, fr, res, replies=(), volume=True):
    metric = ConversationMetric.objects.create(
        conversation=conversation,
        sequence=sequence,
        account=conversation.account,
        platform=conversation.account.platform,
        team=conversation.team,
        agent=agent,
        opened_at=opened,
        first_response_at=opened + timedelta(seconds=fr) if fr is not None else None,
        first_response_seconds=fr,
        first_response_business_seconds=fr / 2 if fr is not None else None,
        bot_first_response_at=opened + timedelta(seconds=3),
        bot_first_response_seconds=3.0,
        resolved_at=opened + timedelta(seconds=res) if res is not None else None,
        resolution_seconds=res,
        resolution_business_seconds=res / 3 if res is not None else None,
        sla_met=(fr or 0) < 1800 if res is not None else None,
        sla_first_response_met=fr is not None and fr < 1800,
        sla_breaches=int((fr or 0) >= 1800),
    )
    for wait in replies:
        message = MessageFactory(conversation=conversation, direction=Message.Direction.OUTBOUND)
        ReplyMetric.objects.create(
            opening=metric,
            conversation=conversation,
            account=conversation.account,
            platform=conversation.account.platform,
            team=conversation.team,
            agent=agent,
            sender_kind=Message.SenderKind.AGENT,
            message=message,
            waited_from=opened,
            replied_at=opened + timedelta(seconds=wait),
            seconds=wait,
            business_seconds=wait / 2,
        )
    if volume:
        VolumeHour.objects.create(
            conversation=conversation,
            hour=opened.replace(minute=0, second=0, microsecond=0),
            account=conversation.account,
            platform=conversation.account.platform,
            team=conversation.team,
            agent=agent,
            messages_in=2,
            messages_out=1 + len(replies),
        )
    return metric


@pytest.fixture
def ninety_days(account, agent, teammate, team):
    """Ninety days before NOW of openings on two platforms, two agents and no agent, with
    first responses, resolutions and replies spread over seconds to days."""
    rng = random.Random(3)
    start = NOW - 90 * DAY
    other_account = AccountFactory(platform="messenger", external_id="page-2", name="Outlet")
    for i in range(270):
        owner = (account, other_account)[i % 2]
        conversation = ConversationFactory(account=owner, team=team if owner == account else None)
        opened = start + timedelta(seconds=rng.uniform(0, 90 * 86_400 - 1))
        fr = None if i % 9 == 0 else rng.lognormvariate(6.5, 1.4)
        res = None if i % 5 == 0 else (fr or 0) + rng.lognormvariate(8, 1.2)
        waits = [rng.lognormvariate(5.5, 1.0) for _ in range(i % 3)]
        _opening(
            conversation, 1, opened, agent=(agent, teammate, None)[i % 3], fr=fr, res=res,
            replies=waits,
        )  # fmt: skip
    return start


def _report(f, monkeypatch, *, exact: bool):
    if exact:
        with monkeypatch.context() as patch:
            patch.setattr(rollups, "usable", lambda _f: False)
            return queries.report(f)
    return queries.report(f)


def _assert_agree(rolled, exact):
    """Counts equal; medians and p90s within the tolerance."""
    if isinstance(exact, dict):
        assert rolled.keys() == exact.keys()
        for key in exact:
            if key.endswith(("_p50", "_p90")):
                assert close(rolled[key], exact[key]), (key, rolled[key], exact[key])
            elif key not in ("change_percent", "approximate"):
                _assert_agree(rolled[key], exact[key])
    elif isinstance(exact, list):
        assert len(rolled) == len(exact)
        for a, b in zip(rolled, exact, strict=True):
            _assert_agree(a, b)
    elif isinstance(exact, float):
        assert close(rolled, exact)
    else:
        assert rolled == exact


def test_a_long_report_from_rollups_agrees_with_the_exact_one(
    ninety_days, admin_user, agent, monkeypatch
):
    assert rollups.rebuild(now=NOW) >= 90
    for params in (
        {"range": "custom", "from": "2026-10-01", "to": "2026-12-28", "group": "week"},
        {"range": "custom", "from": "2026-09-29", "to": "2026-12-27", "group": "day"},
        {"range": "custom", "from": "2026-10-01", "to": "2026-12-28", "platform": "messenger"},
        {"range": "custom", "from": "2026-10-01", "to": "2026-12-28", "agent": str(agent.pk)},
        {"range": "custom", "from": "2026-10-01", "to": "2026-12-28", "agent": str(agent.pk), "platform": "messenger"},
    ):  # fmt: skip
        f = queries.parse_filters({"tz": "Europe/London", **params}, admin_user, now=NOW)
        assert rollups.usable(f) and rollups.usable(f.previous())
        rolled, exact = _report(f, monkeypatch, exact=False), _report(f, monkeypatch, exact=True)
        assert exact["headline"]["current"]["opened"] > 20
        _assert_agree(rolled, exact)


def test_short_ranges_other_zones_and_label_filters_stay_exact(ninety_days, admin_user):
    rollups.rebuild(now=NOW)

    def filters(**params):
        base = {"range": "custom", "from": "2026-10-01", "to": "2026-12-28"}
        return queries.parse_filters({"tz": "Europe/London", **base, **params}, admin_user, now=NOW)

    assert rollups.usable(filters())
    assert not rollups.usable(filters(**{"from": "2026-12-01"}))  # 28 days
    assert not rollups.usable(filters(tz="Asia/Tokyo"))
    assert rollups.usable(filters(agent=str(admin_user.pk)))
    assert not rollups.usable(filters(label="1"))


def test_the_headline_compares_two_periods_read_the_same_way(ninety_days, admin_user):
    rollups.rebuild(now=NOW)
    f = queries.parse_filters(
        {"tz": "Europe/London", "range": "custom", "from": "2026-11-14", "to": "2026-12-28"},
        admin_user,
        now=NOW,
    )
    previous = f.previous()
    assert (previous.first_day, previous.last_day) == (date(2026, 9, 30), date(2026, 11, 13))
    headline = queries.headline(f)
    opened = next(x for x in headline["figures"] if x["key"] == "opened")
    exact_before = ConversationMetric.objects.filter(
        opened_at__gte=previous.start, opened_at__lt=previous.end
    ).count()
    assert opened["previous"] == exact_before


# --- Freshness ----------------------------------------------------------------------------------


def test_a_day_not_rolled_up_yet_is_read_from_the_metric_rows(ninety_days, account, admin_user):
    rollups.rebuild(now=NOW - 3 * DAY)  # the pass has not run for three days
    assert rollups.state().through_day == date(2026, 12, 24)
    today = ConversationFactory(account=account)
    _opening(today, 1, NOW - HOUR, agent=None, fr=60.0, res=None, replies=[60.0])
    f = queries.parse_filters(
        {"tz": "Europe/London", "range": "custom", "from": "2026-10-01", "to": "2026-12-28"},
        admin_user,
        now=NOW,
    )
    rolled = queries.summary(f)
    exact = ConversationMetric.objects.filter(opened_at__gte=f.start, opened_at__lt=f.end)
    assert rolled["opened"] == exact.count()
    assert (
        rolled["replies"]
        == ReplyMetric.objects.filter(
            replied_at__gte=f.start, replied_at__lt=f.end, sender_kind=Message.SenderKind.AGENT
        ).count()
    )
    assert queries.series(f)[-1]["opened"] >= 1
    assert not ReportDay.objects.filter(day__gt=date(2026, 12, 24)).exists()

    # The next pass rolls up the days completed since, up to yesterday.
    assert rollups.update(now=NOW) == 3
    assert rollups.state().through_day == date(2026, 12, 27)
    assert queries.summary(f)["opened"] == rolled["opened"]


def test_rollups_follow_a_conversation_reopened_and_resolved_later(script, agent, settings):
    settings.ORGANISATION_TIME_ZONE = "UTC"
    script.customer(T0)  # Monday 2 November, 10:00 UTC
    script.agent(T0 + 10 * MIN, agent)
    script.resolve(T0 + HOUR, agent)
    # The services refresh metrics after commit, which a test transaction never reaches: the
    # refresh they schedule, run here (idempotent) at the script's clock.
    metrics.refresh(script.conversation.pk)
    rollups.update(now=T0 + 2 * DAY)
    monday = ReportDay.objects.get(day=date(2026, 11, 2), grain="day")
    assert (monday.opened, monday.resolved, monday.replies) == (1, 1, 1)

    # Reopened by hand on Thursday, resolved again on Friday: the resolution leaves Monday.
    script.status(T0 + 3 * DAY, Conversation.Status.OPEN, agent)
    metrics.refresh(script.conversation.pk)
    script.resolve(T0 + 4 * DAY, agent)
    metrics.refresh(script.conversation.pk)
    # Rewritten: the days completed since (4th to 6th) and the days the conversation touched
    # (2nd: messages and the first resolution; 5th, 6th: reopened, resolved) — not the 3rd.
    assert rollups.update(now=T0 + 5 * DAY) == 4
    monday = ReportDay.objects.get(day=date(2026, 11, 2), grain="day")
    friday = ReportDay.objects.get(day=date(2026, 11, 6), grain="day")
    assert (monday.opened, monday.resolved) == (1, 0)
    assert friday.resolved == 1
    assert friday.resolution_seconds_buckets == [rollups.bucket_of(4 * 86_400)]
    assert (
        ReportAgentDay.objects.get(
            day=date(2026, 11, 6), grain="day", agent=agent, account__isnull=False
        ).resolved
        == 1
    )

    # Nothing changed since: a second pass the same day writes nothing.
    assert rollups.update(now=T0 + 5 * DAY + HOUR) == 0


def test_a_change_of_time_zone_rebuilds_the_rollups(ninety_days, settings):
    rollups.update(now=NOW)
    assert rollups.state().time_zone == "Europe/London"
    settings.ORGANISATION_TIME_ZONE = "Asia/Tokyo"
    assert rollups.update(now=NOW) >= 88  # the first day in Tokyo is a day later
    assert rollups.state().time_zone == "Asia/Tokyo"


# --- Days in the organisation's time zone ------------------------------------------------------


def test_days_and_hours_are_local_to_the_organisation(account, admin_user, settings):
    settings.ORGANISATION_TIME_ZONE = "Asia/Tokyo"  # UTC+9, no daylight saving
    conversation = ConversationFactory(account=account)
    # 20:30 UTC on Tuesday 1 September is 05:30 on Wednesday 2 September in Tokyo.
    opened = datetime(2026, 9, 1, 20, 30, tzinfo=UTC)
    _opening(conversation, 1, opened, agent=None, fr=120.0, res=7200.0)
    rollups.rebuild(now=NOW)
    row = ReportDay.objects.get(grain="day")
    assert row.day == date(2026, 9, 2)
    assert row.hourly_in[5] == 2 and sum(row.hourly_in) == 2

    f = queries.parse_filters(
        {"tz": "Asia/Tokyo", "range": "custom", "from": "2026-08-01", "to": "2026-09-30"},
        admin_user,
        now=NOW,
    )
    assert rollups.usable(f)
    assert queries.heatmap(f)["grid"][2][5] == {"in": 2, "out": 1}  # Wednesday, 05:00
    by_day = {row["period"]: row["opened"] for row in queries.series(f)}
    assert by_day["2026-09-02"] == 1 and by_day["2026-09-01"] == 0


def test_previous_period_counts_local_days_across_a_clock_change(admin_user):
    # 60 days ending on 28 December include the end of British summer time (25 October).
    f = queries.parse_filters(
        {"tz": "Europe/London", "range": "custom", "from": "2026-10-30", "to": "2026-12-28"},
        admin_user,
        now=NOW,
    )
    previous = f.previous()
    assert (previous.first_day, previous.last_day) == (date(2026, 8, 31), date(2026, 10, 29))
    assert previous.start.astimezone(f.tz).hour == 0


# --- The rebuild command ------------------------------------------------------------------------


def test_rebuild_command_rewrites_every_day(ninety_days, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    ReportDay.objects.create(day=date(2020, 1, 1), account_id=ConversationMetric.objects.first().account_id, platform="x")  # fmt: skip
    out = io.StringIO()
    call_command("rebuild_report_rollups", stdout=out)
    assert "days rolled up" in out.getvalue()
    assert not ReportDay.objects.filter(day=date(2020, 1, 1)).exists()
    assert ReportDay.objects.filter(grain="day").values("day").distinct().count() >= 85
    # A whole week's row sums its days.
    weeks = ReportDay.objects.filter(grain="week")
    assert weeks.count() >= 12
    last_week = max(weeks.values_list("day", flat=True))
    days = ReportDay.objects.filter(grain="day", day__lte=last_week + timedelta(days=6))
    for name in ("opened", "resolved", "replies", "messages_in"):
        assert sum(weeks.values_list(name, flat=True)) == sum(days.values_list(name, flat=True))
    # So does a whole month's, and the per-agent rows summed over accounts.
    november = ReportDay.objects.filter(grain="day", day__gte=date(2026, 11, 1))
    november = november.filter(day__lte=date(2026, 11, 30))
    month = ReportDay.objects.filter(grain="month", day=date(2026, 11, 1))
    assert sum(month.values_list("opened", flat=True)) == sum(
        november.values_list("opened", flat=True)
    )
    agent_month = ReportAgentDay.objects.filter(grain="month", day=date(2026, 11, 1))
    for every_account in (True, False):
        rows = agent_month.filter(account__isnull=every_account)
        assert sum(rows.values_list("opened", flat=True)) == sum(
            november.values_list("opened", flat=True)
        )
    state = RollupState.objects.get()
    assert state.time_zone == "Europe/London" and state.through_day is not None
    _start, end = rollups._bounds(state.through_day, state.through_day, ZoneInfo("Europe/London"))
    assert sum(ReportDay.objects.filter(grain="day").values_list("opened", flat=True)) == (
        ConversationMetric.objects.filter(opened_at__lt=end).count()
    )


def test_the_page_says_when_its_medians_come_from_rollups(ninety_days, admin_user, client):
    rollups.rebuild(now=NOW)
    client.force_login(admin_user)
    params = {"range": "custom", "to": "2026-12-27", "tz": "Europe/London"}
    long = client.get("/reports/", {**params, "from": "2026-10-01"})
    short = client.get("/reports/", {**params, "from": "2026-12-01"})
    assert long.status_code == short.status_code == 200
    assert "within 2 %" in long.content.decode()
    assert "within 2 %" not in short.content.decode()
