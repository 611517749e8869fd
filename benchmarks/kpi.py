"""KPI engine and order import speed on a large SQLite database.

    .venv/bin/python -m benchmarks.kpi                # 1,000,000 answers, 200,000 tickets,
                                                      # 500,000 orders; 1,000,000-row import
    .venv/bin/python -m benchmarks.kpi --scale 0.05   # a quick run at 5 %

Builds a fresh SQLite file (schema by the migrations, rows by raw ``executemany``), then
times ``compute_kpis`` for the last 30 days and for all time (median of ``--runs``)
beside the same figures computed by hand-written SQL through the ``sqlite3`` module
(no SQLAlchemy, no asyncio), and prints the ratio (target: at most 1.5x, and all time
under 1 s). Then writes an orders CSV and times ``postsale import-orders`` on it
(target: 1,000,000 rows in under 60 s) and again (every row unchanged).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.kpi_import import bench_import
from benchmarks.kpi_sql import raw_kpis
from bot.app import Database
from storage.read.kpi import compute_kpis

NOW = datetime(2026, 3, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
NPS_SCORES = (0, 3, 6, 7, 8, 9, 9, 10, 10, 10)
CSAT_SCORES = (1, 2, 3, 4, 4, 5, 5)
FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite
# Customers' own zones (None: DEFAULT_TIMEZONE), Lisbon with summer time.
ZONES = (None, None, None, None, None, None, None, "America/Manaus", "Europe/Lisbon", None)


def _stamp(moment: datetime) -> str:
    return moment.replace(tzinfo=None).strftime(FORMAT)


def _moment(rng: random.Random) -> datetime:
    fraction: float = rng.random() ** 0.7
    return NOW - SPAN * fraction  # more activity lately


def _chunks(rows: Iterator[tuple[Any, ...]], size: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def build(path: Path, scale: float, seed: int = 7) -> dict[str, int]:
    """Fill ``path`` (already migrated) with customers, orders, follow-ups, answers, tickets."""
    rng = random.Random(seed)
    counts = {
        "customers": int(200_000 * scale),
        "orders": int(500_000 * scale),
        "answers": int(1_000_000 * scale),
        "tickets": int(200_000 * scale),
    }
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")
    created = _stamp(NOW - SPAN)
    con.executemany(
        "INSERT INTO customers (id, external_id, locale, timezone, created_at) "
        "VALUES (?, ?, 'pt-BR', ?, ?)",
        ((n + 1, f"c{n + 1}", ZONES[n % len(ZONES)], created) for n in range(counts["customers"])),
    )

    def orders() -> Iterator[tuple[Any, ...]]:
        for n in range(counts["orders"]):
            # A few heavy buyers, many one-off ones: repeat purchases exist.
            customer = 1 + int(counts["customers"] * rng.random() ** 1.6)
            bought = _moment(rng)
            when = _stamp(bought)
            # Nine orders in ten with an estimate: a date, as the import stores it.
            due = bought.replace(hour=3, minute=0, second=0, microsecond=0)
            due += timedelta(days=rng.randint(3, 10))
            yield (
                n + 1,
                f"o{n + 1}",
                customer,
                rng.randint(1_000, 90_000),
                "BRL",
                when,
                _stamp(bought + timedelta(days=rng.randint(2, 12))),
                _stamp(due) if n % 10 else None,
                when,
                when,
            )

    for chunk in _chunks(orders()):
        con.executemany(
            "INSERT INTO orders (id, external_id, customer_id, total_cents, currency, "
            "purchased_at, delivered_at, estimated_delivery_at, delivery_status, created_at, "
            "updated_at) VALUES (?,?,?,?,?,?,?,?,'delivered',?,?)",
            chunk,
        )
    con.execute(
        "INSERT INTO followups (order_id, customer_id, status, due_at, sent_at, answered_at) "
        "SELECT id, customer_id, CASE WHEN id % 3 = 0 THEN 'expired' ELSE 'answered' END, "
        "delivered_at, delivered_at, CASE WHEN id % 3 = 0 THEN NULL ELSE delivered_at END "
        "FROM orders"
    )

    def answers() -> Iterator[tuple[Any, ...]]:
        for n in range(counts["answers"]):
            kind = "nps" if n % 2 else "csat"
            score = (
                rng.choice((0, 3, 6, 7, 8, 9, 9, 10, 10, 10))
                if kind == "nps"
                else rng.randint(1, 5)
            )
            customer = 1 + n % counts["customers"]
            about = 1 + (n // 2) % counts["orders"]  # an NPS and a CSAT answer per order
            yield (f"b{n}", customer, about, kind, score, "import", _stamp(_moment(rng)))

    for chunk in _chunks(answers()):
        con.executemany(
            "INSERT INTO survey_responses (dedup_key, customer_id, order_id, kind, score, "
            "source, answered_at) VALUES (?,?,?,?,?,?,?)",
            chunk,
        )

    def tickets() -> Iterator[tuple[Any, ...]]:
        for n in range(counts["tickets"]):
            opened = _moment(rng)
            first = rng.randint(60, 86_400) if n % 10 else None
            resolution = rng.randint(600, 7 * 86_400) if n % 4 else None
            status = "closed" if resolution else rng.choice(("open", "waiting_customer"))
            resolved = _stamp(opened + timedelta(seconds=resolution)) if resolution else None
            yield (
                1 + n % counts["customers"],
                "complaint",
                "other",
                status,
                _stamp(opened),
                first,
                resolution,
                resolved,
                rng.randint(0, 3_600),
                int(n % 17 == 0),
            )

    for chunk in _chunks(tickets()):
        con.executemany(
            "INSERT INTO tickets (customer_id, source, category, status, opened_at, "
            "first_response_s, resolution_s, resolved_at, waiting_s, reopened_count) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            chunk,
        )
    start = NOW - SPAN
    months = sorted({(start + timedelta(days=d)).strftime("%Y-%m") for d in range(0, 760, 10)})
    con.executemany(
        "INSERT INTO marketing_spend (month, month_start, channel, amount_cents, currency) "
        "VALUES (?, ?, ?, ?, 'BRL')",
        [
            (
                m,
                f"{m}-01 03:00:00.000000",
                ch,
                rng.randint(10**6, 10**7),
            )
            for m in months
            for ch in ("ads", "social")
        ],
    )
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.close()
    return counts


async def migrate(url: str) -> None:
    db = await Database.open(url)
    await db.close()


def median_time(call: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


async def time_engine(
    url: str, runs: int, window: tuple[datetime | None, datetime | None]
) -> tuple[float, dict[str, Any]]:
    db = await Database.open(url, migrate=False)
    try:
        times, result = [], {}
        for _ in range(runs):
            started = time.perf_counter()
            async with db.uow() as uow:
                result = await compute_kpis(uow.session, window[0], window[1], NOW)
            times.append(time.perf_counter() - started)
        return statistics.median(times), result
    finally:
        await db.close()


def compare(url: str, path: Path, runs: int) -> None:
    """Time the engine and the raw SQL for 30 days and all time; print the ratio."""
    print(f"{'period':<10}{'compute_kpis':>14}{'raw SQL':>10}{'ratio':>8}")
    for label, since, until in (
        ("30 days", NOW - timedelta(days=30), NOW),
        ("all time", None, None),
    ):
        engine_s, figures = asyncio.run(time_engine(url, runs, (since, until)))
        con = sqlite3.connect(path)
        try:
            raw_s, raw = median_time(partial(raw_kpis, con, since, until), runs)
        finally:
            con.close()
        if raw != figures:
            print(f"  MISMATCH for {label}:\n  engine {figures}\n  raw    {raw}")
        ratio = engine_s / raw_s
        print(f"{label:<10}{engine_s * 1000:>11.1f} ms{raw_s * 1000:>7.1f} ms{ratio:>7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kpi")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument("--skip-import", action="store_true", help="no import timing")
    parser.add_argument("--dir", type=Path, help="keep the files here (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        where = args.dir or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        path = where / "kpi-bench.db"
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{path}"
        asyncio.run(migrate(url))
        started = time.perf_counter()
        counts = build(path, args.scale)
        built = ", ".join(f"{v:,} {k}" for k, v in counts.items())
        print(f"built {built} in {time.perf_counter() - started:.1f} s")
        compare(url, path, args.runs)
        if not args.skip_import:
            bench_import(where, max(1_000, int(1_000_000 * args.scale)))


if __name__ == "__main__":
    main()
