"""The UTC offsets SQLite's day arithmetic spells out are the zone database's own."""

from __future__ import annotations

import bisect
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.read.local_dates import known_zone, offsets

ZONES = [
    "America/Sao_Paulo",  # summer time until 2019
    "Europe/Madrid",
    "America/New_York",
    "Australia/Lord_Howe",  # a half-hour shift
    "Asia/Kathmandu",  # +05:45, no summer time
    "America/Manaus",
    "UTC",
]


@pytest.mark.parametrize("zone", ZONES)
def test_every_moment_since_2000_has_the_zone_databases_offset(zone: str) -> None:
    changes = offsets(zone, 2028)
    starts = [start for start, _ in changes]
    rng = random.Random(zone)
    moments = [datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(29 * 365 * 86400))
               for _ in range(3000)]  # fmt: skip
    # The moments either side of each change, to the minute, too.
    moments += [start + timedelta(seconds=s) for start in starts[1:] for s in (-60, -1, 0, 59)]
    for moment in moments:
        _, shift = changes[bisect.bisect_right(starts, moment) - 1]
        expected = moment.astimezone(ZoneInfo(zone)).utcoffset()
        assert expected is not None and shift == expected.total_seconds(), (zone, moment)


def test_a_zone_without_summer_time_is_one_offset_and_an_unknown_one_is_not_known() -> None:
    assert offsets("Asia/Kathmandu", 2028) == ((datetime(2000, 1, 1, tzinfo=UTC), 20700),)
    assert len(offsets("Europe/Madrid", 2028)) == 1 + 2 * 29
    assert known_zone("America/Sao_Paulo") and not known_zone("Mars/Base")
