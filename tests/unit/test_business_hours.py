"""The business-hours calculator: weekends, nights, daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.business_hours import BusinessHours, add_business_time, business_seconds

WEEKDAYS = BusinessHours.parse("mon-fri 09:00-18:00")
SP = ZoneInfo("America/Sao_Paulo")
MADRID = ZoneInfo("Europe/Madrid")
NY = ZoneInfo("America/New_York")
H = 3600


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(UTC)


def test_a_span_inside_one_working_day_counts_whole() -> None:
    start = local(SP, 2026, 3, 10, 10, 0)  # a Tuesday
    assert business_seconds(start, start + timedelta(hours=2), WEEKDAYS, SP) == 2 * H


def test_a_night_in_between_does_not_count() -> None:
    start = local(SP, 2026, 3, 10, 17, 0)  # Tuesday 17:00 -> Wednesday 10:00
    end = local(SP, 2026, 3, 11, 10, 0)
    assert business_seconds(start, end, WEEKDAYS, SP) == 2 * H


def test_a_weekend_in_between_does_not_count() -> None:
    start = local(SP, 2026, 3, 13, 17, 0)  # Friday 17:00 -> Monday 10:00
    end = local(SP, 2026, 3, 16, 10, 0)
    assert business_seconds(start, end, WEEKDAYS, SP) == 2 * H


def test_a_span_entirely_on_a_weekend_is_zero() -> None:
    start = local(SP, 2026, 3, 14, 9, 0)
    assert business_seconds(start, start + timedelta(hours=30), WEEKDAYS, SP) == 0


def test_the_spring_forward_night_is_an_hour_shorter_but_office_hours_are_whole() -> None:
    # Madrid moves from 02:00 to 03:00 on Sunday 2026-03-29: open 24/7, that day has 23 hours.
    always = BusinessHours.parse("always")
    start, end = local(MADRID, 2026, 3, 29, 0, 0), local(MADRID, 2026, 3, 30, 0, 0)
    assert business_seconds(start, end, always, MADRID) == 23 * H
    # A whole working week around the change still has 5 x 9 hours.
    start, end = local(MADRID, 2026, 3, 26, 0, 0), local(MADRID, 2026, 4, 2, 0, 0)
    assert business_seconds(start, end, WEEKDAYS, MADRID) == 45 * H


def test_the_fall_back_night_has_25_hours() -> None:
    always = BusinessHours.parse("always")
    start, end = local(NY, 2026, 11, 1, 0, 0), local(NY, 2026, 11, 2, 0, 0)
    assert business_seconds(start, end, always, NY) == 25 * H


def test_several_clauses_and_wrapping_day_ranges_parse() -> None:
    hours = BusinessHours.parse("mon-fri 09:00-18:00; sat 09:00-13:00")
    assert hours.windows[5] == ((540, 780),)
    assert hours.windows[6] == ()
    assert BusinessHours.parse("sat-mon 10:00-11:00").windows[6] == ((600, 660),)
    assert str(BusinessHours.parse("mon 09:00-10:00")) == "mon 09:00-10:00"
    assert str(hours) == "mon-fri 09:00-18:00; sat 09:00-13:00"
    assert str(BusinessHours.parse("always")) == "mon-sun 00:00-24:00"


@pytest.mark.parametrize(
    "text",
    ["", "mon-fri", "mon-fri 18:00-09:00", "xyz 09:00-10:00", "mon 09:00-10:00; mon 09:30-11:00"],
)
def test_bad_business_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        BusinessHours.parse(text)


def test_adding_business_time_skips_the_night_and_the_weekend() -> None:
    start = local(SP, 2026, 3, 13, 17, 0)  # Friday 17:00 + 4h -> Monday 12:00
    assert add_business_time(start, 4 * H, WEEKDAYS, SP) == local(SP, 2026, 3, 16, 12, 0)
    saturday = local(SP, 2026, 3, 14, 12, 0)  # from outside hours: the next opening counts
    assert add_business_time(saturday, H, WEEKDAYS, SP) == local(SP, 2026, 3, 16, 10, 0)


ZONES = st.sampled_from([SP, MADRID, NY, ZoneInfo("UTC"), ZoneInfo("Australia/Sydney")])
HOURS = st.sampled_from(
    [
        WEEKDAYS,
        BusinessHours.parse("always"),
        BusinessHours.parse("mon-sat 08:30-12:00; mon-fri 13:00-17:45"),
    ]
)
# Around the 2026 DST changes of the zones above, and plain weeks. (Hypothesis wants naive
# bounds; the values it draws are UTC.)
MOMENTS = st.datetimes(
    min_value=datetime(2026, 3, 1),  # noqa: DTZ001
    max_value=datetime(2026, 11, 30),  # noqa: DTZ001
    timezones=st.just(UTC),
)
SPANS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))


@settings(max_examples=150, deadline=None)
@given(start=MOMENTS, span=SPANS, cut=st.floats(0, 1), hours=HOURS, tz=ZONES)
def test_business_time_is_additive_and_never_more_than_the_wall_clock(
    start: datetime, span: timedelta, cut: float, hours: BusinessHours, tz: ZoneInfo
) -> None:
    end = start + span
    middle = start + span * cut
    whole = business_seconds(start, end, hours, tz)
    assert 0 <= whole <= span.total_seconds()
    parts = business_seconds(start, middle, hours, tz) + business_seconds(middle, end, hours, tz)
    assert abs(whole - parts) <= 1  # each part is rounded down to whole seconds


@settings(max_examples=150, deadline=None)
@given(start=MOMENTS, seconds=st.integers(0, 200 * H), hours=HOURS, tz=ZONES)
def test_adding_business_time_is_undone_by_counting_it(
    start: datetime, seconds: int, hours: BusinessHours, tz: ZoneInfo
) -> None:
    start = start.replace(microsecond=0)
    end = add_business_time(start, seconds, hours, tz)
    assert end >= start
    assert business_seconds(start, end, hours, tz) == seconds


@settings(max_examples=100, deadline=None)
@given(start=MOMENTS, tz=ZONES)
def test_a_whole_week_always_holds_the_same_business_hours(start: datetime, tz: ZoneInfo) -> None:
    # A week that crosses a DST change still holds exactly 45 office hours.
    day = start.astimezone(tz).date()
    begin = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=7), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    assert business_seconds(begin, end, WEEKDAYS, tz) == 45 * H
