"""``POST /ingest/orders``: the store pushes orders and deliveries, signed with HMAC-SHA256.

The body is one order object or a list of them, with the fields of the orders CSV
(INTERFACE.md). The header ``X-Postsale-Signature: sha256=<hex>`` must carry the
HMAC-SHA256 of the raw body under ``INGEST_SECRET``; without a valid one nothing is
read and the answer is 401. Orders are upserted on ``order_id``, so a replay
changes nothing. The answer counts what was added, updated and rejected (and why).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.api import IngestResult, record_orders
from bot.app import Database
from bot.settings import Settings

log = logging.getLogger("postsale.ingest")

PATH = "/ingest/orders"
SIGNATURE_HEADER = "X-Postsale-Signature"
MAX_BODY = 5 * 1024 * 1024  # bytes; a store sends batches, not archives


def sign(secret: str, body: bytes) -> str:
    """The header value a sender puts on ``body``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of ``X-Postsale-Signature`` against the body."""
    if not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class IngestHandler:
    """The request handler; ``on_recorded`` is told after orders were stored."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Callable[[], datetime],
        on_recorded: Callable[[IngestResult], None] | None = None,
    ) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self.on_recorded = on_recorded

    async def __call__(self, request: web.Request) -> web.Response:
        secret = self.settings.ingest_secret
        if not secret:
            return _error(404, "order ingestion is disabled (INGEST_SECRET is not set)")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _error(413, f"body larger than {MAX_BODY} bytes")
        body = await request.read()
        if not signature_ok(secret, body, request.headers.get(SIGNATURE_HEADER)):
            log.warning("ingest: bad or missing signature from %s", request.remote)
            return _error(401, f"bad or missing {SIGNATURE_HEADER}")
        try:
            payload: Any = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _error(400, f"malformed JSON: {exc}")
        items = payload if isinstance(payload, list) else [payload]
        if not items or not all(isinstance(item, dict) for item in items):
            return _error(400, "expected an order object or a non-empty list of them")
        result = await record_orders(self.db, items, self.settings, now=self.clock())
        log.info(
            "ingest: %d orders, added=%d updated=%d rejected=%d",
            len(items),
            result.added,
            result.updated,
            result.rejected,
        )
        if self.on_recorded is not None and (result.added or result.updated):
            self.on_recorded(result)
        return web.json_response(result.as_json())


def add_ingest_routes(
    app: web.Application,
    db: Database,
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    on_recorded: Callable[[IngestResult], None] | None = None,
) -> None:
    """Mount ``POST /ingest/orders`` on ``app`` (it answers 404 while INGEST_SECRET is unset)."""
    handler = IngestHandler(db, settings, clock or (lambda: datetime.now(UTC)), on_recorded)

    # aiohttp wants a coroutine function (a callable instance is deprecated).
    async def ingest(request: web.Request) -> web.Response:
        return await handler(request)

    app.router.add_post(PATH, ingest)
