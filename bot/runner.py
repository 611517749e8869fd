"""``postsale run``: the channel, the scheduler and the outbox sender in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from bot.app import Database
from bot.engine import Engine, utcnow
from bot.heap import tune_garbage_collector
from bot.operators import handle_operator, sla_watch
from bot.operators.chart import materialize_attachments
from bot.outbox_sender import OutboxSender
from bot.scheduler import Scheduler
from bot.sender_lease import SenderLease, run_with_lease
from bot.settings import Settings

log = logging.getLogger("postsale.run")


async def _operator_ids(db: Database) -> list[str]:
    """Operators from the operators table, for their command menu."""
    from sqlalchemy import select

    from storage.models import Operator

    async with db.uow() as uow:
        return [str(u) for u in (await uow.session.scalars(select(Operator.user_id))).all()]


def _body_renderer(db: Database, settings: Settings) -> Any:
    """Charts are drawn when their message is sent, not in the update's transaction."""

    async def render(body: dict[str, Any]) -> dict[str, Any]:
        return await materialize_attachments(db, body, settings)

    return render


def _update_concurrency(settings: Settings) -> int:
    """How many chats' updates are handled at once.

    SQLite has one writer: the updates waiting for it share its next transaction
    (``bot.group_commit``), so more chats at once means larger group commits rather
    than transactions queueing in SQLite's busy handler. PostgreSQL locks per
    conversation row, so chats really run side by side. Both measured with
    ``benchmarks/throughput.py`` (README).
    """
    from storage.db import is_sqlite

    return 16 if is_sqlite(settings.database_url) else 32


async def _periodic(
    stop: asyncio.Event, every: float, job: Callable[[], Awaitable[object]], name: str
) -> None:
    while not stop.is_set():
        try:
            await job()
        except Exception:
            log.exception("%s failed; trying again in %ss", name, every)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def run_bot(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    channel_options: dict[str, Any] | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (or ``stop``); returns the exit code.

    ``channel_options`` tune the Telegram adapter (``concurrency``, ``pool_size``).
    """
    from bot.channels.telegram import build_telegram_channel
    from bot.http.app import start_http_server

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    db = await Database.open(settings.database_url)
    clock = utcnow
    engine = Engine(db, settings, clock, handle_operator)
    options = {"concurrency": _update_concurrency(settings), **(channel_options or {})}
    channel = build_telegram_channel(settings, engine.handle, **options)
    channel.operator_ids = lambda: _operator_ids(db)
    sender = OutboxSender(
        db, {"telegram": channel}, settings, clock, render_body=_body_renderer(db, settings)
    )
    engine.on_queued.append(sender.wake)
    scheduler = Scheduler(db, settings, engine, clock, on_queued=sender.wake)
    tune_garbage_collector()
    tasks = [
        asyncio.create_task(
            run_with_lease(
                SenderLease(db.engine), stop, lambda fence: sender.run(stop, fence=fence)
            ),
            name="outbox",
        ),
        asyncio.create_task(scheduler.run(stop), name="scheduler"),
    ]

    async def watch_sla() -> None:
        if await sla_watch(db, settings, clock()):
            sender.wake()

    tasks.append(asyncio.create_task(_periodic(stop, 60.0, watch_sla, "SLA watch"), name="sla"))
    http = None
    try:
        http = await start_http_server(settings, db, channel, on_orders=sender.wake)
        await channel.start()
        log.info("postsale is running (%s); Ctrl+C stops it", settings.bot_framework)
        await stop.wait()
    finally:
        log.info("stopping: no new updates, finishing the ones in hand")
        await channel.stop()
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if http is not None:
            await http.cleanup()
        await channel.close()
        await db.close()
    log.info("stopped cleanly")
    return 0
