"""An import holds one batch in memory, not the file: ten times the rows, the same peak."""

from __future__ import annotations

import contextlib
import csv
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bot.app import Database
from storage.db import SQLITE_CACHE_KIB
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
        writer = csv.DictWriter(fh, ORDER_COLUMNS)  # a column added later stays empty
        writer.writeheader()
        for n in range(count):
            bad = n % 97 == 0  # some rejections too: their details are capped
            writer.writerow(
                {
                    "order_id": f"{prefix}{n}",
                    "customer_id": "" if bad else f"{prefix}c{n // 3}",
                    "customer_name": f"Customer number {n}",
                    "email": f"c{n}@example.com",
                    "locale": "pt-BR",
                    "total": f"{n % 900}.{n % 100:02d}",
                    "currency": "BRL",
                    "purchased_at": f"2024-{1 + n % 12:02d}-{1 + n % 28:02d} 10:{n % 60:02d}:00",
                    "delivered_at": "" if n % 4 else "2024-12-30 12:00",
                }
            )


def rejected(count: int) -> int:
    """How many of ``write_orders``'s rows have no customer id."""
    return len(range(0, count, 97))


async def peak_of_import(db: Database, path: Path) -> tuple[int, int]:
    """(peak traced bytes, rows stored new or again) of importing ``path``."""
    options = OrderOptions(ZoneInfo("America/Sao_Paulo"))
    tracemalloc.start()
    try:
        with open_csv(path) as handle:
            rows = CsvRows(handle, REQUIRED_ORDER_COLUMNS)
            report = await import_orders(db.sessions, rows, options, now=NOW, batch_size=BATCH)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.rejected == rejected(report.read), report.rejections[:3]
    return peak, report.added + report.unchanged


async def test_memory_does_not_grow_with_the_file(sqlite_db: Database, tmp_path: Path) -> None:
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    write_orders(small, 2_000, "s")
    write_orders(large, 20_000, "l")
    await peak_of_import(sqlite_db, small)  # warm up caches (compiled statements, zones)
    small_peak, small_rows = await peak_of_import(sqlite_db, small)
    large_peak, large_rows = await peak_of_import(sqlite_db, large)
    assert (small_rows, large_rows) == (2_000 - rejected(2_000), 20_000 - rejected(20_000))
    # Ten times the rows; a file held in memory would take about ten times the peak.
    assert large_peak < small_peak * 1.5, (small_peak, large_peak)


async def test_the_pool_gives_back_an_imports_big_page_cache(
    sqlite_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    write_orders(path, 3 * BATCH, "p")
    await peak_of_import(sqlite_db, path)  # three batches, each with the bulk cache
    # Every connection the pool holds, at once: a writer and readers beside it.
    async with contextlib.AsyncExitStack() as stack:
        uows = [await stack.enter_async_context(sqlite_db.uow())]
        uows += [await stack.enter_async_context(sqlite_db.reader()) for _ in range(4)]
        sizes = {await uow.session.scalar(text("PRAGMA cache_size")) for uow in uows}
    assert sizes == {-SQLITE_CACHE_KIB}  # not -BULK_CACHE_KIB: a running bot keeps 1 MiB
