"""Business-hours arithmetic: examples, then properties checked by hypothesis over random
schedules, time zones with DST changes, holidays and instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sla.business_hours import (
    DAYS,
    HORIZON_DAYS,
    NeverOpen,
    Schedule,
    add_business_seconds,
    business_seconds_between,
    is_open,
    next_open,
    open_intervals,
)

NINE_TO_FIVE = {day: [["09:00", "17:00"]] for day in DAYS[:5]}
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def paris(**kw) -> Schedule:
    return Schedule.from_mapping(NINE_TO_FIVE, time_zone="Europe/Paris", **kw)


# --- Examples ---------------------------------------------------------------------------------


def test_adding_within_one_day():
    # Monday 2026-11-23 10:00 Paris = 09:00 UTC.
    assert add_business_seconds(paris(), utc(2026, 11, 23, 9), 3600) == utc(2026, 11, 23, 10)


def test_adding_carries_over_the_night_and_the_weekend():
    # Friday 16:00 Paris + 2 h → Monday 10:00 Paris.
    friday_4pm = utc(2026, 11, 27, 15)
    assert add_business_seconds(paris(), friday_4pm, 7200) == utc(2026, 11, 30, 9)


def test_holiday_is_closed_all_day():
    christmas = paris(holidays=[date(2026, 12, 25)])
    thursday_4pm = utc(2026, 12, 24, 15)
    # 1 h on Thursday, Friday is Christmas, then the weekend: Monday 10:00 Paris.
    assert add_business_seconds(christmas, thursday_4pm, 7200) == utc(2026, 12, 28, 9)
    assert business_seconds_between(christmas, utc(2026, 12, 25), utc(2026, 12, 26)) == 0


def test_partial_day_opens_only_its_own_hours():
    # Christmas Eve 2026 (a Thursday) open 09:00–13:00 Paris only.
    eve = paris(partial_days=[(date(2026, 12, 24), time(9), time(13))])
    assert business_seconds_between(eve, utc(2026, 12, 24), utc(2026, 12, 25)) == 4 * 3600
    assert is_open(eve, utc(2026, 12, 24, 11)) and not is_open(eve, utc(2026, 12, 24, 13))
    # Thursday 11:00 Paris + 3 h: 2 h that morning, then Friday 10:00 Paris.
    assert add_business_seconds(eve, utc(2026, 12, 24, 10), 3 * 3600) == utc(2026, 12, 25, 9)
    with pytest.raises(ValueError, match="close after it opens"):
        paris(partial_days=[(date(2026, 12, 24), time(13), time(9))])


def test_seconds_between_counts_only_open_time_and_is_antisymmetric():
    start, end = utc(2026, 11, 27, 15), utc(2026, 11, 30, 9)
    assert business_seconds_between(paris(), start, end) == 7200
    assert business_seconds_between(paris(), end, start) == -7200


def test_no_schedule_means_wall_clock():
    start = utc(2026, 11, 28, 3)
    assert add_business_seconds(None, start, 90) == start + timedelta(seconds=90)
    assert business_seconds_between(None, start, start + timedelta(hours=2)) == 7200
    assert is_open(None, start)


def test_next_open_and_is_open():
    saturday = utc(2026, 11, 28, 12)
    assert not is_open(paris(), saturday)
    assert next_open(paris(), saturday) == utc(2026, 11, 30, 8)
    assert is_open(paris(), utc(2026, 11, 30, 8))
    assert not is_open(paris(), utc(2026, 11, 30, 16))  # 17:00 Paris: closed


def test_spring_forward_night_shift_is_an_hour_shorter():
    # Paris, 29 March 2026: 02:00 → 03:00. A 00:00–06:00 shift lasts 5 real hours.
    night = Schedule.from_mapping({"sun": [["00:00", "06:00"]]}, time_zone="Europe/Paris")
    day_start, day_end = utc(2026, 3, 28, 12), utc(2026, 3, 29, 12)
    assert business_seconds_between(night, day_start, day_end) == 5 * 3600


def test_fall_back_night_shift_is_an_hour_longer():
    # New York, 1 November 2026: 02:00 → 01:00. A 00:00–06:00 shift lasts 7 real hours.
    night = Schedule.from_mapping({"sun": [["00:00", "06:00"]]}, time_zone="America/New_York")
    assert business_seconds_between(night, utc(2026, 11, 1), utc(2026, 11, 2)) == 7 * 3600


def test_all_day_schedule_with_24_00():
    always = Schedule.from_mapping({day: [["00:00", "24:00"]] for day in DAYS})
    start = utc(2026, 11, 28, 3, 15)
    assert add_business_seconds(always, start, 86400 * 3) == start + timedelta(days=3)


def test_a_schedule_that_never_opens_raises():
    closed = Schedule.from_mapping({})
    with pytest.raises(NeverOpen):
        add_business_seconds(closed, utc(2026, 1, 1), 60)


def test_more_open_time_than_the_horizon_holds_raises():
    # 15 minutes a week: 5 days of open time would be 9 years away, past the 3-year horizon.
    quarter_hour = Schedule.from_mapping({"mon": [["09:00", "09:15"]]})
    with pytest.raises(NeverOpen):
        add_business_seconds(quarter_hour, utc(2026, 1, 1), 5 * 24 * 3600)


@pytest.mark.parametrize(
    "weekly",
    [
        {"monday": [["09:00", "17:00"]]},
        {"mon": [["17:00", "09:00"]]},
        {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]},
        {"mon": [["25:00", "26:00"]]},
    ],
)
def test_invalid_schedules_are_refused(weekly):
    with pytest.raises(ValueError):
        Schedule.from_mapping(weekly)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        add_business_seconds(paris(), datetime(2026, 1, 1, 9), 60)


# --- Properties -------------------------------------------------------------------------------

minutes = st.integers(min_value=0, max_value=24 * 60 - 15).map(lambda m: m - m % 15)


@st.composite
def day_intervals(draw):
    """Up to two non-overlapping intervals of one day, on 15-minute steps."""
    points = sorted(set(draw(st.lists(minutes, min_size=0, max_size=4))))
    if len(points) % 2:
        points = points[:-1]
    intervals = []
    for opens, closes in zip(points[::2], points[1::2], strict=True):
        intervals.append(
            [f"{opens // 60:02d}:{opens % 60:02d}", f"{closes // 60:02d}:{closes % 60:02d}"]
        )
    if draw(st.booleans()) and intervals and points[-1] < 24 * 60:
        intervals[-1][1] = "24:00"
    return intervals


@st.composite
def schedules(draw):
    weekly = {day: draw(day_intervals()) for day in DAYS}
    # At least one open interval somewhere in the week, so due times exist.
    assume(any(weekly.values()))
    zone = draw(st.sampled_from(ZONES))
    holidays = draw(
        st.lists(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)), max_size=8)
    )
    return Schedule.from_mapping(weekly, time_zone=zone, holidays=holidays)


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(UTC)
)
durations = st.integers(min_value=1, max_value=5 * 24 * 3600)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _inside_open_hours(schedule: Schedule, instant: datetime) -> bool:
    """``instant`` lies in (opens, closes] of an open interval."""
    local_day = instant.astimezone(schedule.zone).date()
    for day in (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1)):
        for opens, closes in schedule.day_intervals(day):
            if opens < instant <= closes:
                return True
    return False


def due(schedule: Schedule, start: datetime, seconds: int) -> datetime:
    """``add_business_seconds``, skipping the draws no schedule could meet: a week open for
    15 minutes holds 5 days of open time only after the horizon (NeverOpen is right there)."""
    try:
        return add_business_seconds(schedule, start, seconds)
    except NeverOpen:
        horizon = start + timedelta(days=HORIZON_DAYS)
        assert business_seconds_between(schedule, start, horizon) < seconds
        assume(False)
        raise


@PROPERTY
@given(schedules(), instants, durations)
def test_due_time_is_never_in_closed_hours(schedule, start, seconds):
    due_at = due(schedule, start, seconds)
    assert due_at > start
    # Holidays have no intervals at all, so this also says "never on a holiday".
    assert _inside_open_hours(schedule, due_at)


@PROPERTY
@given(schedules(), instants, durations)
def test_adding_then_measuring_gives_the_duration_back(schedule, start, seconds):
    due_at = due(schedule, start, seconds)
    assert business_seconds_between(schedule, start, due_at) == pytest.approx(seconds, abs=1e-6)


@PROPERTY
@given(schedules(), instants, st.integers(min_value=0, max_value=3 * 24 * 3600), durations)
def test_due_time_is_monotonic_in_the_start(schedule, start, shift, seconds):
    later = start + timedelta(seconds=shift)
    assert due(schedule, start, seconds) <= due(schedule, later, seconds)


@PROPERTY
@given(schedules(), instants, durations, durations)
def test_due_time_is_monotonic_in_the_duration(schedule, start, a, b):
    low, high = sorted((a, b))
    assert due(schedule, start, low) <= due(schedule, start, high)


@PROPERTY
@given(schedules(), instants, durations, durations)
def test_seconds_between_is_additive(schedule, start, a, b):
    middle, end = start + timedelta(seconds=a), start + timedelta(seconds=a + b)
    total = business_seconds_between(schedule, start, end)
    parts = business_seconds_between(schedule, start, middle) + business_seconds_between(
        schedule, middle, end
    )
    assert total == pytest.approx(parts, abs=1e-6)
    assert 0 <= total <= a + b


@PROPERTY
@given(schedules(), instants, durations)
def test_open_intervals_are_ordered_disjoint_and_never_on_holidays(schedule, start, seconds):
    end = start + timedelta(seconds=seconds)
    previous_end = start
    for opens, closes in open_intervals(schedule, start, end):
        assert previous_end <= opens < closes <= end
        previous_end = closes
        middle = opens + (closes - opens) / 2
        assert middle.astimezone(schedule.zone).date() not in schedule.holidays


@PROPERTY
@given(schedules(), instants)
def test_next_open_is_open_and_nothing_is_open_before_it(schedule, start):
    opening = next_open(schedule, start)
    assert opening >= start
    assert is_open(schedule, opening)
    assert business_seconds_between(schedule, start, opening) == 0
