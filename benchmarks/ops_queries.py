"""How long /metrics' and /readyz's database reads take on a large outbox.

    .venv/bin/python benchmarks/ops_queries.py [DATABASE_URL] [ROWS]

Fills an empty database with ROWS outbox rows (1% queued, the rest sent or failed) and
200 active tickets (follow-ups: an empty table; its count uses ix_followups_status_due_at),
then times each read (median of 20).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Database
from bot.entrypoints.http.ready import outbox_problem
from bot.operators.alerts import targets_of
from bot.settings import Settings
from storage.models import OutboxMessage, Ticket
from storage.read.health import followups_due, last_progress, outbox_queues, ticket_figures


async def fill(db: Database, rows: int, now: datetime) -> None:
    def outbox(i: int) -> dict[str, object]:
        status = "queued" if i % 100 == 0 else ("failed" if i % 50 == 1 else "sent")
        at = now - timedelta(seconds=rows - i)
        return {
            "channel": "telegram" if i % 3 else "whatsapp",
            "chat_id": str(i % 5000),
            "purpose": "reply",
            "body": {"text": "x"},
            "status": status,
            "created_at": at,
            "sent_at": at if status == "sent" else None,
            "failed_at": at if status == "failed" else None,
            "attempts": 0,
            "unknowns": 0,
        }

    async with db.uow() as uow:
        for start in range(0, rows, 10_000):
            batch = [outbox(i) for i in range(start, min(start + 10_000, rows))]
            await uow.session.execute(insert(OutboxMessage), batch)
        await uow.session.execute(
            insert(Ticket),
            [
                {
                    "source": "complaint",
                    "category": "other",
                    "status": "open",
                    "opened_at": now - timedelta(hours=i),
                    "waiting_s": 0,
                    "reopened_count": 0,
                }
                for i in range(200)
            ],
        )
        await uow.commit()


async def main(url: str, rows: int) -> None:
    db = await Database.open(url)
    settings = Settings(_env_file=None, database_url=url)
    now = datetime.now(UTC)
    await fill(db, rows, now)
    reads: dict[str, Callable[[AsyncSession], Awaitable[Any]]] = {
        "outbox_queues": outbox_queues,
        "last_progress": last_progress,
        "followups_due": lambda s: followups_due(s, now),
        "ticket_figures (200 active)": lambda s: ticket_figures(s, targets_of(settings), now),
    }
    for name, read in reads.items():
        took = []
        for _ in range(20):
            async with db.reader() as uow:
                started = time.perf_counter()
                await read(uow.session)
                took.append(time.perf_counter() - started)
        print(f"{name:30s} median {statistics.median(took) * 1000:7.2f} ms")
    took = []
    for _ in range(20):
        started = time.perf_counter()
        await outbox_problem(db, timedelta(minutes=10), now)
        took.append(time.perf_counter() - started)
    print(f"{'readyz outbox check':30s} median {statistics.median(took) * 1000:7.2f} ms")
    await db.close()


if __name__ == "__main__":
    default = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'ops.db'}"
    asyncio.run(
        main(
            sys.argv[1] if len(sys.argv) > 1 else default,
            int(sys.argv[2]) if len(sys.argv) > 2 else 100_000,
        )
    )
