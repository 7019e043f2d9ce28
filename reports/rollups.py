"""Rollups of the report metrics per local day, week and month, so a year of report reads
~12 month rows per account and team instead of a million openings.

Two tables with the same columns, rewritten from the metric rows (``ConversationMetric``,
``ReplyMetric``, ``VolumeHour``) and never edited by hand:

- ``ReportDay``: period × account × team — every count of the page (SLA met / known counts,
  messages in and out, per local hour too for the heat map) and a histogram of each duration;
- ``ReportAgentDay``: the same × agent (each source's own: the opening's credited agent, the
  reply's author, the conversation's for messages), plus rows summed over accounts — for the
  per-agent table and for reports filtered by agent. (Kept apart so ``ReportDay`` stays small:
  with the agent in the key a day has hundreds of rows of a handful of openings each.)

A period is a local day, and also each whole week (from Monday) and month as one row: a report
reads the fewest rows that cover its days (:func:`_pieces`). Days are local to the
organisation's time zone (``RollupState.time_zone``); a report in another zone, over a short
range (``EXACT_MAX_DAYS``) or filtered by label reads the metric rows exactly instead
(:func:`usable`).

Durations are kept as sparse log-bucket histograms (:func:`bucket_of`): bucket k ≥ 1 holds
[1.02^(k-1), 1.02^k) seconds, so a median or p90 read from merged histograms is within 2 % of
the exact ``percentile_cont`` (documented in docs/metrics.md). Counts and volumes are exact.

Freshness: :func:`update` (Celery beat, every minute) rolls up each day once it has ended and
rewrites the days that the openings rewritten since its last pass touch
(``ConversationMetric.updated_at``, :func:`changed_days`); reports read the days after
``RollupState.through_day`` — today at least — from the metric rows, bucketed the same way
(:func:`collect`). So a report is never missing a day, and a change to an old conversation
reaches the rollups at the next pass.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Min, Q, QuerySet
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from inbox.models import ConversationEvent, Message, PlatformAccount
from reports.filters import ReportFilters, dimensions, organisation_time_zone
from reports.models import (
    ConversationMetric,
    Grain,
    ReplyMetric,
    ReportAgentDay,
    ReportDay,
    RollupBase,
    RollupState,
    VolumeHour,
)

# --- Histograms ---------------------------------------------------------------------------------

# Width of a bucket: a value read back from its bucket is within 2 % of the true one.
RATIO = 1.02
_LOG_RATIO = math.log(RATIO)
# 1.02^1022 s is ~19 years: anything longer shares the last bucket (the column is a smallint).
LAST_BUCKET = 1023


def bucket_of(seconds: float) -> int:
    """Bucket 0 holds [0, 1) s (and the odd negative duration); bucket k ≥ 1 holds
    [RATIO^(k-1), RATIO^k) s."""
    if seconds < 1:
        return 0
    return min(LAST_BUCKET, 1 + int(math.log(seconds) / _LOG_RATIO))


def bucket_bounds(bucket: int) -> tuple[float, float]:
    if bucket == 0:
        return 0.0, 1.0
    return RATIO ** (bucket - 1), RATIO**bucket


def percentiles(histogram: dict[int, int], fractions: Sequence[float]) -> list[float | None]:
    """``percentile_cont`` over the values a histogram stands for: the values of a bucket are
    taken as evenly spread across it (the i-th of n at lo + (hi − lo)(i + ½)/n), then ranks are
    interpolated as ``percentile_cont`` does. Every estimate stays inside the bucket of the
    true value, hence the 2 % bound."""
    items = sorted((b, n) for b, n in histogram.items() if n)
    total = sum(n for _b, n in items)
    if not total:
        return [None for _ in fractions]

    def value_at(rank: int) -> float:
        seen = 0
        for bucket, n in items:
            if rank < seen + n:
                lo, hi = bucket_bounds(bucket)
                return lo + (hi - lo) * (rank - seen + 0.5) / n
            seen += n
        raise AssertionError("rank beyond the histogram")

    out = []
    for fraction in fractions:
        position = fraction * (total - 1)
        lower = math.floor(position)
        upper = min(lower + 1, total - 1)
        low_value = value_at(lower)
        out.append(low_value + (value_at(upper) - low_value) * (position - lower))
    return out


# --- What a day holds -----------------------------------------------------------------------

# Duration fields of the metric rows → the rollup histogram that keeps them, per source.
DURATIONS = {
    "openings": {
        "first_response_seconds": "first_response_seconds",
        "first_response_business_seconds": "first_response_business_seconds",
        "bot_first_response_seconds": "bot_first_response_seconds",
    },
    "resolutions": {
        "resolution_seconds": "resolution_seconds",
        "resolution_business_seconds": "resolution_business_seconds",
    },
    "replies": {"seconds": "reply_seconds", "business_seconds": "reply_business_seconds"},
    "volume": {},
}
SLA_FLAGS = ("sla", "sla_first_response", "sla_next_response", "sla_resolution")
# Counts per source, as ``queries`` names them (the rollup columns have the same names).
COUNTS = {
    "openings": (
        "opened",
        "answered",
        "bot_answered",
        "sla_breaches",
        *(f"{p}_{k}_count" for p in SLA_FLAGS for k in ("met", "known")),
    ),
    "resolutions": ("resolved", "bot_deflected"),
    "replies": ("replies",),
    "volume": ("messages_in", "messages_out"),
}
ALL_COUNTS = frozenset(name for names in COUNTS.values() for name in names)
# A group shows when its source has rows, as in the exact queries.
MAIN_COUNT = {"openings": "opened", "resolutions": "resolved", "replies": "replies"}


@dataclass
class Day:
    """One rollup row being built: counts, histograms and hourly volume."""

    counts: Counter = field(default_factory=Counter)
    histograms: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    hourly_in: list[int] = field(default_factory=lambda: [0] * 24)
    hourly_out: list[int] = field(default_factory=lambda: [0] * 24)

    def add(self, histogram: str, bucket: int | None) -> None:
        if bucket is not None:
            self.histograms[histogram][bucket] += 1

    def merge(self, other: Day) -> None:
        self.counts.update(other.counts)
        for name, counter in other.histograms.items():
            self.histograms[name].update(counter)
        for hour in range(24):
            self.hourly_in[hour] += other.hourly_in[hour]
            self.hourly_out[hour] += other.hourly_out[hour]

    def as_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = dict(self.counts)
        for name, counter in self.histograms.items():
            items = sorted(counter.items())
            fields[f"{name}_buckets"] = [b for b, _n in items]
            fields[f"{name}_counts"] = [n for _b, n in items]
        return fields


def _buckets(*durations: float | None) -> list[int | None]:
    return [None if seconds is None else bucket_of(seconds) for seconds in durations]


# (day, account_id, platform, team_id) and the same with agent_id for the per-agent rows.
DayKey = tuple[date, int, str, int | None]
AgentKey = tuple[date, int | None, str, int | None, int | None]


@dataclass
class Collected:
    days: dict[DayKey, Day] = field(default_factory=lambda: defaultdict(Day))
    agents: dict[AgentKey, Day] = field(default_factory=lambda: defaultdict(Day))


def _bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
    )


def _rows(qs: QuerySet, *fields: str) -> Iterator[tuple]:
    return qs.values_list(*fields).iterator(chunk_size=20_000)


SOURCES = frozenset(("openings", "resolutions", "replies", "volume"))


def collect(
    first: date,
    last: date,
    tz: ZoneInfo,
    f: ReportFilters | None = None,
    sources: frozenset[str] = SOURCES,
) -> Collected:
    """The rollup rows of the local days first..last computed from the metric rows (limited to
    a report's account, platform and team filters, and to some sources, when given). The
    executable definition of what a rollup holds: :func:`build` saves it, reports use it for
    the days not rolled up yet."""
    start, end = _bounds(first, last, tz)
    out = Collected()

    def scope(qs: QuerySet) -> QuerySet:
        if f is None:
            return qs
        return dimensions(qs, f)

    openings = scope(ConversationMetric.objects.filter(opened_at__gte=start, opened_at__lt=end))
    if "openings" not in sources:
        openings = openings.none()

    def targets(day: date, account: int, platform: str, team: int | None, agent: int | None):
        # Every source counts in its account row and in its agent's row alike.
        return out.days[(day, account, platform, team)], out.agents[
            (day, account, platform, team, agent)
        ]

    # Local days (and hours) come from PostgreSQL: parsing a million timestamps in Python and
    # converting them costs more than the rest of the walk.
    for day, account, platform, team, agent, fr, frb, bot, breaches, *flags in _rows(
        openings.annotate(local_day=TruncDate("opened_at", tzinfo=tz)),
        "local_day",
        "account_id",
        "platform",
        "team_id",
        "agent_id",
        "first_response_seconds",
        "first_response_business_seconds",
        "bot_first_response_seconds",
        "sla_breaches",
        "sla_met",
        "sla_first_response_met",
        "sla_next_response_met",
        "sla_resolution_met",
    ):
        buckets = _buckets(fr, frb, bot)
        for row in targets(day, account, platform, team, agent):
            row.counts["opened"] += 1
            row.counts["sla_breaches"] += breaches
            row.counts["answered"] += fr is not None
            row.counts["bot_answered"] += bot is not None
            row.add("first_response_seconds", buckets[0])
            row.add("first_response_business_seconds", buckets[1])
            row.add("bot_first_response_seconds", buckets[2])
            for prefix, flag in zip(SLA_FLAGS, flags, strict=True):
                row.counts[f"{prefix}_met_count"] += flag is True
                row.counts[f"{prefix}_known_count"] += flag is not None

    resolutions = scope(
        ConversationMetric.objects.filter(resolved_at__gte=start, resolved_at__lt=end)
    )
    if "resolutions" not in sources:
        resolutions = resolutions.none()
    for day, account, platform, team, agent, seconds, business, deflected in _rows(
        resolutions.annotate(local_day=TruncDate("resolved_at", tzinfo=tz)),
        "local_day",
        "account_id",
        "platform",
        "team_id",
        "agent_id",
        "resolution_seconds",
        "resolution_business_seconds",
        "bot_deflected",
    ):
        buckets = _buckets(seconds, business)
        for row in targets(day, account, platform, team, agent):
            row.counts["resolved"] += 1
            row.counts["bot_deflected"] += deflected
            row.add("resolution_seconds", buckets[0])
            row.add("resolution_business_seconds", buckets[1])

    replies = scope(
        ReplyMetric.objects.filter(
            replied_at__gte=start, replied_at__lt=end, sender_kind=Message.SenderKind.AGENT
        )
    )
    if "replies" not in sources:
        replies = replies.none()
    for day, account, platform, team, agent, seconds, business in _rows(
        replies.annotate(local_day=TruncDate("replied_at", tzinfo=tz)),
        "local_day",
        "account_id",
        "platform",
        "team_id",
        "agent_id",
        "seconds",
        "business_seconds",
    ):
        buckets = _buckets(seconds, business)
        for row in targets(day, account, platform, team, agent):
            row.counts["replies"] += 1
            row.add("reply_seconds", buckets[0])
            row.add("reply_business_seconds", buckets[1])

    # A UTC hour counts on the local day and at the local hour its start falls in, as the exact
    # queries place it.
    volume = scope(VolumeHour.objects.filter(hour__gte=start, hour__lt=end))
    if "volume" not in sources:
        volume = volume.none()
    for day, hour, account, platform, team, agent, inbound, outbound in _rows(
        volume.annotate(
            local_day=TruncDate("hour", tzinfo=tz), local_hour=ExtractHour("hour", tzinfo=tz)
        ),
        "local_day",
        "local_hour",
        "account_id",
        "platform",
        "team_id",
        "agent_id",
        "messages_in",
        "messages_out",
    ):
        for row in targets(day, account, platform, team, agent):
            row.counts["messages_in"] += inbound
            row.counts["messages_out"] += outbound
            row.hourly_in[hour] += inbound
            row.hourly_out[hour] += outbound
    return out


# --- Keeping the rollups ------------------------------------------------------------------------

# Refreshes commit a little after they stamp ``updated_at``: each pass looks back this far, so a
# transaction that committed late is still seen (rewriting a day twice is harmless).
LOOKBACK = timedelta(minutes=5)


def organisation_tz() -> ZoneInfo:
    return ZoneInfo(organisation_time_zone())


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month_end(day: date) -> date:
    following = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return following - timedelta(days=1)


def _every_account(agents: dict[AgentKey, Day]) -> dict[AgentKey, Day]:
    """Per-agent rows summed over accounts and teams (the key keeps its shape, with no
    account, platform or team)."""
    out: dict[AgentKey, Day] = defaultdict(Day)
    for (day, _account, _platform, _team, agent), row in agents.items():
        out[(day, None, "", None, agent)].merge(row)
    return out


def _regrain(rows: dict[tuple, Day], start: date) -> dict[tuple, Day]:
    """Rows of several days summed into one row starting on ``start``."""
    out: dict[tuple, Day] = defaultdict(Day)
    for (_day, *rest), row in rows.items():
        out[(start, *rest)].merge(row)
    return out


def _save(model: type[RollupBase], grain: str, rows: dict[tuple, Day]) -> None:
    """Insert rollup rows with COPY: a year holds millions of histogram entries, and
    ``bulk_create`` prepares each array element through its field (half the build's time)."""
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    # Weekdays and hours are read from day rows only.
    day_row = grain == Grain.DAY
    with connection.cursor() as cursor:
        sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for key, row in rows.items():
                day, account, platform, team, *agent = key
                values = {
                    "day": day,
                    "grain": grain,
                    "account_id": account,
                    "platform": platform,
                    "team_id": team,
                    "agent_id": agent[0] if agent else None,
                    "hourly_in": row.hourly_in if day_row else [],
                    "hourly_out": row.hourly_out if day_row else [],
                    **row.as_fields(),
                }
                copy.write_row([values.get(c, [] if c.endswith(_ARRAYS) else 0) for c in columns])


# Columns that hold arrays (empty when a row has no value of that kind).
_ARRAYS = ("_buckets", "_counts", "hourly_in", "hourly_out")


def _stored(model: type[RollupBase], where: Q) -> dict[tuple, Day]:
    """Stored rollup rows read back (to be summed into a week or month)."""
    fields = [f.name for f in model._meta.concrete_fields]
    counts = [n for n in fields if n in ALL_COUNTS]
    histograms = [n.removesuffix("_buckets") for n in fields if n.endswith("_buckets")]
    agent = model is ReportAgentDay
    out: dict[tuple, Day] = {}
    for values in model.objects.filter(where).values():
        row = Day()
        row.counts.update({n: values[n] for n in counts})
        for name in histograms:
            row.histograms[name].update(
                dict(zip(values[f"{name}_buckets"], values[f"{name}_counts"], strict=True))
            )
        key = (values["day"], values["account_id"], values["platform"], values["team_id"])
        out.setdefault((*key, values["agent_id"]) if agent else key, Day()).merge(row)
    return out


def _runs(days: Iterable[date], longest: int = 7) -> Iterator[tuple[date, date]]:
    """Sorted days as runs of consecutive days (at most ``longest`` each, to bound memory)."""
    run: list[date] = []
    for day in sorted(set(days)):
        if run and (day != run[-1] + timedelta(days=1) or len(run) == longest):
            yield run[0], run[-1]
            run = []
        run.append(day)
    if run:
        yield run[0], run[-1]


def build(days: Iterable[date], through: date, tz: ZoneInfo) -> int:
    """Rewrite the day rows of ``days`` from the metric rows, then the row of every whole week
    and month that holds one of them and ends by ``through`` from its stored days; returns the
    number of days written."""
    days = sorted({day for day in days if day <= through})
    for first, last in _runs(days):
        collected = collect(first, last, tz)
        with transaction.atomic():
            for model in (ReportDay, ReportAgentDay):
                model.objects.filter(grain=Grain.DAY, day__gte=first, day__lte=last).delete()
            _save(ReportDay, Grain.DAY, collected.days)
            _save(ReportAgentDay, Grain.DAY, collected.agents)
            _save(ReportAgentDay, Grain.DAY, _every_account(collected.agents))
    # Weeks first: a month is summed from the weeks inside it and the days around them.
    weeks = sorted({_monday(d) for d in days if _monday(d) + timedelta(days=6) <= through})
    months = sorted({d.replace(day=1) for d in days if _month_end(d) <= through})
    for grain, start in [(Grain.WEEK, w) for w in weeks] + [(Grain.MONTH, m) for m in months]:
        end = start + timedelta(days=6) if grain == Grain.WEEK else _month_end(start)
        pieces = _pieces(start, end, (Grain.WEEK, Grain.DAY) if grain == Grain.MONTH else ())
        parts = Q()
        for piece, firsts in pieces.items():
            parts |= Q(grain=piece, day__in=firsts)
        with transaction.atomic():
            for model in (ReportDay, ReportAgentDay):
                model.objects.filter(grain=grain, day=start).delete()
                _save(model, grain, _regrain(_stored(model, parts), start))
    return len(days)


def _locked_state(tz: ZoneInfo) -> RollupState | None:
    """The state row, locked for this pass; None when another pass holds it."""
    RollupState.objects.get_or_create(pk=1, defaults={"time_zone": tz.key})
    return RollupState.objects.select_for_update(skip_locked=True).filter(pk=1).first()


def rebuild(*, now: datetime | None = None) -> int:
    """Rewrite every rollup from the metric rows, up to yesterday; returns the number of days."""
    if connection.vendor != "postgresql":
        return 0  # the embedded default (SQLite) reports from the metric rows only
    now = now or timezone.now()
    tz = organisation_tz()
    with transaction.atomic():
        state = _locked_state(tz)
        if state is None:
            raise RuntimeError("a rollup pass is running; try again when it ends")
        return _rebuild(state, tz, now)


def _rebuild(state: RollupState, tz: ZoneInfo, now: datetime) -> int:
    ReportDay.objects.all().delete()
    ReportAgentDay.objects.all().delete()
    yesterday = now.astimezone(tz).date() - timedelta(days=1)
    starts = [
        ConversationMetric.objects.aggregate(at=Min("opened_at"))["at"],
        VolumeHour.objects.aggregate(at=Min("hour"))["at"],
    ]
    starts = [at for at in starts if at is not None]
    first = min(starts).astimezone(tz).date() if starts else yesterday + timedelta(days=1)
    days = build(_days(first, yesterday), yesterday, tz)
    state.time_zone = tz.key
    state.through_day = yesterday
    state.changes_seen_at = now
    state.save()
    return days


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def changed_days(since: datetime, tz: ZoneInfo) -> set[date]:
    """The local days whose rollups may have changed with the openings rewritten since
    ``since``. A refresh rewrites an opening with its reply and volume rows, and a rebuild
    recreates every opening of its conversation, so the days are those of the conversation's
    messages from the earliest rewritten opening's hour on (replies, volume, the opening
    itself), of its resolution, and of every status change of the conversation (a resolution
    that a reopening took away stays on the day it was made)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH changed AS (
                SELECT conversation_id, MIN(opened_at) AS since, MAX(resolved_at) AS resolved
                FROM inbox_conversationmetric WHERE updated_at >= %(since)s
                GROUP BY conversation_id
            )
            SELECT DISTINCT (t.at AT TIME ZONE %(tz)s)::date FROM inbox_message m
            JOIN changed c ON m.conversation_id = c.conversation_id
            -- A message counts on its day, its volume hour on the day the hour starts.
            CROSS JOIN LATERAL (VALUES (m.sent_at), (date_trunc('hour', m.sent_at))) AS t(at)
            WHERE m.sent_at >= date_trunc('hour', c.since)
            UNION
            SELECT DISTINCT (e.created_at AT TIME ZONE %(tz)s)::date
            FROM inbox_conversationevent e JOIN changed c ON e.conversation_id = c.conversation_id
            WHERE e.kind = %(status)s
            UNION
            SELECT DISTINCT (c.since AT TIME ZONE %(tz)s)::date FROM changed c
            UNION
            SELECT DISTINCT (c.resolved AT TIME ZONE %(tz)s)::date FROM changed c
            WHERE c.resolved IS NOT NULL
            """,
            {"since": since, "tz": tz.key, "status": ConversationEvent.Kind.STATUS_CHANGED},
        )
        return {day for (day,) in cursor.fetchall()}


def update(*, now: datetime | None = None) -> int:
    """One pass (Celery beat): roll up the days completed since the last pass and rewrite the
    days that openings rewritten since touch (:func:`changed_days`); returns the number of days
    written. A first pass, or a change of the organisation's time zone, rebuilds everything."""
    if connection.vendor != "postgresql":
        return 0  # the embedded default (SQLite) reports from the metric rows only
    now = now or timezone.now()
    tz = organisation_tz()
    with transaction.atomic():
        state = _locked_state(tz)
        if state is None:
            return 0  # another pass is running
        if state.time_zone != tz.key or state.through_day is None or state.changes_seen_at is None:
            return _rebuild(state, tz, now)
        through = max(state.through_day, now.astimezone(tz).date() - timedelta(days=1))
        days = set(_days(state.through_day + timedelta(days=1), through))
        days |= changed_days(state.changes_seen_at - LOOKBACK, tz)
        written = build(days, through, tz)
        state.through_day = through
        state.changes_seen_at = now
        state.save()
        return written


# --- Reading the rollups ------------------------------------------------------------------------

# Ranges up to this many days are computed exactly from the metric rows.
EXACT_MAX_DAYS = 31


def state() -> RollupState | None:
    return RollupState.objects.filter(pk=1, through_day__isnull=False).first()


def usable(f: ReportFilters) -> bool:
    """Whether a report reads the rollups: PostgreSQL, longer than ``EXACT_MAX_DAYS``, in the
    rollups' time zone, not filtered by label or contact attribute (the rollups carry neither).
    The same answer for a period and its previous one, so a headline's change compares like
    with like."""
    if connection.vendor != "postgresql" or f.label_id is not None or f.attribute is not None:
        return False
    if (f.last_day - f.first_day).days + 1 <= EXACT_MAX_DAYS:
        return False
    current = state()
    return current is not None and current.time_zone == f.tz.key


@dataclass(frozen=True)
class Split:
    """The days of a report read from the rollups, and the days read from the metric rows."""

    rolled: tuple[date, date] | None
    fresh: tuple[date, date] | None


def split(f: ReportFilters) -> Split:
    through = state().through_day
    last_rolled = min(f.last_day, through)
    first_fresh = max(f.first_day, through + timedelta(days=1))
    return Split(
        rolled=(f.first_day, last_rolled) if last_rolled >= f.first_day else None,
        fresh=(first_fresh, f.last_day) if first_fresh <= f.last_day else None,
    )


def _pieces(first: date, last: date, grains: Sequence[str]) -> dict[str, list[date]]:
    """The rows (grain → first days) that cover the days first..last once each: whole months
    and weeks where ``grains`` allow them, days for the rest."""
    out: dict[str, list[date]] = defaultdict(list)
    day = first
    while day <= last:
        if Grain.MONTH in grains and day.day == 1 and _month_end(day) <= last:
            out[Grain.MONTH].append(day)
            day = _month_end(day) + timedelta(days=1)
        elif Grain.WEEK in grains and day.weekday() == 0 and day + timedelta(days=6) <= last:
            out[Grain.WEEK].append(day)
            day += timedelta(days=7)
        else:
            out[Grain.DAY].append(day)
            day += timedelta(days=1)
    return out


def _where(
    f: ReportFilters, first: date, last: date, grains: Sequence[str], *, every_account=False
) -> tuple[str, list[Any]]:
    pieces = _pieces(first, last, grains)
    spans = " OR ".join("(r.grain = %s AND r.day = ANY(%s))" for _ in pieces)
    clauses, params = [f"({spans})"], [x for item in pieces.items() for x in item]
    if f.agent_id is not None:
        clauses.append("r.agent_id = %s")
        params.append(f.agent_id)
    if every_account:
        # Per-agent rows summed over accounts; the report has no account filter to apply.
        clauses.append("r.account_id IS NULL")
        return " AND ".join(clauses), params
    clauses.append("r.account_id IS NOT NULL")
    if f.account_ids is not None:
        clauses.append("r.account_id = ANY(%s)")
        params.append(list(f.account_ids))
    if f.platform:
        clauses.append("r.platform = %s")
        params.append(f.platform)
    if f.account_id is not None:
        clauses.append("r.account_id = %s")
        params.append(f.account_id)
    if f.team_id is not None:
        clauses.append("r.team_id = %s")
        params.append(f.team_id)
    return " AND ".join(clauses), params


def _every_account_rows(f: ReportFilters) -> bool:
    """Whether the per-agent table may read the rows summed over accounts: no account, platform
    or team filter, and a viewer who sees every account."""
    if f.platform or f.account_id is not None or f.team_id is not None:
        return False
    if f.account_ids is None:
        return True
    return set(f.account_ids) >= set(PlatformAccount.objects.values_list("pk", flat=True))


def _group_sql(by: str | None, f: ReportFilters) -> str:
    if by is None:
        return "0"
    if by == "period":
        if f.group_by == "week":
            return "r.day - (EXTRACT(ISODOW FROM r.day)::int - 1)"  # the Monday
        return "r.day"
    if by == "platform":
        return "r.platform"
    return "COALESCE(r.agent_id, 0)"  # 0 is "no agent", as in queries.agents


def _group_of(by: str | None, f: ReportFilters, key: tuple) -> tuple:
    """The group of a collected row, as :func:`_group_sql` makes it of a stored one."""
    if by is None:
        return ()
    if by == "period":
        day = key[0]
        return (day - timedelta(days=day.weekday()) if f.group_by == "week" else day,)
    if by == "platform":
        return (key[2],)
    return (key[4] or 0,)


def stats(
    f: ReportFilters, source: str, *, by: str | None = None, durations: Iterable[str] = ()
) -> dict[tuple, dict[str, Any]]:
    """``queries.stats`` from the rollups: the counts of ``source`` (openings, resolutions,
    replies, volume) and the median and p90 of each duration, per group (``by``: None, period,
    platform, agent), in the shape ``queries.stats`` returns."""
    durations = list(durations)
    # Per-agent rows for the agent table and for a report filtered by agent.
    agent = by == "agent" or f.agent_id is not None
    table = ReportAgentDay._meta.db_table if agent else ReportDay._meta.db_table
    counts = COUNTS[source]
    histograms = {name: DURATIONS[source][name] for name in durations}
    totals: dict[tuple, Counter] = defaultdict(Counter)
    merged: dict[tuple, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    part = split(f)
    if part.rolled is not None:
        grains: tuple[str, ...] = (Grain.MONTH, Grain.WEEK, Grain.DAY)
        if by == "period":
            # A week or month row cannot be split into days, nor a month into weeks.
            grains = (Grain.WEEK, Grain.DAY) if f.group_by == "week" else (Grain.DAY,)
        # Rows summed over accounts have no platform to group by.
        every_account = agent and by != "platform" and _every_account_rows(f)
        where, params = _where(f, *part.rolled, grains, every_account=every_account)
        group = _group_sql(by, f)
        sums = ", ".join(f"SUM(r.{name})" for name in counts)
        with connection.cursor() as cursor:
            # Only column names of our own and placeholders go into the text.
            sql = f"SELECT {group} AS g, {sums} FROM {table} r WHERE {where} GROUP BY g"  # noqa: S608
            cursor.execute(sql, params)
            for g, *values in cursor.fetchall():
                key = () if by is None else (g,)
                totals[key].update(dict(zip(counts, (v or 0 for v in values), strict=True)))
            if histograms:
                # One aggregate over every histogram asked for; unnest in the select list (no
                # function scan per row) zips each row's buckets with their counts.
                union = " UNION ALL ".join(
                    f"SELECT {i} AS h, {group} AS g, unnest(r.{column}_buckets) AS b, "  # noqa: S608
                    f"unnest(r.{column}_counts) AS n FROM {table} r WHERE {where}"
                    for i, column in enumerate(histograms.values())
                )
                # The planner guesses ten buckets per row (there are hundreds) and would sort
                # them all to group; a hash is 3x faster. For this query only (set_config(...,
                # true) lasts to the end of the transaction, so it is set back after).
                cursor.execute("SELECT set_config('enable_sort', 'off', true)")
                cursor.execute(
                    f"SELECT h, g, b, SUM(n) FROM ({union}) x GROUP BY h, g, b",  # noqa: S608
                    params * len(histograms),
                )
                rows = cursor.fetchall()
                cursor.execute("SELECT set_config('enable_sort', 'on', true)")
                names = list(histograms)
                for i, g, bucket, n in rows:
                    key = () if by is None else (g,)
                    merged[key][names[i]][bucket] += n
    if part.fresh is not None:
        collected = collect(*part.fresh, f.tz, f, frozenset((source,)))
        rows = collected.agents if agent else collected.days
        for row_key, row in rows.items():
            key = _group_of(by, f, row_key)
            totals[key].update({name: row.counts[name] for name in counts})
            for name, column in histograms.items():
                merged[key][name].update(row.histograms[column])
    if by is None:
        totals.setdefault((), Counter())
    result: dict[tuple, dict[str, Any]] = {}
    main = MAIN_COUNT.get(source)
    for key, total in totals.items():
        if by is not None and main and not total[main]:
            continue
        entry: dict[str, Any] = {name: total[name] for name in counts}
        for name in durations:
            entry[f"{name}_p50"], entry[f"{name}_p90"] = percentiles(merged[key][name], (0.5, 0.9))
        result[key] = entry
    return result


def heat(f: ReportFilters) -> dict[tuple[int, int], tuple[int, int]]:
    """Messages in and out per (local weekday, 0 = Monday; local hour) of the period."""
    cells: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    part = split(f)
    agent = f.agent_id is not None
    table = ReportAgentDay._meta.db_table if agent else ReportDay._meta.db_table
    if part.rolled is not None:
        every_account = agent and _every_account_rows(f)
        where, params = _where(f, *part.rolled, (Grain.DAY,), every_account=every_account)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXTRACT(ISODOW FROM r.day)::int - 1, u.h - 1, SUM(u.i), SUM(u.o) "  # noqa: S608
                f"FROM {table} r CROSS JOIN LATERAL "
                "unnest(r.hourly_in, r.hourly_out) WITH ORDINALITY AS u(i, o, h) "
                f"WHERE {where} GROUP BY 1, 2",
                params,
            )
            for weekday, hour, inbound, outbound in cursor.fetchall():
                cells[(weekday, hour)][0] += inbound or 0
                cells[(weekday, hour)][1] += outbound or 0
    if part.fresh is not None:
        collected = collect(*part.fresh, f.tz, f, frozenset(("volume",)))
        for key, row in (collected.agents if agent else collected.days).items():
            weekday = key[0].weekday()
            for hour in range(24):
                cells[(weekday, hour)][0] += row.hourly_in[hour]
                cells[(weekday, hour)][1] += row.hourly_out[hour]
    return {key: (inbound, outbound) for key, (inbound, outbound) in cells.items()}
