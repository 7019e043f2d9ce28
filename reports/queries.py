"""Report aggregation over the metric rows (``ConversationMetric``, ``ReplyMetric``,
``VolumeHour``); the page, the CSV exports and the API all read these functions.

Which instant places a row in a period (docs/metrics.md): an opening by when it opened (first
response, SLA, conversations opened), a resolution by when it was resolved, a reply by when it
was sent, a message by its hour. Medians and p90 are PostgreSQL's ``percentile_cont`` (linear
interpolation); elsewhere (SQLite) the same interpolation is computed in Python.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Count,
    FloatField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from contacts import attributes
from contacts.models import AttributeDefinition
from inbox.access import visible_account_ids
from inbox.models import Label, Message, Platform, PlatformAccount, Team, User
from reports import rollups
from reports.filters import (
    DEFAULT_PRESET,
    ReportFilters,
    dimensions,
    organisation_time_zone,
)
from reports.models import ConversationMetric, ReplyMetric, VolumeHour

PRESETS = {
    "today": gettext_lazy("Today"),
    "7d": gettext_lazy("Last 7 days"),
    "30d": gettext_lazy("Last 30 days"),
    "month": gettext_lazy("This month"),
    "custom": gettext_lazy("Custom"),
}
GROUPS = ("hour", "day", "week")
# Periods of up to this many days are shown hour by hour (a day or two as one or two points
# says nothing); longer ones by day or week.
HOURLY_MAX_DAYS = 2
# A chart needs at least this many periods with figures to show a trend: with one it would draw
# a lone spike, so the page says there is too little data instead.
MIN_CHART_POINTS = 2
# Sort memory for one report's queries (PostgreSQL); see report_session().
WORK_MEM = "128MB"
# Longest range a report may cover (keeps every query bounded).
MAX_DAYS = 366 * 2


class BadFilter(ValueError):
    """A report parameter that cannot be used; its message is shown to the user."""


def _int(params, name: str) -> int | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise BadFilter(f"{name} must be a number, not {value!r}") from None


def _date(params, name: str) -> date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadFilter(f"{name} must be a date like 2026-01-31, not {value!r}") from None


def _attribute(params) -> tuple[str, str, Any] | None:
    """(key, type, value as stored) of the ``attribute``/``attribute_value`` filter; an empty
    value means "has the attribute"."""
    key = (params.get("attribute") or "").strip()
    raw = (params.get("attribute_value") or "").strip()
    if not key:
        if raw:
            raise BadFilter(gettext("attribute_value: choose an attribute too"))
        return None
    definition = AttributeDefinition.objects.filter(key=key[:50]).first()
    if definition is None:
        raise BadFilter(
            gettext("attribute: no contact attribute has the key %(key)s") % {"key": key[:50]}
        )
    try:
        value = attributes.clean_value(definition, raw)
    except attributes.InvalidAttribute as invalid:
        raise BadFilter(f"attribute_value: {invalid.detail}") from None
    return definition.key, definition.type, value


def parse_filters(params, user: User, *, now: datetime | None = None) -> ReportFilters:
    """Filters from query parameters: ``range`` (today, 7d, 30d, month, custom with ``from`` and
    ``to`` dates; the last 7 days by default), ``group`` (day, week; hour, which periods of up
    to ``HOURLY_MAX_DAYS`` days always use), ``tz``, ``platform``, ``account``, ``team``, ``agent``,
    ``label``, ``attribute`` with ``attribute_value`` (a custom contact attribute). Raises
    BadFilter with a readable message."""
    tz_name = (params.get("tz") or "").strip() or organisation_time_zone()
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadFilter(f"tz: unknown time zone {tz_name!r}") from None
    preset = (params.get("range") or DEFAULT_PRESET).strip()
    if preset not in PRESETS:
        raise BadFilter(f"range must be one of {', '.join(PRESETS)}")
    group_by = (params.get("group") or "day").strip()
    if group_by not in GROUPS:
        raise BadFilter("group must be one of hour, day, week")
    today = (now or timezone.now()).astimezone(tz).date()
    if preset == "today":
        first, last = today, today
    elif preset == "7d":
        first, last = today - timedelta(days=6), today
    elif preset == "30d":
        first, last = today - timedelta(days=29), today
    elif preset == "month":
        first, last = today.replace(day=1), today
    else:
        first, last = _date(params, "from"), _date(params, "to")
        if first is None or last is None:
            raise BadFilter("a custom range needs from and to dates")
        if last < first:
            raise BadFilter("the range ends before it starts")
        if (last - first).days >= MAX_DAYS:
            raise BadFilter(f"a range covers at most {MAX_DAYS} days")
    if (last - first).days + 1 <= HOURLY_MAX_DAYS:
        group_by = "hour"
    elif group_by == "hour":
        raise BadFilter(f"group by hour covers periods of at most {HOURLY_MAX_DAYS} days")
    platform = (params.get("platform") or "").strip() or None
    if platform is not None and platform not in Platform.values:
        raise BadFilter(f"platform must be one of {', '.join(Platform.values)}, not {platform!r}")
    attribute, attribute_type, attribute_value = _attribute(params) or (None, "", None)
    return ReportFilters(
        start=datetime.combine(first, time.min, tzinfo=tz),
        end=datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
        tz=tz,
        group_by=group_by,
        preset=preset,
        platform=platform,
        account_id=_int(params, "account"),
        team_id=_int(params, "team"),
        agent_id=_int(params, "agent"),
        label_id=_int(params, "label"),
        attribute=attribute,
        attribute_type=attribute_type,
        attribute_value=attribute_value,
        account_ids=None if user.is_admin else tuple(visible_account_ids(user)),
    )


# --- Base row sets ------------------------------------------------------------------------------


def openings(f: ReportFilters) -> QuerySet[ConversationMetric]:
    """Openings that began in the period."""
    qs = ConversationMetric.objects.filter(opened_at__gte=f.start, opened_at__lt=f.end)
    return dimensions(qs, f)


def resolutions(f: ReportFilters) -> QuerySet[ConversationMetric]:
    """Openings resolved in the period."""
    qs = ConversationMetric.objects.filter(resolved_at__gte=f.start, resolved_at__lt=f.end)
    return dimensions(qs, f)


def replies(f: ReportFilters, sender_kind: str = Message.SenderKind.AGENT) -> QuerySet:
    """Answered waits whose reply was sent in the period (by humans, or by the bot)."""
    qs = ReplyMetric.objects.filter(
        replied_at__gte=f.start, replied_at__lt=f.end, sender_kind=sender_kind
    )
    return dimensions(qs, f)


def volume(f: ReportFilters) -> QuerySet[VolumeHour]:
    qs = VolumeHour.objects.filter(hour__gte=f.start, hour__lt=f.end)
    return dimensions(qs, f)


# --- Percentiles --------------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL ``percentile_cont(ARRAY[...]) WITHIN GROUP (ORDER BY x)``: one sort for the
    median and the p90 together."""

    function = "percentile_cont"
    template = "%(function)s(%(fractions)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, fractions: Sequence[float], **extra):
        literal = "ARRAY[" + ",".join(repr(float(p)) for p in fractions) + "]::float8[]"
        super().__init__(
            expression,
            fractions=literal,
            output_field=ArrayField(FloatField()),
            **extra,
        )


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """``percentile_cont`` in Python: linear interpolation between the two nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


FRACTIONS = (0.5, 0.9)


def _use_postgres() -> bool:
    return connection.vendor == "postgresql"


def stats(
    qs: QuerySet,
    *,
    group: Sequence[str | tuple[str, Any]] = (),
    counts: dict[str, Any] | None = None,
    durations: Iterable[str] = (),
) -> dict[tuple, dict[str, Any]]:
    """Counts and sums (``counts``: name → aggregate) and the median / p90 of each duration
    field, per group. ``group`` items are field names or (alias, expression) pairs. Returns
    {group key tuple: {name: value, "<field>_p50": ..., "<field>_p90": ...}}."""
    durations = list(durations)
    aliases = {}
    names = []
    for item in group:
        if isinstance(item, tuple):
            aliases[item[0]] = item[1]
            names.append(item[0])
        else:
            names.append(item)
    if aliases:
        qs = qs.annotate(**aliases)
    base = qs.values(*names) if names else qs
    aggregates = dict(counts or {})
    postgres = _use_postgres()
    if postgres:
        for name in durations:
            aggregates[f"{name}__pct"] = PercentileCont(name, FRACTIONS)
    rows = list(base.annotate(**aggregates)) if names else [base.aggregate(**aggregates)]
    result: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[n] for n in names)
        entry = {k: v for k, v in row.items() if k not in names}
        for name in durations:
            pct = entry.pop(f"{name}__pct", None) if postgres else None
            entry[f"{name}_p50"], entry[f"{name}_p90"] = (pct or [None, None])[:2]
        result[key] = entry
    if not postgres and durations:
        values: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for row in qs.values_list(*names, *durations):
            key = tuple(row[: len(names)])
            for name, value in zip(durations, row[len(names) :], strict=True):
                if value is not None:
                    values[key][name].append(value)
        for key, entry in result.items():
            for name in durations:
                entry[f"{name}_p50"] = percentile(values[key][name], 0.5)
                entry[f"{name}_p90"] = percentile(values[key][name], 0.9)
    return result


def _flag_counts(prefix: str, field: str) -> dict[str, Any]:
    return {
        f"{prefix}_met_count": Count("pk", filter=Q(**{field: True})),
        f"{prefix}_known_count": Count("pk", filter=Q(**{f"{field}__isnull": False})),
    }


OPENING_COUNTS = {
    "opened": Count("*"),
    "answered": Count("pk", filter=Q(first_response_at__isnull=False)),
    "bot_answered": Count("pk", filter=Q(bot_first_response_at__isnull=False)),
    "sla_breaches": Sum("sla_breaches"),
    **_flag_counts("sla", "sla_met"),
    **_flag_counts("sla_first_response", "sla_first_response_met"),
    **_flag_counts("sla_next_response", "sla_next_response_met"),
    **_flag_counts("sla_resolution", "sla_resolution_met"),
}
OPENING_DURATIONS = (
    "first_response_seconds",
    "first_response_business_seconds",
    "bot_first_response_seconds",
)
RESOLUTION_COUNTS = {
    "resolved": Count("*"),
    "bot_deflected": Count("pk", filter=Q(bot_deflected=True)),
}
RESOLUTION_DURATIONS = ("resolution_seconds", "resolution_business_seconds")
REPLY_COUNTS = {"replies": Count("*")}
REPLY_DURATIONS = ("seconds", "business_seconds")
VOLUME_COUNTS = {"messages_in": Sum("messages_in"), "messages_out": Sum("messages_out")}


def _rate(part: int | None, whole: int | None) -> float | None:
    return round(100.0 * (part or 0) / whole, 1) if whole else None


def _finish(entry: dict[str, Any]) -> dict[str, Any]:
    """Derived figures: SLA compliance rates and bot deflection."""
    for prefix in ("sla", "sla_first_response", "sla_next_response", "sla_resolution"):
        if f"{prefix}_met_count" in entry:
            entry[f"{prefix}_compliance"] = _rate(
                entry[f"{prefix}_met_count"], entry[f"{prefix}_known_count"]
            )
    if "bot_deflected" in entry:
        entry["bot_deflection_rate"] = _rate(entry["bot_deflected"], entry.get("resolved"))
    for key in ("sla_breaches", "messages_in", "messages_out"):
        if key in entry and entry[key] is None:
            entry[key] = 0
    return entry


# --- The report's parts -------------------------------------------------------------------------


def source_stats(
    f: ReportFilters, source: str, *, by: str | None = None, durations: Iterable[str] = ()
) -> dict[tuple, dict[str, Any]]:
    """Counts and percentiles of one source — openings, resolutions, (human) replies, volume —
    per group (``by``: None, "period" (day or week), "platform", "agent"): exact from the metric
    rows, or from the daily rollups for the long ranges they serve (``rollups.usable``)."""
    if rollups.usable(f):
        return rollups.stats(f, source, by=by, durations=durations)
    qs, counts = {
        "openings": (openings, OPENING_COUNTS),
        "resolutions": (resolutions, RESOLUTION_COUNTS),
        "replies": (replies, REPLY_COUNTS),
        "volume": (volume, VOLUME_COUNTS),
    }[source]
    field = {"openings": "opened_at", "resolutions": "resolved_at", "replies": "replied_at"}
    group: list[str | tuple[str, Any]] = {
        None: [],
        "period": [("bucket", _bucket(field.get(source, "hour"), f))],
        "platform": ["platform"],
        "agent": [("agent_key", _AGENT_KEY)],
    }[by]
    return stats(qs(f), group=group, counts=counts, durations=durations)


def _reply_names(entry: dict[str, Any]) -> dict[str, Any]:
    """Reply figures under the names the page uses (seconds_p50 → reply_seconds_p50)."""
    return {f"reply_{k}" if not k.startswith("repl") else k: v for k, v in entry.items()}


def summary(f: ReportFilters) -> dict[str, Any]:
    """Headline figures of the period."""
    entry: dict[str, Any] = {}
    entry.update(source_stats(f, "openings", durations=OPENING_DURATIONS).get((), {}))
    entry.update(source_stats(f, "resolutions", durations=RESOLUTION_DURATIONS).get((), {}))
    entry.update(_reply_names(source_stats(f, "replies", durations=REPLY_DURATIONS).get((), {})))
    if rollups.usable(f):
        entry.update(rollups.stats(f, "volume")[()])
    else:
        entry.update(volume(f).aggregate(**VOLUME_COUNTS))
    return _finish(entry)


# Headline figures shown with their change against the previous period.
HEADLINES = (
    ("opened", gettext_lazy("Conversations opened"), "count"),
    ("resolved", gettext_lazy("Resolved"), "count"),
    ("first_response_seconds_p50", gettext_lazy("First response (median)"), "duration"),
    ("first_response_seconds_p90", gettext_lazy("First response (p90)"), "duration"),
    (
        "first_response_business_seconds_p50",
        gettext_lazy("First response, business hours (median)"),
        "duration",
    ),
    ("reply_seconds_p50", gettext_lazy("Reply time (median)"), "duration"),
    ("reply_seconds_p90", gettext_lazy("Reply time (p90)"), "duration"),
    ("resolution_seconds_p50", gettext_lazy("Resolution (median)"), "duration"),
    ("resolution_seconds_p90", gettext_lazy("Resolution (p90)"), "duration"),
    ("sla_compliance", gettext_lazy("SLA compliance"), "percent"),
    ("sla_breaches", gettext_lazy("SLA breaches"), "count"),
    ("bot_deflection_rate", gettext_lazy("Bot deflection"), "percent"),
    ("messages_in", gettext_lazy("Messages in"), "count"),
    ("messages_out", gettext_lazy("Messages out"), "count"),
)


# Business-hours figures and their wall-clock counterparts: 0 s of business time for a wait that
# took real time means the wait fell outside business hours (a weekend, a night).
BUSINESS_FIGURES = {"first_response_business_seconds_p50": "first_response_seconds_p50"}


def outside_business_hours(entry: dict[str, Any], key: str) -> bool:
    """Whether a business-hours figure of ``entry`` is 0 only because the time was closed."""
    wall = BUSINESS_FIGURES.get(key)
    return wall is not None and entry.get(key) == 0 and (entry.get(wall) or 0) > 0


def headline(
    f: ReportFilters,
    current: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """This period's summary, the previous period's, and each headline's change in percent
    (from summaries already computed, when given)."""
    current = summary(f) if current is None else current
    previous = summary(f.previous()) if previous is None else previous
    figures = []
    for key, label, kind in HEADLINES:
        now_value, before = current.get(key), previous.get(key)
        change = None
        if now_value is not None and before:
            change = round(100.0 * (now_value - before) / before, 1)
        figures.append(
            {
                "key": key,
                "label": label,
                "kind": kind,
                "value": now_value,
                "previous": before,
                "change_percent": change,
                "outside_business_hours": outside_business_hours(current, key),
            }
        )
    return {"current": current, "previous": previous, "figures": figures}


def _bucket(field: str, f: ReportFilters):
    return Trunc(
        field, f.group_by, output_field=ConversationMetric._meta.get_field("opened_at"), tzinfo=f.tz
    )


def _periods(f: ReportFilters) -> list[date | datetime]:
    """Every hour, day or week start (Monday) of the period, so empty ones still show. Hours
    are local and naive (what :func:`_period_key` gives back)."""
    if f.group_by == "hour":
        hour = f.start.astimezone(f.tz).replace(tzinfo=None)
        end = f.end.astimezone(f.tz).replace(tzinfo=None)
        hours = []
        while hour < end:
            hours.append(hour)
            hour += timedelta(hours=1)
        return hours
    day = f.first_day
    if f.group_by == "week":
        day -= timedelta(days=day.weekday())
    step = timedelta(days=7 if f.group_by == "week" else 1)
    out = []
    while day <= f.last_day:
        out.append(day)
        day += step
    return out


def _period_key(value, f: ReportFilters) -> date | datetime | None:
    """A bucket as the series keys it: a local date, or a naive local hour when by hour."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # PostgreSQL; SQLite hands back local naive values
            value = value.astimezone(f.tz)
        if f.group_by == "hour":
            return value.replace(tzinfo=None, minute=0, second=0, microsecond=0)
        return value.date()
    return value


def _period_label(period: date | datetime) -> str:
    """ "2026-11-02", or "2026-11-02 10:00" for an hour."""
    if isinstance(period, datetime):
        return f"{period:%Y-%m-%d %H:%M}"
    return period.isoformat()


def series(f: ReportFilters) -> list[dict[str, Any]]:
    """Per hour, day or week: volume, first response, reply and resolution times, SLA
    compliance."""
    # Only the durations the series shows (SERIES_COLUMNS): each is a sort per period.
    parts = [
        source_stats(
            f,
            "openings",
            by="period",
            durations=("first_response_seconds", "first_response_business_seconds"),
        ),
        source_stats(f, "resolutions", by="period", durations=("resolution_seconds",)),
        {
            key: _reply_names(entry)
            for key, entry in source_stats(
                f, "replies", by="period", durations=("seconds",)
            ).items()
        },
    ]
    by_day: dict[date | datetime, dict[str, Any]] = defaultdict(dict)
    for part in parts:
        for (bucket,), entry in part.items():
            by_day[_period_key(bucket, f)].update(entry)
    for day, (inbound, outbound) in volume_by_period(f).items():
        entry = by_day[day]
        entry["messages_in"] = entry.get("messages_in", 0) + inbound
        entry["messages_out"] = entry.get("messages_out", 0) + outbound
    rows = []
    for day in _periods(f):
        entry = by_day.get(day, {})
        row = {"period": _period_label(day)}
        for key in SERIES_COLUMNS[1:]:
            row[key] = entry.get(key)
        for key in ("opened", "resolved", "replies", "messages_in", "messages_out", "sla_breaches"):
            row[key] = row[key] or 0
        rows.append(_finish_series(row, entry))
    return rows


SERIES_COLUMNS = (
    "period",
    "opened",
    "resolved",
    "messages_in",
    "messages_out",
    "first_response_seconds_p50",
    "first_response_seconds_p90",
    "first_response_business_seconds_p50",
    "reply_seconds_p50",
    "reply_seconds_p90",
    "resolution_seconds_p50",
    "resolution_seconds_p90",
    "replies",
    "sla_breaches",
    "sla_compliance",
    "bot_deflection_rate",
)


# The figures each chart of the page draws from the series.
RESPONSE_CHART = (
    "first_response_seconds_p50",
    "first_response_seconds_p90",
    "reply_seconds_p50",
    "resolution_seconds_p50",
)
VOLUME_CHART = ("messages_in", "messages_out", "opened", "resolved")


def drawable(rows: Iterable[dict[str, Any]], keys: Sequence[str]) -> bool:
    """Whether a chart of ``keys`` has figures in at least ``MIN_CHART_POINTS`` periods."""
    points = sum(1 for row in rows if any(row.get(key) not in (None, 0) for key in keys))
    return points >= MIN_CHART_POINTS


def _finish_series(row: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    finished = _finish(dict(entry))
    row["sla_compliance"] = finished.get("sla_compliance")
    row["bot_deflection_rate"] = finished.get("bot_deflection_rate")
    return row


def volume_by_hour(f: ReportFilters) -> dict[datetime, tuple[int, int]]:
    """Messages in and out per UTC hour of the period (at most 24 × days rows): placing hours
    in local days and weekdays is cheaper here than converting every row in SQL."""
    rows = (
        volume(f)
        .values("hour")
        .annotate(inbound=Sum("messages_in"), outbound=Sum("messages_out"))
        .values_list("hour", "inbound", "outbound")
    )
    return {hour: (inbound or 0, outbound or 0) for hour, inbound, outbound in rows}


def volume_by_period(f: ReportFilters) -> dict[date | datetime, tuple[int, int]]:
    """Messages in and out per local hour, day or week (by its Monday)."""
    if rollups.usable(f):
        return {
            day: (entry["messages_in"], entry["messages_out"])
            for (day,), entry in rollups.stats(f, "volume", by="period").items()
        }
    out: dict[date | datetime, tuple[int, int]] = {}
    for hour, (inbound, outbound) in volume_by_hour(f).items():
        day = _period_key(hour, f)
        if f.group_by == "week":
            day -= timedelta(days=day.weekday())
        before = out.get(day, (0, 0))
        out[day] = (before[0] + inbound, before[1] + outbound)
    return out


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def heatmap(f: ReportFilters) -> dict[str, Any]:
    """Messages by local weekday (1 = Monday) × hour of day. Hour rows are UTC hours placed at
    the local hour their start falls in (exact for whole-hour offsets)."""
    grid = [[{"in": 0, "out": 0} for _ in range(24)] for _ in range(7)]
    if rollups.usable(f):
        cells = rollups.heat(f)
    else:
        cells = defaultdict(lambda: (0, 0))
        for hour, (inbound, outbound) in volume_by_hour(f).items():
            local = hour.astimezone(f.tz)
            before = cells[(local.weekday(), local.hour)]
            cells[(local.weekday(), local.hour)] = (before[0] + inbound, before[1] + outbound)
    for (weekday, hour), (inbound, outbound) in cells.items():
        grid[weekday][hour]["in"] += inbound
        grid[weekday][hour]["out"] += outbound
    peak = max((cell["in"] + cell["out"] for row in grid for cell in row), default=0)
    return {"weekdays": list(WEEKDAYS), "grid": grid, "peak": peak}


AGENT_COLUMNS = (
    "agent_id",
    "agent",
    "handled",
    "first_response_seconds_p50",
    "first_response_seconds_p90",
    "resolved",
    "resolution_seconds_p50",
    "sla_compliance",
    "sla_breaches",
)


# Grouping by an expression rather than the column: with the agent_id index available,
# PostgreSQL walks a year of rows in agent order through the index (random heap reads, 10x
# slower than a sequential scan and a sort). 0 stands for "no agent".
_AGENT_KEY = Coalesce("agent_id", Value(0))


def agents(f: ReportFilters) -> list[dict[str, Any]]:
    """Per credited agent: openings handled (opened in the period), median first response,
    resolutions and their median, SLA compliance. Openings no agent was credited with are
    the "Unassigned" row."""
    opened = source_stats(f, "openings", by="agent", durations=("first_response_seconds",))
    resolved = source_stats(f, "resolutions", by="agent", durations=("resolution_seconds",))
    ids = {key[0] for key in (*opened, *resolved)}
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=[i for i in ids if i])}
    rows = []
    for agent_id in ids:
        entry = {**opened.get((agent_id,), {}), **resolved.get((agent_id,), {})}
        entry = _finish(entry)
        rows.append(
            {
                "agent_id": agent_id or None,
                "agent": names.get(agent_id, "Unassigned") if agent_id else "Unassigned",
                "handled": entry.get("opened", 0),
                "first_response_seconds_p50": entry.get("first_response_seconds_p50"),
                "first_response_seconds_p90": entry.get("first_response_seconds_p90"),
                "resolved": entry.get("resolved", 0),
                "resolution_seconds_p50": entry.get("resolution_seconds_p50"),
                "sla_compliance": entry.get("sla_compliance"),
                "sla_breaches": entry.get("sla_breaches", 0),
            }
        )
    rows.sort(key=lambda r: (-r["handled"], r["agent"]))
    return rows


PLATFORM_COLUMNS = (
    "platform",
    "opened",
    "resolved",
    "messages_in",
    "messages_out",
    "first_response_seconds_p50",
    "first_response_seconds_p90",
    "reply_seconds_p50",
    "resolution_seconds_p50",
    "sla_compliance",
    "bot_deflection_rate",
)


def platforms(f: ReportFilters) -> list[dict[str, Any]]:
    """Per platform: the same figures as the headline."""
    parts = [
        source_stats(f, "openings", by="platform", durations=("first_response_seconds",)),
        source_stats(f, "resolutions", by="platform", durations=("resolution_seconds",)),
        {
            key: {"reply_seconds_p50": entry["seconds_p50"]}
            for key, entry in source_stats(
                f, "replies", by="platform", durations=("seconds",)
            ).items()
        },
        source_stats(f, "volume", by="platform"),
    ]
    merged: dict[str, dict[str, Any]] = defaultdict(dict)
    for part in parts:
        for (platform,), entry in part.items():
            merged[platform].update(entry)
    labels = dict(Platform.choices)
    rows = []
    for platform, entry in sorted(merged.items()):
        entry = _finish(entry)
        row = {key: entry.get(key) for key in PLATFORM_COLUMNS}
        row["platform"] = labels.get(platform, platform)
        for key in ("opened", "resolved", "messages_in", "messages_out"):
            row[key] = row[key] or 0
        rows.append(row)
    return rows


def filter_choices(user: User) -> dict[str, list[Any]]:
    """What the filter menus offer this viewer."""
    accounts = PlatformAccount.objects.all()
    if not user.is_admin:
        accounts = accounts.filter(pk__in=visible_account_ids(user))
    return {
        "platforms": list(Platform.choices),
        "accounts": [(a.pk, str(a)) for a in accounts.order_by("platform", "name")],
        "teams": [(t.pk, t.name) for t in Team.objects.order_by("name")],
        "agents": [
            (u.pk, u.display_name) for u in User.objects.filter(is_active=True).order_by("username")
        ],
        "labels": [(label.pk, label.name) for label in Label.objects.order_by("name")],
        # The admins' contact attributes; choice and yes/no ones offer their values.
        "attributes": [
            {
                "key": d.key,
                "label": d.label,
                "type": d.type,
                "options": attributes.value_options(d),
            }
            for d in AttributeDefinition.objects.all()
        ],
    }


@contextmanager
def report_session() -> Iterator[None]:
    """Run report queries with room to sort: PostgreSQL's default 4 MB work_mem sends a median
    over 10^5+ rows to disk. ``SET LOCAL`` keeps the setting to this transaction."""
    with transaction.atomic():
        if _use_postgres():
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('work_mem', %s, true)", [WORK_MEM])
                # JIT compiles each query for ~0.1 s; these aggregates gain nothing from it.
                cursor.execute("SELECT set_config('jit', 'off', true)")
        yield


# The page's parts run on this many database connections at once (PostgreSQL): the work is
# sorting for percentiles, CPU-bound, and a server has more than one core.
THREADS = 2


def _part(call: Callable[[], Any]) -> Any:
    """One part of the page on this thread's own connection, closed (or returned to the pool)
    when done."""
    try:
        with report_session():
            return call()
    finally:
        connection.close()


def report(f: ReportFilters) -> dict[str, Any]:
    """Everything the page shows. On PostgreSQL, outside a transaction, its parts run in
    parallel on ``THREADS`` connections; otherwise one after the other (SQLite, tests, or a
    caller's transaction, whose uncommitted rows other connections could not see)."""
    parts: dict[str, Callable[[], Any]] = {
        # Longest first, so the two connections finish together.
        "series": lambda: series(f),
        "current": lambda: summary(f),
        "previous": lambda: summary(f.previous()),
        "platforms": lambda: platforms(f),
        "agents": lambda: agents(f),
        "heatmap": lambda: heatmap(f),
    }
    if _use_postgres() and not connection.in_atomic_block and THREADS > 1:
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            futures = {name: pool.submit(_part, call) for name, call in parts.items()}
            results = {name: future.result() for name, future in futures.items()}
    else:
        with report_session():
            results = {name: call() for name, call in parts.items()}
    return {
        "headline": headline(f, results["current"], results["previous"]),
        "series": results["series"],
        "heatmap": results["heatmap"],
        "agents": results["agents"],
        "platforms": results["platforms"],
        # Medians and p90 from the rollups' histograms (within 2 %) rather than exact.
        "approximate": rollups.usable(f),
    }
