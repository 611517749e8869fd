"""The contact window moves a due time into the customer's local hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.settings import ContactWindow
from flows.contact_window import in_window, next_contact_time

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MADRID = ZoneInfo("Europe/Madrid")
NEW_YORK = ZoneInfo("America/New_York")
DAY = ContactWindow.parse("09:00-20:00")
NIGHT = ContactWindow.parse("20:00-08:00")


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz)  # type: ignore[misc]


def test_a_time_inside_the_window_is_kept() -> None:
    t = local(SAO_PAULO, 2024, 3, 5, 10, 30)
    assert next_contact_time(t, DAY, SAO_PAULO) == t.astimezone(UTC)


def test_the_result_is_utc() -> None:
    t = local(SAO_PAULO, 2024, 3, 5, 10, 30)
    assert next_contact_time(t, DAY, SAO_PAULO).tzinfo is UTC


def test_a_time_before_the_window_moves_to_its_start_the_same_day() -> None:
    t = local(SAO_PAULO, 2024, 3, 5, 6, 15)
    assert next_contact_time(t, DAY, SAO_PAULO) == local(SAO_PAULO, 2024, 3, 5, 9, 0)


def test_a_time_after_the_window_moves_to_the_next_morning() -> None:
    t = local(SAO_PAULO, 2024, 3, 5, 21, 0)
    assert next_contact_time(t, DAY, SAO_PAULO) == local(SAO_PAULO, 2024, 3, 6, 9, 0)


def test_the_end_of_the_window_is_outside_it() -> None:
    t = local(SAO_PAULO, 2024, 3, 5, 20, 0)
    assert next_contact_time(t, DAY, SAO_PAULO) == local(SAO_PAULO, 2024, 3, 6, 9, 0)


def test_the_window_is_read_in_the_customers_time_zone_not_utc() -> None:
    # 13:00 UTC is 10:00 in Sao Paulo (inside) but 08:00 in New York in winter (outside).
    t = datetime(2024, 1, 10, 13, 0, tzinfo=UTC)
    assert next_contact_time(t, DAY, SAO_PAULO) == t
    assert next_contact_time(t, DAY, NEW_YORK) == local(NEW_YORK, 2024, 1, 10, 9, 0)


def test_a_window_across_midnight_accepts_late_evening_and_early_morning() -> None:
    assert next_contact_time(local(MADRID, 2024, 5, 1, 23, 0), NIGHT, MADRID) == local(
        MADRID, 2024, 5, 1, 23, 0
    )
    assert next_contact_time(local(MADRID, 2024, 5, 2, 7, 59), NIGHT, MADRID) == local(
        MADRID, 2024, 5, 2, 7, 59
    )


def test_a_window_across_midnight_moves_a_daytime_to_the_same_evening() -> None:
    t = local(MADRID, 2024, 5, 2, 8, 0)
    assert next_contact_time(t, NIGHT, MADRID) == local(MADRID, 2024, 5, 2, 20, 0)


def test_the_next_day_crosses_a_month_end() -> None:
    t = local(NEW_YORK, 2024, 1, 31, 22, 0)
    assert next_contact_time(t, DAY, NEW_YORK) == local(NEW_YORK, 2024, 2, 1, 9, 0)


def test_a_window_opening_inside_a_spring_forward_gap_opens_when_the_clocks_jump() -> None:
    # Sao Paulo 2018-11-04: clocks jumped from 00:00 to 01:00 (-03:00 -> -02:00).
    window = ContactWindow.parse("00:00-06:00")
    t = local(SAO_PAULO, 2018, 11, 3, 22, 0)
    got = next_contact_time(t, window, SAO_PAULO)
    assert got == datetime(2018, 11, 4, 3, 0, tzinfo=UTC)
    assert got.astimezone(SAO_PAULO).hour == 1
    assert got.astimezone(SAO_PAULO).utcoffset() == timedelta(hours=-2)


def test_nine_in_the_morning_after_sao_paulos_spring_forward_is_at_the_summer_offset() -> None:
    t = local(SAO_PAULO, 2018, 11, 3, 21, 0)
    got = next_contact_time(t, DAY, SAO_PAULO)
    assert got == datetime(2018, 11, 4, 11, 0, tzinfo=UTC)  # 09:00 at -02:00


def test_nine_in_the_morning_after_sao_paulos_fall_back_is_at_the_standard_offset() -> None:
    # 2019-02-17: clocks went back from 00:00 to 23:00 (-02:00 -> -03:00).
    t = local(SAO_PAULO, 2019, 2, 16, 21, 0)
    got = next_contact_time(t, DAY, SAO_PAULO)
    assert got == datetime(2019, 2, 17, 12, 0, tzinfo=UTC)  # 09:00 at -03:00


def test_madrid_spring_forward_night_keeps_nine_oclock_local() -> None:
    # 2024-03-31 02:00 -> 03:00 in Madrid.
    t = datetime(2024, 3, 30, 21, 0, tzinfo=UTC)  # 22:00 local, CET
    got = next_contact_time(t, DAY, MADRID)
    assert got == datetime(2024, 3, 31, 7, 0, tzinfo=UTC)  # 09:00 CEST


def test_new_york_fall_back_night_keeps_nine_oclock_local() -> None:
    # 2024-11-03 02:00 -> 01:00 in New York.
    t = datetime(2024, 11, 3, 3, 0, tzinfo=UTC)  # 23:00 EDT on the 2nd
    got = next_contact_time(t, DAY, NEW_YORK)
    assert got == datetime(2024, 11, 3, 14, 0, tzinfo=UTC)  # 09:00 EST


def test_a_night_window_across_a_fall_back_counts_wall_clock_hours() -> None:
    # The repeated hour 01:00-02:00 in New York is inside 20:00-08:00 both times.
    first = datetime(2024, 11, 3, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = datetime(2024, 11, 3, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert next_contact_time(first, NIGHT, NEW_YORK) == first
    assert next_contact_time(second, NIGHT, NEW_YORK) == second


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_contact_time(datetime(2024, 1, 1, 12, 0), DAY, SAO_PAULO)  # noqa: DTZ001


def test_a_window_with_equal_ends_is_always_open() -> None:
    assert in_window(time(3, 0), ContactWindow(time(9, 0), time(9, 0)))


ZONES = st.sampled_from([SAO_PAULO, MADRID, NEW_YORK, ZoneInfo("Asia/Kolkata")])
WINDOWS = st.sampled_from([DAY, NIGHT, ContactWindow.parse("00:00-06:00")])
INSTANTS = st.datetimes(
    min_value=datetime(2017, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2026, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(t=INSTANTS, window=WINDOWS, tz=ZONES)
def test_the_contact_time_is_never_earlier_and_always_inside_the_window(
    t: datetime, window: ContactWindow, tz: ZoneInfo
) -> None:
    got = next_contact_time(t, window, tz)
    assert got >= t
    assert in_window(got.astimezone(tz).time(), window)
    assert got - t < timedelta(hours=25)
