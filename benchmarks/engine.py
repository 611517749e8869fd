"""The conversation engine alone on SQLite: one-trip cursors against aiosqlite's own.

    .venv/bin/python -m benchmarks.engine             # 2,000 updates, 5 runs of each
    .venv/bin/python -m benchmarks.engine --runs 1    # one run of each

Each run seeds 200 customers with a survey in progress in a fresh SQLite file and
hands the engine the throughput benchmark's 10 updates per customer, one at a time,
as ``postsale run`` does on SQLite: no channel, no HTTP, the engine's transactions
only. Runs alternate between the driver ``postsale`` uses
(``storage.sqlite_driver``: one trip to SQLite's thread per statement) and plain
``aiosqlite`` (four trips per statement), so both see the same machine. Reported:
median updates per second of each, their ratio, and trips to the database thread
per update.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosqlite

import storage.sqlite_driver as one_trip
from benchmarks.throughput import PER_CUSTOMER, script, seed

CUSTOMERS = 200
PLAIN = aiosqlite.connect
ONE_TRIP = one_trip.connect


def _count_trips(counter: list[int]) -> None:
    """Count every call queued on an aiosqlite connection thread (both drivers use it)."""
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counter[0] += 1
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    aiosqlite.Connection._execute = counted  # type: ignore[method-assign]


async def one_run(driver: str, trips: list[int]) -> tuple[float, float]:
    """(updates a second, trips per update) for one fresh database."""
    from aiogram.types import Update

    from bot.app import Database
    from bot.channels.base import Incoming
    from bot.channels.telegram_common import to_incoming
    from bot.engine import Engine
    from bot.settings import Settings

    # storage.db looks the connect function up when it creates an engine.
    one_trip.connect = ONE_TRIP if driver == "one-trip" else PLAIN  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'engine.db'}"
        seeded = await seed(url, CUSTOMERS)
        db = await Database.open(url)
        engine = Engine(db, Settings(_env_file=None, default_locale="en"))
        updates: list[Incoming] = []
        for step in range(PER_CUSTOMER):
            for chat, fid in seeded:
                data = {"update_id": len(updates) + 1, **script(chat, fid, step)}
                incoming = to_incoming(Update.model_validate(data))
                assert incoming is not None
                updates.append(incoming)
        try:
            trips[0] = 0
            started = time.perf_counter()
            for incoming in updates:
                await engine.handle(incoming)
            elapsed = time.perf_counter() - started
            return len(updates) / elapsed, trips[0] / len(updates)
        finally:
            await db.close()
            one_trip.connect = ONE_TRIP


async def main(runs: int) -> None:
    trips = [0]
    _count_trips(trips)
    results: dict[str, list[tuple[float, float]]] = {"one-trip": [], "aiosqlite": []}
    for _ in range(runs):
        for driver in results:
            results[driver].append(await one_run(driver, trips))
    print(f"{CUSTOMERS * PER_CUSTOMER} updates, one at a time; median of {runs} run(s) each")
    medians = {}
    for driver, found in results.items():
        medians[driver] = statistics.median(rate for rate, _ in found)
        per_update = statistics.median(t for _, t in found)
        runs_text = ", ".join(f"{rate:.0f}" for rate, _ in found)
        print(
            f"  {driver:9}: {medians[driver]:6.0f} updates/s (runs: {runs_text}); "
            f"{per_update:.1f} trips to SQLite's thread per update"
        )
    print(f"  => one-trip / aiosqlite = {medians['one-trip'] / medians['aiosqlite']:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
