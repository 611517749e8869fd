"""What the delivery notices add to the scheduler's pass, on a store with many orders.

    python -m benchmarks.notices [--orders 200000] [--runs 21]

A SQLite file with ``--orders`` orders of as many customers: most delivered weeks ago,
2 % shipped or out for delivery within the last two days, 1 % past their estimated
date and not delivered. A first pass plans and settles everything (no chat is linked,
so each notice is recorded as ``no_chat``); then the steady-state pass -- what runs
every 5 seconds -- is timed with the notices on and with them off, alternating, and
the medians are printed with their ratio (the machine is shared: read the ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bot.app import Database
from bot.bootstrap import build_core
from bot.scheduling.scheduler import Scheduler
from bot.settings import Settings
from storage.models import Customer, DeliveryNotice, Order

NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)
OFF: dict[str, Any] = {
    "notice_shipped": False,
    "notice_out_for_delivery": False,
    "notice_delivery_failed": False,
    "notice_delay": False,
}


def _order(n: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "external_id": f"o{n}",
        "customer_id": n + 1,
        "total_cents": 9990,
        "currency": "BRL",
        "purchased_at": NOW - timedelta(days=40),
        "created_at": NOW - timedelta(days=40),
        "updated_at": NOW - timedelta(days=30),
        "delivered_at": NOW - timedelta(days=30),
        "delivery_status": None,
        "delivery_status_at": None,
        "estimated_delivery_at": None,
    }
    if n % 50 == 0:  # on its way, news of the last two days
        row.update(delivered_at=None, delivery_status=("shipped", "out_for_delivery")[n % 2])
        row.update(delivery_status_at=NOW - timedelta(hours=n % 40))
        row.update(estimated_delivery_at=NOW + timedelta(days=2))
    elif n % 100 == 1:  # late: its estimate passed, still shipped
        row.update(delivered_at=None, delivery_status="shipped")
        row.update(delivery_status_at=NOW - timedelta(days=5))
        row.update(estimated_delivery_at=NOW - timedelta(days=1, hours=n % 20))
    return row


async def _fill(db: Database, orders: int) -> None:
    async with db.engine.begin() as conn:
        for start in range(0, orders, 20_000):
            chunk = range(start, min(start + 20_000, orders))
            customers = [{"external_id": f"c{n}", "created_at": NOW} for n in chunk]
            await conn.execute(insert(Customer), customers)
            await conn.execute(insert(Order), [_order(n) for n in chunk])


def _scheduler(db: Database, settings: Settings) -> Scheduler:
    core = build_core(db, settings, lambda: NOW)
    return Scheduler(db, settings, core.messenger, lambda: NOW, plan_limit=10**7)


async def _timed(scheduler: Scheduler) -> float:
    started = time.perf_counter()
    await scheduler.tick()
    return time.perf_counter() - started


async def bench(orders: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as where:
        db = await Database.open(f"sqlite+aiosqlite:///{Path(where) / 'notices.db'}")
        try:
            await _fill(db, orders)
            base: dict[str, Any] = {"_env_file": None, "default_timezone": "America/Sao_Paulo"}
            on = _scheduler(db, Settings(**base))
            off = _scheduler(db, Settings(**base, **OFF))
            first, passes, notices = 0.0, 0, -1
            while True:  # the first passes plan the follow-ups and settle every notice
                first += await _timed(on)
                passes += 1
                async with db.uow() as uow:
                    now_planned = await uow.session.scalar(select(func.count(DeliveryNotice.id)))
                if now_planned == notices:
                    break
                notices = int(now_planned or 0)
            print(
                f"{orders:,} orders; {passes} first passes, {first:.1f} s in all, "
                f"{notices:,} notices settled"
            )
            timings: dict[str, list[float]] = {"on": [], "off": []}
            for _ in range(runs):
                timings["on"].append(await _timed(on))
                timings["off"].append(await _timed(off))
        finally:
            await db.close()
    med = {k: statistics.median(v) for k, v in timings.items()}
    print(f"steady pass, notices off: median {med['off'] * 1000:.1f} ms ({runs} runs)")
    print(f"steady pass, notices on:  median {med['on'] * 1000:.1f} ms ({runs} runs)")
    print(f"ratio on / off: {med['on'] / med['off']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    asyncio.run(bench(args.orders, args.runs))


if __name__ == "__main__":
    main()
