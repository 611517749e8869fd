"""``GET /metrics``: the process's counters (``bot.metrics``) and the database's figures.

The database's figures (the outbox's queue per channel, follow-ups due, active tickets
and those past a target) are read on each scrape with a few indexed statements
(``storage.read.health``); when the database does not answer, the page still has the
process's counters and ``postsale_database_up 0``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.app import Database
from bot.metrics import Metrics
from bot.operators.alerts import targets_of
from bot.settings import Settings
from storage.read.health import Queue, TicketFigures, followups_due, outbox_queues, ticket_figures

log = logging.getLogger("postsale.http")

PATH = "/metrics"
# A scrape gives up on the database after this (Prometheus' own timeout is 10 s).
READ_TIMEOUT = 5.0


class DatabaseFigures(Collector):
    """The figures of the last read, as Prometheus gauges."""

    def __init__(self, channels: Iterable[str]) -> None:
        self.channels = sorted(channels)
        self.up = False
        self.now = datetime.now(UTC)
        self.queues: list[Queue] = []
        self.due = 0
        self.tickets = TicketFigures(0, {})

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("postsale_database_up", "1 when the database answered this scrape")
        up.add_metric([], 1.0 if self.up else 0.0)
        yield up
        if not self.up:
            return
        yield from self._queues()
        due = GaugeMetricFamily("postsale_followups_due", "Follow-ups due and not sent yet")
        due.add_metric([], self.due)
        yield due
        tickets = GaugeMetricFamily(
            "postsale_tickets_open", "Active tickets (open or waiting on the customer)"
        )
        tickets.add_metric([], self.tickets.open)
        yield tickets
        breaching = GaugeMetricFamily(
            "postsale_tickets_breaching_sla",
            "Active tickets past their service-level target",
            labels=["target"],
        )
        for target, n in sorted(self.tickets.breaching.items()):
            breaching.add_metric([target], n)
        yield breaching

    def _queues(self) -> Iterator[Metric]:
        queued = GaugeMetricFamily(
            "postsale_outbox_queued", "Outbox messages queued", labels=["channel"]
        )
        oldest = GaugeMetricFamily(
            "postsale_outbox_oldest_queued_seconds",
            "Age of the oldest queued outbox message (0: none queued)",
            labels=["channel"],
        )
        by_channel = {q.channel: q for q in self.queues}
        for channel in sorted(set(self.channels) | set(by_channel)):
            q = by_channel.get(channel)
            queued.add_metric([channel], q.queued if q else 0)
            age = max((self.now - q.oldest).total_seconds(), 0.0) if q else 0.0
            oldest.add_metric([channel], age)
        yield queued
        yield oldest

    async def read(self, db: Database, settings: Settings) -> None:
        self.now = datetime.now(UTC)
        try:
            async with asyncio.timeout(READ_TIMEOUT), db.reader() as uow:
                session = uow.session
                self.queues = await outbox_queues(session)
                self.due = await followups_due(session, self.now)
                self.tickets = await ticket_figures(session, targets_of(settings), self.now)
            self.up = True
        except Exception:
            log.warning("/metrics: the database did not answer", exc_info=True)
            self.up = False


def authorized(request: web.Request, token: str) -> bool:
    """No token set, or the request's bearer token is it (compared in constant time)."""
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    # As bytes: compare_digest refuses str with characters outside ASCII.
    return hmac.compare_digest(given.strip().encode(), token.encode())


def add_metrics_route(
    app: web.Application,
    db: Database,
    settings: Settings,
    metrics: Metrics,
    channels: Iterable[str],
) -> None:
    """Serve ``GET /metrics`` from ``metrics`` and the database's figures."""
    figures = DatabaseFigures(channels)
    read_now = CollectorRegistry()
    read_now.register(figures)
    lock = asyncio.Lock()  # scrapes at once read once each, one after the other

    async def page(request: web.Request) -> web.Response:
        # Before the lock and the read: a stranger's request costs the database nothing.
        if not authorized(request, settings.metrics_token):
            return web.Response(
                status=401,
                text="401: Authorization: Bearer <METRICS_TOKEN> wanted\n",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        async with lock:
            await figures.read(db, settings)
            body = generate_latest(metrics.registry) + generate_latest(read_now)
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app.router.add_get(PATH, page)
