"""The business-hours page's calendar: a month of days, each open, closed, a holiday or a
partial day, read from the same arithmetic the SLA timers and the bot use."""

from __future__ import annotations

import calendar as std_calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from sla import business_hours as bh
from sla.models import BusinessHours


@dataclass(frozen=True)
class Day:
    date: date
    in_month: bool
    # open, closed, holiday, partial
    kind: str
    text: str
    today: bool


@dataclass(frozen=True)
class Month:
    first: date
    weeks: list[list[Day]]

    @property
    def previous(self) -> str:
        return (self.first - timedelta(days=1)).strftime("%Y-%m")

    @property
    def next(self) -> str:
        return (self.first + timedelta(days=32)).strftime("%Y-%m")


def _clock(value) -> str:
    return "24:00" if value is None else value.strftime("%H:%M")


def _intervals(pairs) -> str:
    return ", ".join(f"{_clock(a)}–{_clock(b)}" for a, b in pairs)


def month(hours: BusinessHours, first: date) -> Month:
    schedule = hours.schedule
    named = {
        h.date: h for h in hours.holidays.filter(date__year=first.year, date__month=first.month)
    }
    today = timezone.localdate()
    weeks = []
    for week in std_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month):
        days = []
        for day in week:
            holiday = named.get(day)
            if holiday is not None and holiday.partial:
                kind = "partial"
                text = f"{holiday.name} · {_intervals([(holiday.open_from, holiday.open_until)])}"
            elif day in schedule.holidays:
                kind, text = "holiday", (holiday.name if holiday else "") or _("closed")
            elif schedule.week[day.weekday()]:
                kind, text = "open", _intervals(schedule.week[day.weekday()])
            else:
                kind, text = "closed", _("closed")
            days.append(Day(day, day.month == first.month, kind, text, day == today))
        weeks.append(days)
    return Month(first, weeks)


def open_status(hours: BusinessHours) -> str:
    """ "Open now" or when these hours open next, in their time zone."""
    schedule = hours.schedule
    now = timezone.now()
    if bh.is_open(schedule, now):
        return _("Open now.")
    try:
        opens = bh.next_open(schedule, now).astimezone(schedule.zone)
    except bh.NeverOpen:
        return _("Closed, and never open: add opening hours.")
    return _("Closed now; opens %(when)s.") % {"when": f"{opens:%A %d %B %H:%M} ({opens.tzname()})"}
