"""The conversation engine alone on SQLite: group commit and the one-trip driver.

    .venv/bin/python -m benchmarks.engine             # 2,000 updates, 5 runs of each
    .venv/bin/python -m benchmarks.engine --runs 1    # one run of each

Each run seeds 200 customers with a survey in progress in a fresh SQLite file and
hands the engine the throughput benchmark's 10 updates per customer through the
adapters' per-chat queue (``ChatQueue``): no channel, no HTTP, the engine's
transactions only. Three set-ups, alternating so that all see the same machine:

* ``group``: what ``postsale run`` does on SQLite: 16 chats at once, the updates
  waiting for the writer sharing its next transaction (``bot.engine.group_commit``);
* ``one-trip``: one update at a time, each in its own transaction, with SQLite's
  fast path (``storage.sqlite.driver``: BEGIN and COMMIT on SQLite's thread, the
  update's own statements inline, any other statement one trip);
* ``aiosqlite``: the same with ``SQLITE_FAST_PATH=0``, plain SQLAlchemy over plain
  ``aiosqlite`` (four trips per statement).

Reported: median updates per second of each, the ratios, and trips to the database
thread per update (our driver's; not counted for aiosqlite).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.throughput import PER_CUSTOMER, script, seed
from storage.sqlite.driver import Connection

CUSTOMERS = 200


def _count_trips(counter: list[int]) -> None:
    """Count every call queued on our driver's connection threads."""
    original = Connection._call

    async def counted(self: Connection, fn: Any) -> Any:
        counter[0] += 1
        return await original(self, fn)

    Connection._call = counted  # type: ignore[method-assign]


SETUPS = {"group": ("one-trip", 16), "one-trip": ("one-trip", 1), "aiosqlite": ("aiosqlite", 1)}


async def one_run(setup: str, trips: list[int]) -> tuple[float, float]:
    """(updates a second, trips per update) for one fresh database."""
    from aiogram.types import Update

    from bot.app import Database
    from bot.bootstrap import build_core
    from bot.channels.chat_queue import ChatQueue
    from bot.channels.port import Incoming
    from bot.channels.telegram.common import to_incoming
    from bot.settings import Settings

    driver, concurrency = SETUPS[setup]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'engine.db'}"
        seeded = await seed(url, CUSTOMERS)
        db = await Database.open(url, fast_path=driver == "one-trip")
        settings = Settings(_env_file=None, default_locale="en")
        limit = 32 if concurrency > 1 else 1
        engine = build_core(db, settings, operator_commands=False, group_limit=limit).pipeline
        queue = ChatQueue(concurrency)
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
            await asyncio.gather(*(queue.submit(u.key, partial(engine.handle, u)) for u in updates))
            elapsed = time.perf_counter() - started
            return len(updates) / elapsed, trips[0] / len(updates)
        finally:
            await db.close()


async def main(runs: int) -> None:
    trips = [0]
    _count_trips(trips)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in SETUPS}
    for _ in range(runs):
        for setup in results:
            results[setup].append(await one_run(setup, trips))
    print(f"{CUSTOMERS * PER_CUSTOMER} updates; median of {runs} run(s) each")
    medians = {}
    for setup, found in results.items():
        medians[setup] = statistics.median(rate for rate, _ in found)
        per_update = statistics.median(t for _, t in found)
        runs_text = ", ".join(f"{rate:.0f}" for rate, _ in found)
        driver, concurrency = SETUPS[setup]
        trips_text = f"; {per_update:.1f} trips to SQLite's thread per update"
        print(
            f"  {setup:9} ({driver}, {concurrency:2} at once): {medians[setup]:6.0f} updates/s "
            f"(runs: {runs_text}){trips_text if driver == 'one-trip' else ''}"
        )
    print(f"  => group / one-trip = {medians['group'] / medians['one-trip']:.2f}")
    print(f"  => one-trip / aiosqlite = {medians['one-trip'] / medians['aiosqlite']:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
