"""The report's tables by name: what the page shows, the CSV exports and the API serve."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reports import queries
from reports.queries import ReportFilters
from surveys import reports as csat


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: Callable[[ReportFilters], list[dict[str, Any]]]


HEATMAP_COLUMNS = ("weekday", "hour", "messages_in", "messages_out")


def heatmap_rows(f: ReportFilters) -> list[dict[str, Any]]:
    data = queries.heatmap(f)
    return [
        {"weekday": day, "hour": hour, "messages_in": cell["in"], "messages_out": cell["out"]}
        for day, row in zip(data["weekdays"], data["grid"], strict=True)
        for hour, cell in enumerate(row)
    ]


HEADLINE_COLUMNS = ("figure", "label", "value", "previous", "change_percent", "note")


def headline_rows(f: ReportFilters) -> list[dict[str, Any]]:
    """The headline cards: each figure, the previous period's and the change in percent."""
    return [
        {
            "figure": item["key"],
            "label": item["label"],
            "value": item["value"],
            "previous": item["previous"],
            "change_percent": item["change_percent"],
            "note": "outside business hours" if item["outside_business_hours"] else "",
        }
        for item in queries.headline(f)["figures"]
    ]


TABLES = {
    "headline": Table("headline", HEADLINE_COLUMNS, headline_rows),
    "agents": Table("agents", queries.AGENT_COLUMNS, queries.agents),
    "platforms": Table("platforms", queries.PLATFORM_COLUMNS, queries.platforms),
    "series": Table("series", queries.SERIES_COLUMNS, queries.series),
    "heatmap": Table("heatmap", HEATMAP_COLUMNS, heatmap_rows),
    # Satisfaction surveys (``surveys.reports``).
    "csat-series": Table("csat-series", csat.SERIES_COLUMNS, csat.series),
    "csat-agents": Table("csat-agents", csat.AGENT_COLUMNS, csat.by_agent),
    "csat-teams": Table("csat-teams", csat.TEAM_COLUMNS, csat.by_team),
    "csat-platforms": Table("csat-platforms", csat.PLATFORM_COLUMNS, csat.by_platform),
    "csat-comments": Table("csat-comments", csat.COMMENT_COLUMNS, csat.all_comments),
}
