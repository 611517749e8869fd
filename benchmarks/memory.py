"""``postsale run``'s resident memory over minutes of traffic, against a large database.

    .venv/bin/python -m benchmarks.memory                        # 100,000 customers, 10 min
    .venv/bin/python -m benchmarks.memory --minutes 3            # a shorter run
    .venv/bin/python -m benchmarks.memory --customers 2000 --outbox 2000 --minutes 1
    .venv/bin/python -m benchmarks.memory --postgres postgresql+asyncpg://postgres@127.0.0.1/db

Two runs, one after the other, of ``postsale run`` (the ``full`` child of
``benchmarks.throughput``, aiogram by default) against the fake Bot API server in this
process:

* ``empty``: the baseline, the same bot on a database with no customers and nothing
  queued;
* ``loaded``: ``--customers`` customers in the middle of the survey (a delivered order,
  the invitation sent, the conversation waiting for the NPS press) and ``--outbox``
  messages queued for them, bulk-inserted before the bot starts.

Both get the same traffic: ``--rate`` updates a second, each from the next customer of a
shuffled cycle over all of them (so the chats the bot has seen keep growing), each
customer's n-th update the n-th step of the survey (NPS press, reason, CSAT press, then
messages). The send limits are raised as in ``benchmarks.throughput``, so the sender
drains the backlog as fast as it can while the updates come in. The bot's ``VmRSS`` is
sampled every ``--sample`` seconds; reported per minute: median and peak, then the ratio
of the last minute's median to the first's (flat: about 1.0) and the bot's peak
(``VmHWM``), and the loaded run's peak over the empty one's.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.throughput import ROOT, child_env, script
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi

CHAT0 = 10_000  # customer n chats from CHAT0 + n
BATCH = 5_000  # rows per INSERT statement group


def rows(customers: int, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows for ``customers`` customers waiting for their NPS press."""
    out: dict[str, list[dict[str, Any]]] = {
        "customers": [],
        "channel_identities": [],
        "orders": [],
        "followups": [],
        "conversations": [],
    }
    for n in range(customers):
        key, chat = n + 1, str(CHAT0 + n)
        out["customers"].append(
            {"id": key, "external_id": f"mem-{n}", "name": "Ana", "created_at": now}
        )
        out["channel_identities"].append(
            {"customer_id": key, "channel": "telegram", "chat_id": chat, "user_id": chat,
             "linked_at": now}
        )  # fmt: skip
        out["orders"].append(
            {"id": key, "external_id": f"mem-{n}-o1", "customer_id": key, "total_cents": 10000,
             "currency": "BRL", "purchased_at": now - timedelta(days=10),
             "delivered_at": now - timedelta(days=2), "created_at": now, "updated_at": now}
        )  # fmt: skip
        out["followups"].append(
            {"id": key, "order_id": key, "customer_id": key, "status": "sent", "due_at": now,
             "sent_at": now}
        )  # fmt: skip
        out["conversations"].append(
            {"channel": "telegram", "chat_id": chat, "customer_id": key, "flow": "survey",
             "state": "nps", "data": {"fid": key, "order": key, "label": f"#mem-{n}-o1"},
             "updated_at": now}
        )  # fmt: skip
    return out


def backlog(messages: int, customers: int, now: datetime) -> list[dict[str, Any]]:
    """``messages`` queued replies, spread over the customers (or unknown chats)."""
    return [
        {"channel": "telegram", "chat_id": str(CHAT0 + n % max(customers, 1)),
         "customer_id": n % customers + 1 if customers else None, "purpose": "reply",
         "body": {"text": f"backlog message {n}"}, "status": "queued",
         "created_at": now, "not_before": now, "attempts": 0}
        for n in range(messages)
    ]  # fmt: skip


async def seed(db_url: str, customers: int, messages: int) -> float:
    """Migrate ``db_url`` and bulk-insert the customers and the backlog; seconds taken."""
    from sqlalchemy import text

    from bot.app import Database
    from storage.models import Base

    started = time.monotonic()
    now = datetime.now(UTC) - timedelta(minutes=1)
    db = await Database.open(db_url)
    tables = Base.metadata.tables
    try:
        tables_rows = [*rows(customers, now).items(), ("outbox", backlog(messages, customers, now))]
        for name, found in tables_rows:
            for start in range(0, len(found), BATCH):
                async with db.engine.begin() as conn:
                    await conn.execute(tables[name].insert(), found[start : start + BATCH])
        if db.engine.dialect.name == "postgresql" and customers:
            async with db.engine.begin() as conn:
                for name in ("customers", "orders", "followups"):
                    await conn.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), {customers})")
                    )
    finally:
        await db.close()
    return time.monotonic() - started


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


async def traffic(api: FakeBotApi, token: str, customers: int, rate: float, until: float) -> int:
    """Updates at ``rate``/s, from a shuffled cycle of customers; returns how many."""
    order = list(range(max(customers, 1_000)))  # an empty database still gets 1,000 chats
    random.Random(7).shuffle(order)
    steps: dict[int, int] = {}
    sent, tick, started = 0, 0.1, time.monotonic()
    while time.monotonic() < until:
        due = int((time.monotonic() - started) * rate) - sent
        batch = []
        for _ in range(max(due, 0)):
            n = order[sent % len(order)]
            step = steps.get(n, 0)
            steps[n] = step + 1
            batch.append(script(CHAT0 + n, n + 1, step))
            sent += 1
        if batch:
            await api.inject(*batch, token=token)
        await asyncio.sleep(tick)
    return sent


async def one_run(
    api: FakeBotApi, url: str, label: str, customers: int, messages: int, args: argparse.Namespace
) -> dict[str, Any]:
    token = f"{8000 + len(label)}00:MEMORY"
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'memory.db'}"
        if args.postgres:
            db_url = args.postgres
            await reset_postgres(db_url)
        seconds = await seed(db_url, customers, messages)
        print(f"  {label}: seeded {customers} customers, {messages} queued in {seconds:.0f} s")
        # One update waiting: its fetch (``served_at``) says the bot is up.
        await api.inject(tg.message(CHAT0, "hello"), token=token)
        env = child_env(token, url, db_url, args.framework)
        env["DATA_DIR"] = str(Path(tmp) / "files")
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.throughput", "--child", "full",
            "--concurrency", "16", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        samples: list[tuple[float, float]] = []
        try:
            await api.wait_until(lambda: api.served_at(token) is not None, within=300)
            started = time.monotonic()
            until = started + args.minutes * 60
            driver = asyncio.create_task(traffic(api, token, customers, args.rate, until))
            while time.monotonic() < until:
                samples.append((time.monotonic() - started, rss_mb(child.pid)))
                await asyncio.sleep(args.sample)
            updates = await driver
            peak = rss_mb(child.pid, "VmHWM")
        finally:
            child.send_signal(signal.SIGTERM)
            await child.communicate()
    return {"samples": samples, "peak": peak, "updates": updates, "sends": api.sends[token]}


async def reset_postgres(url: str) -> None:
    """An empty schema on ``--postgres`` (every table of the bot dropped first)."""
    from bot.app import Database
    from storage.models import Base

    db = await Database.open(url, migrate=False)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    finally:
        await db.close()


def report(label: str, run: dict[str, Any]) -> float:
    """Per-minute median and peak RSS; returns the last minute's median over the first's."""
    minutes: dict[int, list[float]] = {}
    for at, mb in run["samples"]:
        minutes.setdefault(int(at // 60), []).append(mb)
    medians = [statistics.median(found) for _, found in sorted(minutes.items())]
    for minute, found in sorted(minutes.items()):
        print(f"    {label} minute {minute + 1}: median {statistics.median(found):.0f} MB,"
              f" peak {max(found):.0f} MB ({len(found)} samples)")  # fmt: skip
    ratio = medians[-1] / medians[0] if medians else float("nan")
    print(
        f"  {label}: {run['updates']} updates, {run['sends']} messages sent; last/first minute"
        f" median RSS {ratio:.3f}; peak RSS (VmHWM) {run['peak']:.0f} MB",
        flush=True,
    )
    return ratio


async def main(args: argparse.Namespace) -> None:
    api = FakeBotApi()
    api.record = False  # count sends only: the server's own memory stays flat
    url = await api.start()
    where = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"postsale run ({args.framework}, {where}) for {args.minutes:g} min each, "
        f"{args.rate:g} updates/s, RSS every {args.sample:g} s"
    )
    try:
        empty = await one_run(api, url, "empty", 0, 0, args)
        report("empty", empty)
        loaded = await one_run(api, url, "loaded", args.customers, args.outbox, args)
        report("loaded", loaded)
    finally:
        await api.close()
    print(
        f"  => peak RSS loaded {loaded['peak']:.0f} MB / empty {empty['peak']:.0f} MB = "
        f"{loaded['peak'] / empty['peak']:.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="of traffic, each run")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--outbox", type=int, default=100_000, help="messages queued")
    parser.add_argument("--rate", type=float, default=50.0, help="updates a second")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--framework", choices=("aiogram", "ptb"), default="aiogram")
    parser.add_argument("--postgres", default="", help="a PostgreSQL database URL (emptied)")
    asyncio.run(main(parser.parse_args()))
