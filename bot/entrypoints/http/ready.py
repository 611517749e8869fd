"""``GET /readyz``: whether this bot can do its work now, naming what is wrong.

Three checks: the database answers; each channel's server answered its last probe;
the outbox is not stuck (no queued message has been due for ``OUTBOX_STUCK_AFTER``
while no send result was recorded for as long). The answer comes within
``BUDGET`` seconds: the channels are probed in the background every
``PROBE_EVERY`` seconds (a Bot API ``getMe``), never while a check waits, and the
database gets what is left of the budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlalchemy import text

from bot.app import Database
from bot.settings import Settings
from storage.read.health import last_progress, outbox_queues

log = logging.getLogger("postsale.http")

PATH = "/readyz"
BUDGET = 0.08  # seconds: under the 100 ms a probe of an orchestrator may allow
PROBE_EVERY = 15.0
PROBE_TIMEOUT = 10.0


class ChannelProbes:
    """Each probing channel's last answer: None when it answered, else what went wrong."""

    def __init__(self, channels: Mapping[str, object]) -> None:
        self.channels = {n: c for n, c in channels.items() if callable(getattr(c, "probe", None))}
        # The server starts after every channel's credentials were checked (``open``):
        # each answered then, and is asked again every ``PROBE_EVERY`` seconds.
        self.last: dict[str, str | None] = dict.fromkeys(self.channels)

    async def probe_all(self) -> None:
        for name, channel in self.channels.items():
            try:
                async with asyncio.timeout(PROBE_TIMEOUT):
                    await channel.probe()  # type: ignore[attr-defined]
            except Exception as exc:
                self.last[name] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                self.last[name] = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PROBE_EVERY)
            if not stop.is_set():
                await self.probe_all()


async def outbox_problem(db: Database, stuck_after: timedelta, now: datetime) -> str | None:
    """Why the outbox looks stuck, or None."""
    async with db.reader() as uow:
        queues = await outbox_queues(uow.session)
        since = now - stuck_after
        late = [q for q in queues if q.first_due < since]
        if not late:
            return None
        progress = await last_progress(uow.session)
    if progress is not None and progress >= since:
        return None  # due messages wait, but messages are going out: a backlog
    names = ", ".join(f"{q.channel} ({q.queued} queued)" for q in late)
    return f"stuck: messages due for over {stuck_after} and none sent since: {names}"


async def database_problem(db: Database) -> str | None:
    async with db.reader() as uow:
        await uow.session.execute(text("SELECT 1"))
    return None


async def checks(db: Database, settings: Settings, probes: ChannelProbes) -> dict[str, str]:
    """Each check's answer: "ok" or what is wrong."""
    found = {name: problem or "ok" for name, problem in sorted(probes.last.items())}
    now = datetime.now(UTC)
    try:
        async with asyncio.timeout(BUDGET):
            await database_problem(db)
            found["database"] = "ok"
            found["outbox"] = await outbox_problem(db, settings.outbox_stuck_after, now) or "ok"
    except TimeoutError:
        found.setdefault("database", f"no answer within {BUDGET * 1000:.0f} ms")
        found.setdefault("outbox", "not checked: the database did not answer in time")
    except Exception as exc:
        found.setdefault("database", f"unreachable: {type(exc).__name__}")
        found.setdefault("outbox", "not checked: no database")
    return found


def add_ready_route(
    app: web.Application, db: Database, settings: Settings, channels: Mapping[str, object]
) -> ChannelProbes:
    """Serve ``GET /readyz``; the channels are probed while the server runs."""
    probes = ChannelProbes(channels)

    async def page(request: web.Request) -> web.Response:
        found = await checks(db, settings, probes)
        ok = all(answer == "ok" for answer in found.values())
        return web.json_response({"ok": ok, "checks": found}, status=200 if ok else 503)

    async def probing(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(probes.run(stop), name="channel probes")
        yield
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.router.add_get(PATH, page)
    if probes.channels:
        app.cleanup_ctx.append(probing)
    return probes
