"""``postsale run``: the channel, the scheduler and the outbox sender in one process.

What runs is built by ``bot.bootstrap``; this module owns signals, tasks and the
order of starting and stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.app import Database, open_database
from bot.bootstrap import App, build_app
from bot.channels.port import Channel, Opening
from bot.channels.registry import enabled_factories
from bot.delivery import exports
from bot.delivery.lease import SenderLease, run_with_lease
from bot.heap import TRIM_EVERY, release_free_memory, tune_garbage_collector
from bot.settings import Settings
from bot.startup import StartupError
from storage.webhook_deliveries import forget_older

if TYPE_CHECKING:
    from storage.outbox_wakeups import OutboxWakeups

log = logging.getLogger("postsale.run")


def _update_concurrency(settings: Settings) -> int:
    """How many chats' updates are handled at once.

    SQLite has one writer: the updates waiting for it share its next transaction
    (``bot.engine.group_commit``), so more chats at once means larger group commits rather
    than transactions queueing in SQLite's busy handler. PostgreSQL locks per
    conversation row, so chats really run side by side. Both measured with
    ``benchmarks/throughput.py`` (README).
    """
    from storage.db import is_sqlite

    return 16 if is_sqlite(settings.database_url) else 32


async def _serve_http(settings: Settings, db: Database, app: Any) -> Any:
    """The HTTP server (when a channel's routes, ingestion or the web admin need it, or
    HTTP_SERVER=on), the web admin wired to the app's messenger and outbox sender; a
    taken port is one line."""
    from bot.entrypoints.http.wanted import http_server_wanted

    if not http_server_wanted(settings, app.channels):
        return None
    from bot.entrypoints.http.admin import AdminWiring
    from bot.entrypoints.http.app import start_http_server

    wake = app.sender.wake
    admin = AdminWiring(app.core.messenger, wake, app.core.clock)
    try:
        return await start_http_server(
            settings, db, app.channels, on_orders=wake, counts=app.core.metrics, admin=admin
        )
    except OSError as exc:
        where = f"{settings.http_host}:{settings.http_port}"
        raise StartupError(
            f"HTTP_HOST:HTTP_PORT {where}: cannot listen ({exc.strerror or exc}):"
            " set HTTP_PORT to a free port, or stop what listens there"
        ) from exc


def _trim_heap(stop: asyncio.Event) -> Coroutine[Any, Any, None]:
    """Free C heap pages back to the system now and then (``bot.heap``)."""

    async def trim() -> None:
        release_free_memory()

    return _periodic(stop, TRIM_EVERY, trim, "heap trim")


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


def _export_sweep(settings: Settings, stop: asyncio.Event) -> Coroutine[Any, Any, None]:
    """Delete stale /mydata files now (start-up) and then a few times per ``EXPORT_TTL``."""
    every = min(max(settings.export_ttl.total_seconds() / 4, 1.0), 300.0)

    async def sweep() -> None:
        await exports.sweep_now(settings.data_dir, settings.export_ttl)

    return _periodic(stop, every, sweep, "export sweep")


# Store platforms stop retrying a webhook within days (Shopify: 48 hours; WooCommerce:
# five tries); a delivery id older than this cannot come back as a replay.
WEBHOOK_NOTES_KEPT = timedelta(days=7)


def _webhook_notes_sweep(db: Database, stop: asyncio.Event) -> Coroutine[Any, Any, None]:
    """Forget the store webhooks' delivery ids no platform will send again, hourly."""

    async def sweep() -> None:
        async with db.uow() as uow:
            await forget_older(uow.session, datetime.now(UTC) - WEBHOOK_NOTES_KEPT)
            await uow.commit()

    return _periodic(stop, 3600.0, sweep, "webhook notes sweep")


async def _close(channels: list[Channel]) -> None:
    """Release every channel that holds a connection (after the outbox sender stopped)."""
    for channel in channels:
        if isinstance(channel, Opening):
            await channel.close()


def _options(settings: Settings, tuning: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Every channel takes as many chats at once; the Telegram-only tuning stays Telegram's."""
    options = {"concurrency": _update_concurrency(settings), **(tuning or {})}
    return {"telegram": options, "whatsapp": {"concurrency": options["concurrency"]}}


def _names(settings: Settings, channels: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{name} ({settings.bot_framework})" if name == "telegram" else name for name in channels
    )


def _warn_without_operators(settings: Settings, channels: Mapping[str, Any]) -> None:
    """Operators' alerts go to OPERATOR_CHANNEL: say so when that channel is not running."""
    if settings.operator_channel not in channels:
        log.warning(
            "OPERATOR_CHANNEL=%s is not running here (set BOT_TOKEN for Telegram): "
            "announcements and alerts for operators wait in the outbox",
            settings.operator_channel,
        )


def _send_outbox(db: Database, app: App, stop: asyncio.Event) -> Coroutine[Any, Any, None]:
    """The outbox sender, while this process holds the lease (its gauge says when)."""
    sender = app.sender
    return run_with_lease(
        SenderLease(db.engine),
        stop,
        lambda fence: sender.run(stop, fence=fence),
        metrics=app.core.metrics,
    )


async def _wakeups(db: Database, app: App) -> OutboxWakeups | None:
    """On PostgreSQL, the other processes' queued messages wake this one's sender, and
    this one's wake the sender elsewhere (not a second's poll later)."""
    if db.engine.dialect.name != "postgresql":
        return None
    from storage.outbox_wakeups import OutboxWakeups  # asyncpg: PostgreSQL only

    wakeups = OutboxWakeups(db.engine, app.sender.woken)
    app.sender.tell_others = wakeups.notify
    await wakeups.start()
    return wakeups


async def run_bot(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    channel_options: dict[str, Any] | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (or ``stop``); returns the exit code.

    ``channel_options`` tune the Telegram adapter (``concurrency``, ``pool_size``).
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    db = await open_database(settings)
    app = build_app(db, settings, enabled_factories(settings, _options(settings, channel_options)))
    channels = list(app.channels.values())
    try:
        # Every channel's credentials and the port are checked before anything runs:
        # with a wrong one, nothing is sent (and failed) and nothing is in hand to finish.
        for channel in channels:
            if isinstance(channel, Opening):
                await channel.open()
        http = await _serve_http(settings, db, app)
        wakeups = await _wakeups(db, app)
    except BaseException:
        await _close(channels)
        await db.close()
        raise
    tune_garbage_collector()
    _warn_without_operators(settings, app.channels)
    tasks = [
        asyncio.create_task(_send_outbox(db, app, stop), name="outbox"),
        asyncio.create_task(app.core.scheduler.run(stop), name="scheduler"),
        asyncio.create_task(_periodic(stop, 60.0, app.watch_sla, "SLA watch"), name="sla"),
    ]
    tasks.append(asyncio.create_task(_export_sweep(settings, stop), name="export sweep"))
    tasks.append(asyncio.create_task(_webhook_notes_sweep(db, stop), name="webhook notes"))
    tasks.append(asyncio.create_task(_trim_heap(stop), name="heap trim"))
    try:
        for channel in channels:
            await channel.start()
        log.info("postsale is running (%s); Ctrl+C stops it", _names(settings, app.channels))
        await stop.wait()
    finally:
        log.info("stopping: no new updates, finishing the ones in hand")
        await asyncio.gather(*(channel.stop() for channel in channels))
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if http is not None:
            await http.cleanup()
        if wakeups is not None:
            await wakeups.close()
        await _close(channels)
        await db.close()
    log.info("stopped cleanly")
    return 0
