"""Snooze choices in the agent's own time zone: "Tomorrow 9:00" means 9:00 where the agent is.

Wall-clock presets are computed on the local calendar (so 9:00 stays 9:00 across a DST change);
"In 1 hour" is an hour of real time. Two presets that land on the same instant (Sunday's
"Tomorrow" and "Next Monday", Monday's "Next Monday" and "In a week", 17:00's "In 1 hour" and
"This evening") are offered once, under the first label.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.translation import gettext

MORNING = time(9, 0)
EVENING = time(18, 0)
# "This evening" is offered only while it is at least this far away.
EVENING_MIN_AHEAD = timedelta(minutes=30)


def _at(day: datetime, clock: time, zone: ZoneInfo) -> datetime:
    """That local day at that wall-clock time, as an instant."""
    return datetime.combine(day.date(), clock, tzinfo=zone).astimezone(UTC)


def _choices(zone: ZoneInfo, now: datetime) -> list[tuple[str, str, datetime]]:
    now = now.astimezone(zone)
    tomorrow = now + timedelta(days=1)
    monday = now + timedelta(days=(7 - now.weekday()) or 7)
    week = now + timedelta(days=7)
    choices = [("1h", gettext("In 1 hour"), now.astimezone(UTC) + timedelta(hours=1))]
    evening = _at(now, EVENING, zone)
    if evening > now + EVENING_MIN_AHEAD:
        choices.append(("evening", gettext("This evening 18:00"), evening))

    # Day and month names in the agent's language ("Tomorrow Tue 9:00", "Mañana mar 9:00").
    def day(d: datetime) -> dict[str, object]:
        return {
            "weekday": WEEKDAYS_ABBR[d.weekday()],
            "month": str(MONTHS_3[d.month]).capitalize(),
            "day": d.day,
        }

    return choices + [
        (
            "tomorrow",
            gettext("Tomorrow %(weekday)s 9:00") % day(tomorrow),
            _at(tomorrow, MORNING, zone),
        ),
        (
            "monday",
            gettext("Next Monday %(month)s %(day)s 9:00") % day(monday),
            _at(monday, MORNING, zone),
        ),
        (
            "week",
            gettext("In a week %(weekday)s %(month)s %(day)s 9:00") % day(week),
            _at(week, MORNING, zone),
        ),
    ]


def presets(zone: ZoneInfo, now: datetime | None = None) -> list[tuple[str, str, datetime]]:
    """(key, label, when) choices, soonest first, no time twice (to the minute, as shown)."""
    offered: set[datetime] = set()
    unique = []
    for key, label, when in _choices(zone, now or timezone.now()):
        minute = when.replace(second=0, microsecond=0)
        if minute not in offered:
            offered.add(minute)
            unique.append((key, label, when))
    return unique


def until(preset: str, custom: str, zone: ZoneInfo, now: datetime | None = None) -> datetime:
    """When a snooze ends: a preset's time, or a custom local time (a ``datetime-local`` value
    is wall-clock time in the agent's zone)."""
    now = now or timezone.now()
    # Every preset, even one hidden as a duplicate: a page loaded before midnight still works.
    for key, _, when in _choices(zone, now):
        if key == preset:
            return when
    if custom:
        parsed = parse_datetime(custom)
        if parsed is not None:
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed, zone)
            if parsed <= now:
                raise ValueError(gettext("Snooze until a time in the future."))
            return parsed
    raise ValueError(gettext("Choose when the conversation should come back."))
