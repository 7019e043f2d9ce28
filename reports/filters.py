"""What a report covers: its period, time zone and the dimensions it is limited to.

Both the live queries (``reports.queries``) and the daily rollups
(``reports.rollups``) scope their rows with these, so it sits below both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from contacts import attributes

# The default period.
DEFAULT_PRESET = "7d"


@dataclass(frozen=True)
class ReportFilters:
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware
    tz: ZoneInfo
    group_by: str = "day"
    preset: str = DEFAULT_PRESET
    platform: str | None = None
    account_id: int | None = None
    team_id: int | None = None
    agent_id: int | None = None
    label_id: int | None = None
    # A custom contact attribute: its key and type, and the value as stored (None: any value).
    attribute: str | None = None
    attribute_type: str = ""
    attribute_value: Any = None
    # The accounts the viewer may see; None: every account (admins).
    account_ids: tuple[int, ...] | None = None

    def previous(self) -> ReportFilters:
        """The period of the same length just before this one: as many local days, when the
        period is whole days (a change of daylight saving time makes a day 23 or 25 hours)."""
        days = (self.last_day - self.first_day).days + 1
        start = datetime.combine(self.first_day - timedelta(days=days), time.min, tzinfo=self.tz)
        if self.start != datetime.combine(self.first_day, time.min, tzinfo=self.tz):
            start = self.start - (self.end - self.start)
        return replace(self, start=start, end=self.start)

    @property
    def first_day(self) -> date:
        return self.start.astimezone(self.tz).date()

    @property
    def last_day(self) -> date:
        return (self.end.astimezone(self.tz) - timedelta(microseconds=1)).date()

    def as_params(self) -> dict[str, str]:
        """Query parameters that give these filters back (links, CSV exports)."""
        params = {
            "range": self.preset,
            "group": self.group_by,
            "tz": self.tz.key,
        }
        if self.preset == "custom":
            params["from"] = self.first_day.isoformat()
            params["to"] = self.last_day.isoformat()
        for name in ("platform", "account_id", "team_id", "agent_id", "label_id"):
            value = getattr(self, name)
            if value is not None:
                params[name.removesuffix("_id")] = str(value)
        if self.attribute is not None:
            params["attribute"] = self.attribute
            if self.attribute_value is not None:
                params["attribute_value"] = attributes.as_text(self.attribute_value)
        return params


def organisation_time_zone() -> str:
    return getattr(settings, "ORGANISATION_TIME_ZONE", None) or settings.TIME_ZONE


def dimensions(qs: QuerySet, f: ReportFilters, *, agent_field: str = "agent_id") -> QuerySet:
    """``qs`` limited to the accounts, platform, team, agent, label and contact attribute of
    ``f``."""
    if f.account_ids is not None:
        qs = qs.filter(account_id__in=f.account_ids)
    if f.platform:
        qs = qs.filter(platform=f.platform)
    if f.account_id is not None:
        qs = qs.filter(account_id=f.account_id)
    if f.team_id is not None:
        qs = qs.filter(team_id=f.team_id)
    if f.agent_id is not None:
        qs = qs.filter(**{agent_field: f.agent_id})
    if f.label_id is not None:
        qs = qs.filter(conversation__labels=f.label_id)
    if f.attribute is not None:
        qs = qs.filter(
            attributes.matching(
                "conversation__contact__attributes",
                f.attribute,
                f.attribute_type,
                f.attribute_value,
            )
        )
    return qs
