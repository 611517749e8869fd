"""``POST /ingest/orders``: the store pushes orders and deliveries, signed with HMAC-SHA256.

The body is one order object or a list of them, with the fields of the orders CSV
(INTERFACE.md). ``X-Postsale-Timestamp`` carries the time of sending (unix seconds) and
``X-Postsale-Signature: sha256=<hex>`` the HMAC-SHA256 of ``"{timestamp}.{body}"`` under
``INGEST_SECRET``; without a valid pair, or with a timestamp more than ``REPLAY_WINDOW``
away from our clock, nothing is read and the answer is 401. A signature of the body
alone is refused: anyone who once saw a request could send it again at any time.
Within the window a replay changes nothing either: orders are upserted on ``order_id``
and a row older than the stored order (by its ``updated_at``) is skipped as stale.
The body may be at most ``MAX_BODY`` bytes, counted as it arrives (chunked or not).
The answer counts what was added, updated, stale and rejected (and why).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.api import IngestResult, record_orders
from bot.app import Database
from bot.settings import Settings

log = logging.getLogger("postsale.ingest")

PATH = "/ingest/orders"
SIGNATURE_HEADER = "X-Postsale-Signature"
TIMESTAMP_HEADER = "X-Postsale-Timestamp"
MAX_BODY = 5 * 1024 * 1024  # bytes; a store sends batches, not archives
REPLAY_WINDOW = timedelta(minutes=5)
"""How far a request's timestamp may be from our clock, either way."""


def sign(secret: str, body: bytes, timestamp: int | str) -> str:
    """The signature header value a sender puts on ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_ok(
    secret: str, body: bytes, header: str | None, timestamp: str | None, now: datetime
) -> bool:
    """Constant-time check of the signature, and of the timestamp against ``now``."""
    sent_text = (timestamp or "").strip()
    # ASCII digits only, and few: int() refuses '²' and numbers of thousands of digits.
    if not header or not (0 < len(sent_text) <= 12 and sent_text.isascii() and sent_text.isdigit()):
        return False
    sent = int(sent_text)
    if abs(sent - now.timestamp()) > REPLAY_WINDOW.total_seconds():
        return False
    expected = sign(secret, body, sent).encode()
    return hmac.compare_digest(expected, header.strip().encode())


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed ``limit`` bytes.

    Counted while reading: a chunked upload declares no length, and aiohttp's own
    ``client_max_size`` would answer a larger body in plain text.
    """
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_any():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


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
        body = await read_body(request, MAX_BODY)
        if body is None:
            return _error(413, f"body larger than {MAX_BODY} bytes")
        headers = request.headers
        now = self.clock()
        if not signature_ok(
            secret, body, headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER), now
        ):
            log.warning("ingest: bad or missing signature from %s", request.remote)
            return _error(
                401,
                f"bad or missing {SIGNATURE_HEADER}, or {TIMESTAMP_HEADER} missing or more "
                f"than {int(REPLAY_WINDOW.total_seconds())} s from our clock",
            )
        try:
            payload: Any = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _error(400, f"malformed JSON: {exc}")
        items = payload if isinstance(payload, list) else [payload]
        if not items or not all(isinstance(item, dict) for item in items):
            return _error(400, "expected an order object or a non-empty list of them")
        result = await record_orders(self.db, items, self.settings, now=now)
        log.info(
            "ingest: %d orders, added=%d updated=%d stale=%d rejected=%d",
            len(items),
            result.added,
            result.updated,
            result.stale,
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
