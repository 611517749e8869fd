"""Store webhooks over real HTTP: the bot's server on loopback, requests posted to it.

``store_server`` starts ``postsale``'s own HTTP server (``start_http_server``) with the
given connector settings; ``StoreEndpoint.post`` sends raw bytes with the platform's
headers and answers (status, JSON). Each platform's test signs the bodies its way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bot.app import Database
from bot.entrypoints.http.app import start_http_server
from storage.models import Order
from tests.fakes.telegram_stack import telegram_settings


class StoreEndpoint:
    """``POST /connect/<platform>`` of a running server; ``woken`` counts scheduler wake-ups."""

    def __init__(self, base: str, client: aiohttp.ClientSession) -> None:
        self.base, self.client = base, client
        self.woken = 0

    async def post(
        self, platform: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, Any]]:
        sent = {"Content-Type": "application/json", **headers}
        async with self.client.post(
            f"{self.base}/connect/{platform}", data=body, headers=sent
        ) as response:
            return response.status, await response.json()


@asynccontextmanager
async def store_server(db: Database, **settings: Any) -> AsyncIterator[StoreEndpoint]:
    """The HTTP server with ``settings`` (e.g. ``shopify_webhook_secret=...``), on a free port."""
    values: dict[str, Any] = {"http_port": 0, "default_locale": "pt-BR"}
    values.update(settings)
    config = telegram_settings("http://127.0.0.1:9", "aiogram", **values)
    holder: list[StoreEndpoint] = []

    def woken() -> None:
        holder[0].woken += 1

    http = await start_http_server(config, db, {}, on_orders=woken)
    assert http is not None, "no connector enabled: the server did not start"
    host, port = http.addresses[0][:2]
    async with aiohttp.ClientSession() as client:
        holder.append(StoreEndpoint(f"http://{host}:{port}", client))
        try:
            yield holder[0]
        finally:
            await http.cleanup()


async def stored_orders(db: Database) -> list[Order]:
    """Every order in the database, by id."""
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(Order).order_by(Order.id))).all())


async def count_orders(db: Database) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Order)) or 0)
