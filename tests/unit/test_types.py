"""UTCDateTime on SQLite: the fast processors store and read what SQLAlchemy's would."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from storage.types import UTCDateTime

DIALECT = sqlite.dialect()


def _stamps() -> list[datetime]:
    rng = random.Random(7)
    fixed = [
        datetime(2026, 3, 10, 15, 0, tzinfo=UTC),  # no microseconds: still written
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 1, 1, 1, 30, 5, 120, tzinfo=timezone(timedelta(hours=-3))),
    ]
    drawn = [
        datetime(2000, 1, 1, tzinfo=UTC)
        + timedelta(seconds=rng.randrange(0, 60 * 365 * 86_400), microseconds=rng.randrange(10**6))
        for _ in range(500)
    ]
    return fixed + drawn


def test_stored_text_is_sqlalchemys_own_format() -> None:
    ours = UTCDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    theirs = DateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    assert ours is not None and theirs is not None
    for stamp in _stamps():
        naive_utc = stamp.astimezone(UTC).replace(tzinfo=None)
        assert ours(stamp) == theirs(naive_utc)
    assert ours(None) is None


def test_text_read_back_is_the_same_aware_utc_instant() -> None:
    write = UTCDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    read = UTCDateTime().dialect_impl(DIALECT).result_processor(DIALECT, None)
    assert write is not None and read is not None
    for stamp in _stamps():
        back = read(write(stamp))
        assert back == stamp and back.tzinfo is UTC
    assert read("2026-03-10 15:00:00") == datetime(2026, 3, 10, 15, tzinfo=UTC)
    assert read(None) is None


def test_a_naive_datetime_is_refused() -> None:
    write = UTCDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    assert write is not None
    with pytest.raises(ValueError, match="naive"):
        write(datetime(2026, 3, 10, 15, 0, tzinfo=UTC).replace(tzinfo=None))
