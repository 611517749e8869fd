"""The order import half of ``benchmarks.kpi``: an orders CSV written lazily, then
``postsale import-orders`` timed on it twice (new rows, then every row unchanged)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def write_orders_csv(path: Path, rows: int, seed: int = 11) -> None:
    """An orders CSV of ``rows`` rows (half the customers buy twice), written lazily."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(
            "order_id,customer_id,customer_name,phone,email,locale,timezone,total,"
            "currency,purchased_at,delivered_at\n"
        )
        for n in range(rows):
            c = n // 2 if n % 4 else n
            bought = NOW - timedelta(minutes=rng.randint(0, 1_000_000))
            delivered = (bought + timedelta(days=5)).isoformat(" ", "seconds") if n % 5 else ""
            fh.write(
                f"ord-{n},cust-{c},Cliente {c},+55 11 9{c % 10**8:08d},c{c}@example.com,pt-BR,,"
                f"{rng.randint(100, 99_999) / 100:.2f},BRL,{bought.isoformat(' ', 'seconds')},"
                f"{delivered}\n"
            )


def time_import(path: Path, url: str) -> float:
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "import-orders", str(path), "--show", "3"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    print("   ", done.stdout.strip().replace("\n", "\n    "))
    if done.returncode:
        print(done.stderr, file=sys.stderr)
    return took


def bench_import(where: Path, rows: int) -> None:
    """Write ``rows`` orders and time ``postsale import-orders`` on them, twice."""
    csv_path = where / "orders.csv"
    write_orders_csv(csv_path, rows)
    fresh = where / "import-bench.db"
    for stale in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):
        stale.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{fresh}"
    for label in ("new", "unchanged"):
        took = time_import(csv_path, url)
        print(f"import-orders {rows:,} rows ({label}): {took:.1f} s, {rows / took:,.0f} rows/s")
