"""The counts a running bot keeps for ``/metrics`` (Prometheus): updates and sends.

Each ``Metrics`` owns its own ``CollectorRegistry`` rather than prometheus-client's
global one: tests build several bots in one process, and each must count only its own.
Figures that live in the database (the outbox's queue, follow-ups due, open tickets) are
not kept here: ``/metrics`` reads them when it is scraped (``bot.entrypoints.http.metrics``).
The names and labels are listed in docs/interface.md.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

log = logging.getLogger("postsale.engine")

# Handling an update takes milliseconds; a chat waiting behind a slow one, seconds.
UPDATE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class UpdateInHand:
    """The update a log line is about (``bot.log_format`` writes it into JSON lines)."""

    channel: str
    update_id: str
    chat: str


# Set while an update is handled: every line logged meanwhile is about it.
current_update: contextvars.ContextVar[UpdateInHand | None] = contextvars.ContextVar(
    "current_update", default=None
)


class Metrics:
    """A bot's counters and histograms, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates_handled = Counter(
            "postsale_updates_handled", "Updates handled and committed", ["channel"], registry=r
        )
        self.updates_duplicate = Counter(
            "postsale_updates_duplicate", "Updates seen before, ignored", ["channel"], registry=r
        )
        self.updates_failed = Counter(
            "postsale_updates_failed", "Updates whose handling raised", ["channel"], registry=r
        )
        self.update_seconds = Histogram(
            "postsale_update_seconds",
            "Time from an update's arrival at the pipeline to its commit",
            ["channel"],
            buckets=UPDATE_BUCKETS,
            registry=r,
        )
        self.outbox_sent = Counter(
            "postsale_outbox_sent", "Outbox messages sent", ["channel"], registry=r
        )
        self.outbox_failed = Counter(
            "postsale_outbox_failed",
            "Outbox messages failed for good (blocked, rejected, expired)",
            ["channel", "reason"],
            registry=r,
        )
        self.outbox_unknown = Counter(
            "postsale_outbox_unknown",
            "Outbox messages whose answer was lost twice (maybe delivered)",
            ["channel"],
            registry=r,
        )
        self.outbox_retries = Counter(
            "postsale_outbox_retries", "Sends to be tried again later", ["channel"], registry=r
        )
        self.rate_limited = Counter(
            "postsale_rate_limited", "429 answers from a channel's server", ["channel"], registry=r
        )
        # With several processes on one database, which one sends: the scrapes of all of
        # them should sum to 1 (0 for a moment during a takeover).
        self.outbox_sender = Gauge(
            "postsale_outbox_sender",
            "1 while this process holds the outbox sender lease, else 0",
            registry=r,
        )

    @contextlib.contextmanager
    def timing(self, channel: str, update_id: str, chat: str) -> Iterator[None]:
        """Time one update's handling (the lines logged meanwhile are about it); a raise
        counts as a failed update."""
        started = time.perf_counter()
        token = current_update.set(UpdateInHand(channel, update_id, chat))
        try:
            yield
        except BaseException:
            self.updates_failed.labels(channel).inc()
            raise
        finally:
            took = time.perf_counter() - started
            self.update_seconds.labels(channel).observe(took)
            log.debug(
                "update %s:%s of chat %s in %.1f ms",
                channel,
                update_id,
                chat,
                took * 1000,
                extra={"duration_ms": round(took * 1000, 3)},
            )
            current_update.reset(token)

    def handled(self, channels: Iterable[str]) -> None:
        """Updates committed (one channel name per update)."""
        for channel in channels:
            self.updates_handled.labels(channel).inc()


@contextlib.contextmanager
def about(channel: str, update_id: str, chat: str) -> Iterator[None]:
    """Lines logged inside are about this update."""
    token = current_update.set(UpdateInHand(channel, update_id, chat))
    try:
        yield
    finally:
        current_update.reset(token)
