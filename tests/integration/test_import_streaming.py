"""An import holds one batch in memory, not the file: ten times the rows, the same peak."""

from __future__ import annotations

import csv
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import Database
from storage.imports import (
    ORDER_COLUMNS,
    REQUIRED_ORDER_COLUMNS,
    CsvRows,
    OrderOptions,
    import_orders,
    open_csv,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)  # after every row of the files
BATCH = 1000


def write_orders(path: Path, count: int, prefix: str) -> None:
    """``count`` order rows written one at a time (never a list of them)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(ORDER_COLUMNS)
        for n in range(count):
            bad = n % 97 == 0  # some rejections too: their details are capped
            writer.writerow(
                [
                    f"{prefix}{n}",
                    "" if bad else f"{prefix}c{n // 3}",
                    f"Customer number {n}",
                    "",
                    f"c{n}@example.com",
                    "pt-BR",
                    "",
                    f"{n % 900}.{n % 100:02d}",
                    "BRL",
                    f"2024-{1 + n % 12:02d}-{1 + n % 28:02d} 10:{n % 60:02d}:00",
                    "" if n % 4 else "2024-12-30 12:00",
                ]
            )


async def peak_of_import(db: Database, path: Path) -> tuple[int, int]:
    """(peak traced bytes, rows read) of importing ``path``."""
    options = OrderOptions(ZoneInfo("America/Sao_Paulo"))
    tracemalloc.start()
    try:
        with open_csv(path) as handle:
            rows = CsvRows(handle, REQUIRED_ORDER_COLUMNS)
            report = await import_orders(db.sessions, rows, options, now=NOW, batch_size=BATCH)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, report.read


async def test_memory_does_not_grow_with_the_file(sqlite_db: Database, tmp_path: Path) -> None:
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    write_orders(small, 2_000, "s")
    write_orders(large, 20_000, "l")
    await peak_of_import(sqlite_db, small)  # warm up caches (compiled statements, zones)
    small_peak, small_rows = await peak_of_import(sqlite_db, small)
    large_peak, large_rows = await peak_of_import(sqlite_db, large)
    assert (small_rows, large_rows) == (2_000, 20_000)
    # Ten times the rows; a file held in memory would take about ten times the peak.
    assert large_peak < small_peak * 1.5, (small_peak, large_peak)
