"""Reading import fields: money, times, codes, and CSV lines with their numbers."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from storage.imports.csv_rows import CsvHeaderError, CsvRows, check_shape
from storage.imports.rows import (
    RowError,
    parse_currency,
    parse_locale,
    parse_money,
    parse_time,
    parse_zone,
)

SP = ZoneInfo("America/Sao_Paulo")


@pytest.mark.parametrize(
    ("text", "cents"),
    [("129.90", 12990), ("0.1", 10), ("7", 700), ("1234567.89", 123456789), ("+2.50", 250)],
)
def test_money_is_read_exactly_as_cents(text: str, cents: int) -> None:
    assert parse_money(text, "total") == cents


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-1.00", "negative total"),
        ("abc", "not a decimal number"),
        ("129,90", "not a decimal number"),
        ("1_000", "not a decimal number"),
        ("nan", "not a decimal number"),
        ("0.001", "fractions of a cent"),
    ],
)
def test_bad_money_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(RowError, match=reason):
        parse_money(text, "total")


def test_a_time_without_offset_is_read_in_the_default_zone_and_kept_in_utc() -> None:
    assert parse_time("2024-05-01 10:00", "t", SP) == datetime(2024, 5, 1, 13, 0, tzinfo=UTC)
    assert parse_time("2024-05-01T10:00:00+00:00", "t", SP) == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert parse_time("2024-05-01T10:00:00Z", "t", SP) == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert parse_time("2024-05-01", "t", SP) == datetime(2024, 5, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2024-02-30", "yesterday", "01/05/2024", "2024-05-01 25:00"])
def test_a_bad_time_is_refused(text: str) -> None:
    with pytest.raises(RowError, match="bad purchased_at"):
        parse_time(text, "purchased_at", SP)


def test_codes_are_normalised_or_refused() -> None:
    assert parse_currency("brl") == "BRL"
    assert parse_locale("pt_br") == "pt-BR"
    assert parse_locale("en-US") == "en"
    assert parse_zone("Europe/Madrid") == "Europe/Madrid"
    for bad, call in [("R$", parse_currency), ("XYZ", parse_currency), ("fr", parse_locale)]:
        with pytest.raises(RowError):
            call(bad)
    with pytest.raises(RowError, match="unknown time zone"):
        parse_zone("Mars/Olympus")


def test_csv_rows_carry_the_line_they_start_on() -> None:
    data = 'a,b\n1,"two\nlines"\n\n3,4\n5\n6,7,8\n9,10\n'
    rows = list(CsvRows(io.StringIO(data, newline=""), ["a"]))
    assert [line for line, _ in rows] == [2, 5, 6, 7, 8]
    assert rows[0][1]["b"] == "two\nlines"
    for line, row in rows:
        if line in (6, 7):
            with pytest.raises(RowError, match="fields where the header has 2"):
                check_shape(row)
        else:
            check_shape(row)


def test_a_header_without_the_required_columns_is_refused() -> None:
    with pytest.raises(CsvHeaderError, match="missing column"):
        CsvRows(io.StringIO("order_id,total\n1,2\n"), ["order_id", "customer_id"])
    with pytest.raises(CsvHeaderError, match="empty"):
        CsvRows(io.StringIO(""), ["order_id"])
