"""``POST /connect/<platform>``: store platforms' webhooks, recorded as orders.

The same steps for every platform (``bot.stores.port``): the body is read up to
``MAX_BODY``; a bad or missing signature is 401 and nothing else is looked at; a
delivery id already recorded is answered 200 ``{"duplicate": true}``; an event that
means nothing to us is 200 ``{"ignored": topic}``, logged; an order the platform's API
would not give is 503, so the platform delivers again; a row naming an order it does
not carry is completed from the stored order (``bot.stores.completion``), or the answer
names it in ``unknown_orders``; the order rows go through ``bot.api.record_orders``,
like every other door, and the answer counts them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.api import IngestResult, record_orders
from bot.app import Database
from bot.entrypoints.http.ingest import read_body
from bot.settings import Settings
from bot.stores.completion import Completed, complete_rows
from bot.stores.http import StoreHttp
from bot.stores.port import Connector, FetchFailed, Unreadable, Webhook
from bot.stores.registry import ENABLED_BY, enabled_connectors
from storage.webhook_deliveries import note_recorded, was_recorded

log = logging.getLogger("postsale.stores")

PATH = "/connect/{platform}"
MAX_BODY = 2 * 1024 * 1024  # bytes; one order's event, with room for long line items


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class StoreWebhooks:
    """Answers every platform's path; ``on_recorded`` is told when orders changed."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] | None = None,
        on_recorded: Callable[[IngestResult], None] | None = None,
        api: StoreHttp | None = None,
    ) -> None:
        self.db, self.settings = db, settings
        self.clock = clock or (lambda: datetime.now(UTC))
        self.on_recorded = on_recorded
        self.api = api or StoreHttp()
        self.connectors = enabled_connectors(settings)

    async def __call__(self, request: web.Request) -> web.Response:
        platform = request.match_info["platform"]
        connector = self.connectors.get(platform)
        if connector is None:
            setting = ENABLED_BY.get(platform)
            if setting is None:
                return _error(404, f"no store connector {platform!r}")
            return _error(404, f"the {platform} connector is off ({setting} is not set)")
        body = await read_body(request, MAX_BODY)
        if body is None:
            return _error(413, f"body larger than {MAX_BODY} bytes")
        if not connector.verify(request.headers, body):
            log.warning("%s webhook: bad or missing signature from %s", platform, request.remote)
            return _error(401, "bad or missing signature")
        try:
            webhook = connector.read(request.headers, body)
        except Unreadable as exc:
            log.warning("%s webhook: unreadable: %s", platform, exc)
            return _error(400, str(exc))
        return await self._record(connector, webhook)

    async def _record(self, connector: Connector, webhook: Webhook) -> web.Response:
        name, delivery = connector.name, webhook.delivery_id
        if delivery is not None:
            async with self.db.sessions() as session:
                if await was_recorded(session, name, delivery):
                    log.info("%s webhook %s (%s): a replay, ignored", name, delivery, webhook.topic)
                    return web.json_response({"duplicate": True})
        try:
            rows = await connector.rows(webhook, self.api)
            completed = (
                None if rows is None else await complete_rows(self.db, connector, rows, self.api)
            )
        except FetchFailed as exc:
            log.warning(
                "%s webhook %s: order not fetched, asking for it again: %s", name, delivery, exc
            )
            return _error(503, f"could not fetch the order from {name}; send it again later")
        except Unreadable as exc:
            log.warning("%s webhook %s: %s", name, delivery, exc)
            return _error(400, str(exc))
        if completed is None:
            log.info("%s webhook %s: event %r ignored", name, delivery, webhook.topic)
            return await self._answer(name, delivery, {"ignored": webhook.topic})
        return await self._recorded(name, delivery, webhook.topic, completed)

    async def _recorded(
        self, name: str, delivery: str | None, topic: str, completed: Completed
    ) -> web.Response:
        answer: dict[str, Any] = {}
        if completed.unknown:
            # Not lost without a word: the order's own event (or its next update) records it.
            log.warning(
                "%s webhook %s (%s): unknown order %s, not recorded (its creation event"
                " did not come, and the platform's API is not set to fetch it)",
                name,
                delivery,
                topic,
                ", ".join(completed.unknown),
            )
            answer["unknown_orders"] = completed.unknown
        if completed.rows:
            result = await record_orders(self.db, completed.rows, self.settings, now=self.clock())
            log.info("%s webhook %s (%s): %s", name, delivery, topic, result.as_json())
            if self.on_recorded is not None and (result.added or result.updated):
                self.on_recorded(result)
            answer.update(result.as_json())
        return await self._answer(name, delivery, answer)

    async def _answer(
        self, name: str, delivery: str | None, answer: dict[str, Any]
    ) -> web.Response:
        if delivery is not None:
            async with self.db.sessions.begin() as session:
                await note_recorded(session, name, delivery, self.clock())
        return web.Response(text=json.dumps(answer), content_type="application/json")


def add_store_routes(app: web.Application, hooks: StoreWebhooks) -> None:
    """Mount ``POST /connect/{platform}``; the HTTP client closes with the app."""

    async def connect(request: web.Request) -> web.Response:
        return await hooks(request)

    async def close(_app: web.Application) -> None:
        await hooks.api.close()

    app.router.add_post(PATH, connect)
    app.on_cleanup.append(close)
