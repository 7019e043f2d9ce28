"""Business-hours arithmetic: a weekly schedule in a time zone, with holidays.

This is a stable API, read by the SLA timers, the chatbot's away message and the reports:

- ``Schedule``: an immutable weekly schedule (plain data, no database), built from a
  ``sla.models.BusinessHours`` row with ``schedule_from_model`` (or ``BusinessHours.schedule``).
- ``business_seconds_between(hours, start, end) -> float``: open time between two instants.
- ``add_business_seconds(hours, start, seconds) -> datetime``: the instant when ``seconds`` of
  open time have passed after ``start``.
- ``is_open(hours, at) -> bool`` and ``next_open(hours, at) -> datetime``.
- ``open_intervals(hours, start, end)``: the open intervals overlapping [start, end), in UTC.

``hours=None`` everywhere means "around the clock" (wall-clock time), so callers do not branch.
Instants are aware datetimes; results are in UTC. An interval is open on [opens, closes): a due
time computed with ``add_business_seconds(..., seconds > 0)`` lies in (opens, closes] of some
interval, i.e. never inside closed hours.

Local times are turned into instants with ``zoneinfo``. On DST days an interval simply covers
the real elapsed time: 01:00–05:00 on a spring-forward night is 3 hours, on a fall-back night 5.
A local time that does not exist (inside the spring-forward gap) is read with the offset before
the change, as ``zoneinfo`` does for ``fold=0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.utils.translation import gettext

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far ahead the arithmetic looks for an open interval before deciding there is none
# (a schedule with every day closed, or a holiday list covering years).
HORIZON_DAYS = 3 * 366
MIDNIGHT = time(0, 0)


class NeverOpen(ValueError):
    """The schedule has no open time within the horizon: no due time can be computed."""


def parse_clock(value: str) -> time | None:
    """ "09:30" → time(9, 30); "24:00" → None, meaning the end of the day."""
    hours, _, minutes = value.strip().partition(":")
    h, m = int(hours), int(minutes or 0)
    if (h, m) == (24, 0):
        return None
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(gettext("not a time of day: %(value)r") % {"value": value})
    return time(h, m)


@dataclass(frozen=True)
class Schedule:
    """Opening hours: ``week[d]`` lists (opens, closes) local times for weekday d (Monday 0);
    closes ``None`` means midnight at the end of the day. ``holidays`` are local dates closed
    all day; ``partial_days`` are (date, opens, closes): dates open only then (Christmas Eve
    until 13:00), whatever the weekday's usual hours."""

    time_zone: str = "UTC"
    week: tuple[tuple[tuple[time, time | None], ...], ...] = ((),) * 7
    holidays: frozenset[date] = field(default_factory=frozenset)
    partial_days: tuple[tuple[date, time, time], ...] = ()

    @classmethod
    def from_mapping(
        cls,
        weekly: Mapping[str, Iterable[Iterable[str]]],
        *,
        time_zone: str = "UTC",
        holidays: Iterable[date] = (),
        partial_days: Iterable[tuple[date, time, time]] = (),
    ) -> Schedule:
        """From ``{"mon": [["09:00", "17:00"]], ...}`` (the BusinessHours.weekly JSON).
        Raises ValueError for unknown days, bad times, or intervals that end before they start."""
        unknown = set(weekly) - set(DAYS)
        if unknown:
            raise ValueError(
                gettext("unknown day(s): %(days)s") % {"days": ", ".join(sorted(unknown))}
            )
        ZoneInfo(time_zone)  # raises for an unknown zone
        week = []
        for day in DAYS:
            intervals = []
            for pair in weekly.get(day) or ():
                opens_text, closes_text = list(pair)
                opens = parse_clock(opens_text)
                if opens is None:
                    raise ValueError(
                        gettext("%(day)s: an interval cannot open at 24:00") % {"day": day}
                    )
                closes = parse_clock(closes_text)
                if closes is not None and closes <= opens:
                    raise ValueError(
                        gettext("%(day)s: %(opens_text)s–%(closes_text)s ends before it starts")
                        % {"day": day, "opens_text": opens_text, "closes_text": closes_text}
                    )
                intervals.append((opens, closes))
            intervals.sort()
            for (_, prev_close), (next_open, _) in zip(intervals, intervals[1:], strict=False):
                if prev_close is None or prev_close > next_open:
                    raise ValueError(gettext("%(day)s: intervals overlap") % {"day": day})
            week.append(tuple(intervals))
        partial = tuple(sorted(partial_days))
        for day, opens, closes in partial:
            if closes <= opens:
                raise ValueError(f"{day}: a partial day must close after it opens")
        return cls(
            time_zone=time_zone,
            week=tuple(week),
            holidays=frozenset(holidays),
            partial_days=partial,
        )

    @cached_property
    def _partial(self) -> dict[date, tuple[tuple[time, time | None], ...]]:
        return {day: ((opens, closes),) for day, opens, closes in self.partial_days}

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals of one local date, as UTC instants."""
        if day in self.holidays:
            return []
        result = []
        for opens, closes in self._partial.get(day, self.week[day.weekday()]):
            start = datetime.combine(day, opens, tzinfo=self.zone).astimezone(UTC)
            if closes is None:
                end_local = datetime.combine(day + timedelta(days=1), MIDNIGHT, tzinfo=self.zone)
            else:
                end_local = datetime.combine(day, closes, tzinfo=self.zone)
            end = end_local.astimezone(UTC)
            if end > start:  # an interval swallowed by a DST gap has no length
                result.append((start, end))
        return result


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("business-hours arithmetic needs aware datetimes")
    return value.astimezone(UTC)


def _intervals_from(hours: Schedule, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals in time order, clipped to begin at ``start``, until the horizon."""
    # Start one local day early: an interval of the previous local date may still be running.
    day = start.astimezone(hours.zone).date() - timedelta(days=1)
    previous_end = start
    for _ in range(HORIZON_DAYS):
        for opens, closes in hours.day_intervals(day):
            # Clip to start, and to the end of the previous interval (DST fall-back can make
            # local intervals of adjacent dates overlap in UTC).
            opens = max(opens, previous_end)
            if closes > opens:
                yield opens, closes
                previous_end = closes
        day += timedelta(days=1)


def open_intervals(
    hours: Schedule | None, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The open intervals overlapping [start, end), clipped to it, in UTC and in order."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return
    if hours is None:
        yield start, end
        return
    for opens, closes in _intervals_from(hours, start):
        if opens >= end:
            return
        yield opens, min(closes, end)


def business_seconds_between(hours: Schedule | None, start: datetime, end: datetime) -> float:
    """Seconds of open time between two instants; negative when ``end`` is before ``start``."""
    start, end = _aware(start), _aware(end)
    if end < start:
        return -business_seconds_between(hours, end, start)
    if hours is None:
        return (end - start).total_seconds()
    total = timedelta()
    for opens, closes in open_intervals(hours, start, end):
        total += closes - opens
    return total.total_seconds()


def add_business_seconds(hours: Schedule | None, start: datetime, seconds: float) -> datetime:
    """The instant at which ``seconds`` of open time have elapsed since ``start``.

    ``seconds`` must be >= 0. With 0 the result is ``start`` itself when open, else the next
    opening. Raises ``NeverOpen`` when the schedule has no open time within the horizon."""
    start = _aware(start)
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    remaining = timedelta(seconds=seconds)
    if hours is None:
        return start + remaining
    for opens, closes in _intervals_from(hours, start):
        length = closes - opens
        if remaining <= length:
            return opens + remaining
        remaining -= length
    raise NeverOpen(f"no open time within {HORIZON_DAYS} days in {hours.time_zone}")


def is_open(hours: Schedule | None, at: datetime) -> bool:
    if hours is None:
        return True
    at = _aware(at)
    for opens, _closes in _intervals_from(hours, at):
        return opens == at
    return False


def next_open(hours: Schedule | None, at: datetime) -> datetime:
    """``at`` if open then, else when the schedule next opens (NeverOpen if it never does)."""
    return add_business_seconds(hours, at, 0)


class HoursRecord(Protocol):
    """What the arithmetic reads of a stored schedule (``sla.models.BusinessHours``); a
    protocol, so the models can build on this module without it importing them."""

    weekly: Any
    time_zone: str
    holidays: Any  # a manager of rows with a ``date`` (and ``open_from``/``open_until``)


def schedule_from_model(hours: HoursRecord | None) -> Schedule | None:
    """The arithmetic's view of a BusinessHours row, with its holidays; None stays None."""
    if hours is None:
        return None
    closed: list[date] = []
    partial: list[tuple[date, time, time]] = []
    for day, opens, closes in hours.holidays.values_list("date", "open_from", "open_until"):
        if opens is not None and closes is not None:
            partial.append((day, opens, closes))
        else:
            closed.append(day)
    return Schedule.from_mapping(
        hours.weekly or {},
        time_zone=hours.time_zone,
        holidays=closed,
        partial_days=partial,
    )
