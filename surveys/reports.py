"""The CSAT report: the satisfaction score and the response rate of the surveys asked in a
period, per agent, team, platform and hour/day/week, with the comments. Read by the reports
page's CSAT section, its CSV exports and ``GET /api/v1/reports/csat/``.

- A survey belongs to the period in which it was asked (``Survey.asked_at``), so the rate's
  numerator and denominator are the same surveys.
- **sent**: surveys whose question went out (those the platform's rules kept back are counted
  apart as ``not_sent``, by reason).
- **responses**: sent surveys with a rating; **response rate** = responses / sent, in percent.
- **score** (CSAT) = ratings of 4 or 5 / responses, in percent; None without responses.
- Agent: the conversation's assignee when it was resolved, else who resolved it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Trunc
from django.utils.translation import gettext

from inbox.models import Platform, Team, User
from reports.filters import ReportFilters, dimensions
from reports.queries import _period_key, _period_label, _periods
from surveys.models import Survey
from surveys.questions import RATINGS, SATISFIED

# How many of the latest comments the page and the API show (the CSV has them all).
COMMENTS_SHOWN = 50

COUNTS = {
    "sent": Count("pk"),
    "responses": Count("pk", filter=Q(rating__isnull=False)),
    "satisfied": Count("pk", filter=Q(rating__in=SATISFIED)),
}
GROUP_COLUMNS = ("sent", "responses", "response_rate", "satisfied", "score")
AGENT_COLUMNS = ("agent_id", "agent", *GROUP_COLUMNS)
TEAM_COLUMNS = ("team_id", "team", *GROUP_COLUMNS)
PLATFORM_COLUMNS = ("platform", *GROUP_COLUMNS)
SERIES_COLUMNS = ("period", *GROUP_COLUMNS)
COMMENT_COLUMNS = (
    "conversation",
    "asked_at",
    "rating",
    "comment",
    "agent",
    "team",
    "platform",
    "account",
)


def surveys(f: ReportFilters) -> QuerySet[Survey]:
    """Every survey asked in the period (sent or not), within the viewer's accounts."""
    return dimensions(Survey.objects.filter(asked_at__gte=f.start, asked_at__lt=f.end), f)


def sent(f: ReportFilters) -> QuerySet[Survey]:
    return surveys(f).exclude(status=Survey.Status.NOT_SENT)


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _figures(counts: dict[str, Any]) -> dict[str, Any]:
    sent_, responses, satisfied = (counts.get(k) or 0 for k in ("sent", "responses", "satisfied"))
    return {
        "sent": sent_,
        "responses": responses,
        "response_rate": percent(responses, sent_),
        "satisfied": satisfied,
        "score": percent(satisfied, responses),
    }


def _grouped(f: ReportFilters, field: str) -> list[tuple[Any, dict[str, Any]]]:
    rows = sent(f).values(field).annotate(**COUNTS).order_by(field)
    return [(row[field], _figures(row)) for row in rows]


def _named(f: ReportFilters, key: str, model, attribute: str, none: str) -> list[dict[str, Any]]:
    """Figures per agent or team (``key``: ``agent_id``, ``team_id``), named, busiest first."""
    rows = _grouped(f, key)
    ids = {pk for pk, _ in rows} - {None}
    names = {obj.pk: getattr(obj, attribute) for obj in model.objects.filter(pk__in=ids)}
    label = key.removesuffix("_id")
    out = [{key: pk, label: names.get(pk, none), **figures} for pk, figures in rows]
    return sorted(out, key=lambda row: (-row["sent"], str(row[label])))


def by_agent(f: ReportFilters) -> list[dict[str, Any]]:
    return _named(f, "agent_id", User, "display_name", gettext("Unassigned"))


def by_team(f: ReportFilters) -> list[dict[str, Any]]:
    return _named(f, "team_id", Team, "name", gettext("No team"))


def by_platform(f: ReportFilters) -> list[dict[str, Any]]:
    labels = dict(Platform.choices)
    return [{"platform": labels.get(pk, pk), **figures} for pk, figures in _grouped(f, "platform")]


def series(f: ReportFilters) -> list[dict[str, Any]]:
    """Per hour, day or week of the period (every one, empty ones too)."""
    bucket = Trunc(
        "asked_at", f.group_by, output_field=Survey._meta.get_field("asked_at"), tzinfo=f.tz
    )
    found: dict[Any, dict[str, int]] = defaultdict(dict)
    for row in sent(f).annotate(bucket=bucket).values("bucket").annotate(**COUNTS).order_by():
        key = _period_key(row["bucket"], f)
        for name in COUNTS:
            found[key][name] = found[key].get(name, 0) + row[name]
    return [{"period": _period_label(p), **_figures(found.get(p, {}))} for p in _periods(f)]


def comments(f: ReportFilters, *, limit: int | None = COMMENTS_SHOWN) -> list[dict[str, Any]]:
    """The comments of the period, newest first."""
    labels = dict(Platform.choices)
    qs = (
        sent(f)
        .exclude(comment="")
        .select_related("agent", "team", "account")
        .order_by("-asked_at", "-pk")
    )
    if limit is not None:
        qs = qs[:limit]
    return [
        {
            "conversation": s.conversation_id,
            "asked_at": s.asked_at.astimezone(f.tz).isoformat(timespec="minutes"),
            "rating": s.rating,
            "comment": s.comment,
            "agent": s.agent.display_name if s.agent else "",
            "team": s.team.name if s.team else "",
            "platform": labels.get(s.platform, s.platform),
            "account": s.account.name,
        }
        for s in qs
    ]


def all_comments(f: ReportFilters) -> list[dict[str, Any]]:
    return comments(f, limit=None)


def csat(f: ReportFilters) -> dict[str, Any]:
    """Everything the CSAT section shows."""
    totals = _figures(sent(f).aggregate(**COUNTS))
    distribution = dict(
        sent(f).filter(rating__isnull=False).values_list("rating").annotate(n=Count("pk"))
    )
    not_sent = dict(
        surveys(f)
        .filter(status=Survey.Status.NOT_SENT)
        .values_list("reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        **totals,
        "distribution": {str(r): distribution.get(r, 0) for r in RATINGS},
        "not_sent": sum(not_sent.values()),
        "not_sent_reasons": not_sent,
        "by_agent": by_agent(f),
        "by_team": by_team(f),
        "by_platform": by_platform(f),
        "series": series(f),
        "comments": comments(f),
    }
