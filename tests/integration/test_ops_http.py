"""``/metrics`` and ``/readyz`` over real HTTP, on the bot as ``postsale run`` builds it.

The real adapter polls ``FakeBotApi``, the real engine and outbox sender run on a real
database (SQLite and PostgreSQL); the HTTP server is the one ``postsale run`` starts
with ``HTTP_SERVER=on``. The counts on the page are compared with the database's rows.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bot.app import Database
from bot.entrypoints.http.app import start_http_server
from bot.settings import Settings
from storage.models import HandledUpdate, OutboxMessage, Ticket
from storage.outbox import enqueue
from storage.outbox_body import OutboxBody
from storage.tickets import ACTIVE, open_ticket
from tests.builders import Clock
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import BotStack, telegram_settings

CHAT = 100


def url_of(http: web.AppRunner, path: str) -> str:
    host, port = http.addresses[0][:2]
    return f"http://{host}:{port}{path}"


async def get(client: aiohttp.ClientSession, url: str) -> tuple[int, str, float]:
    started = time.perf_counter()
    async with client.get(url) as response:
        body = await response.text()
    return response.status, body, time.perf_counter() - started


def samples(page: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus page, by name and labels."""
    found = {}
    for family in text_string_to_metric_families(page):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


async def count(db: Database, model: type, *where: Any) -> int:
    async with db.uow() as uow:
        stmt = select(func.count()).select_from(model).where(*where)
        return int(await uow.session.scalar(stmt) or 0)


@pytest.fixture
async def served(
    api: FakeBotApi, db: Database, framework: str
) -> AsyncIterator[tuple[BotStack, web.AppRunner]]:
    settings = telegram_settings(api.url, framework, http_server="on", http_port=0)  # type: ignore[attr-defined]
    stack = await BotStack(api, settings, db, Clock()).start()
    http = await start_http_server(settings, db, stack.app.channels, counts=stack.core.metrics)
    assert http is not None
    try:
        yield stack, http
    finally:
        await http.cleanup()
        await stack.stop()


async def test_metrics_count_what_the_database_holds(
    served: tuple[BotStack, web.AppRunner], db: Database
) -> None:
    stack, http = served
    await stack.deliver(tg.message(CHAT, "/help"), tg.message(CHAT, "hello"))
    await stack.deliver(tg.message(CHAT + 1, "/help"))
    # A send reaches the server before the sender records it as sent: wait for the marks.
    async with asyncio.timeout(10):
        while await count(db, OutboxMessage, OutboxMessage.status == "queued"):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    async with db.uow() as uow:
        for _ in range(2):
            await open_ticket(
                uow.session,
                customer_id=None,
                order_id=None,
                source="complaint",
                category="other",
                description="x",
                now=datetime.now(UTC) - timedelta(days=30),  # long past both targets
            )
        await uow.commit()
    async with aiohttp.ClientSession() as client:
        status, page, _ = await get(client, url_of(http, "/metrics"))
    assert status == 200
    got = samples(page)
    telegram = (("channel", "telegram"),)
    handled = await count(db, HandledUpdate)
    sent = await count(db, OutboxMessage, OutboxMessage.status == "sent")
    assert handled == 3 and sent >= 3
    assert got[("postsale_updates_handled_total", telegram)] == handled
    assert got[("postsale_outbox_sent_total", telegram)] == sent
    assert got[("postsale_update_seconds_count", telegram)] == handled
    assert got[("postsale_outbox_queued", telegram)] == 0
    assert got[("postsale_database_up", ())] == 1
    assert got[("postsale_tickets_open", ())] == await count(db, Ticket, Ticket.status.in_(ACTIVE))
    assert got[("postsale_tickets_open", ())] == 2
    assert got[("postsale_tickets_breaching_sla", (("target", "first_response"),))] == 2


async def test_readyz_is_ready_and_quick(served: tuple[BotStack, web.AppRunner]) -> None:
    _, http = served
    url = url_of(http, "/readyz")
    async with aiohttp.ClientSession() as client:
        deadline = time.monotonic() + 10
        status, body, _ = await get(client, url)
        while status != 200 and time.monotonic() < deadline:  # the first getMe is on its way
            status, body, _ = await get(client, url)
        assert status == 200, body
        assert '"telegram": "ok"' in body and '"outbox": "ok"' in body
        took = [(await get(client, url))[2] for _ in range(20)]
    assert statistics.median(took) < 0.1, took


async def _server(db: Database, **overrides: Any) -> web.AppRunner:
    values: dict[str, Any] = {"http_server": "on", "http_port": 0, **overrides}
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    http = await start_http_server(settings, db, {})
    assert http is not None
    return http


async def test_readyz_names_an_unreachable_database_quickly() -> None:
    # A PostgreSQL server that is not there (nothing listens on port 1).
    db = await Database.open("postgresql+asyncpg://postsale:pw@127.0.0.1:1/postsale", migrate=False)
    http = await _server(db)
    try:
        async with aiohttp.ClientSession() as client:
            answers = [await get(client, url_of(http, "/readyz")) for _ in range(20)]
            status, page, _ = await get(client, url_of(http, "/metrics"))
    finally:
        await http.cleanup()
        await db.close()
    assert {a[0] for a in answers} == {503}
    assert '"database": "unreachable' in answers[0][1]
    assert statistics.median(a[2] for a in answers) < 0.1, [a[2] for a in answers]
    assert status == 200 and samples(page)[("postsale_database_up", ())] == 0


async def test_readyz_says_the_outbox_is_stuck_until_something_is_sent(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.uow() as uow:
        await enqueue(
            uow.session,
            channel="telegram",
            chat_id="7",
            body=OutboxBody(text="hi"),
            purpose="reply",
            now=now - timedelta(hours=1),
        )
        await uow.commit()
    http = await _server(db)
    try:
        async with aiohttp.ClientSession() as client:
            stuck = await get(client, url_of(http, "/readyz"))
            metrics = await get(client, url_of(http, "/metrics"))
            async with db.uow() as uow:  # another chat's message went out a minute ago
                await enqueue(
                    uow.session,
                    channel="telegram",
                    chat_id="8",
                    body=OutboxBody(text="ok"),
                    purpose="reply",
                    now=now - timedelta(minutes=2),
                )
                row = (
                    await uow.session.scalars(
                        select(OutboxMessage).where(OutboxMessage.chat_id == "8")
                    )
                ).one()
                row.status, row.sent_at = "sent", now - timedelta(minutes=1)
                await uow.commit()
            moving = await get(client, url_of(http, "/readyz"))
    finally:
        await http.cleanup()
    assert stuck[0] == 503 and '"outbox": "stuck' in stuck[1] and "telegram (1 queued)" in stuck[1]
    assert '"database": "ok"' in stuck[1]
    assert stuck[2] < 0.1
    got = samples(metrics[1])
    assert got[("postsale_outbox_queued", (("channel", "telegram"),))] == 1
    assert got[("postsale_outbox_oldest_queued_seconds", (("channel", "telegram"),))] >= 3600
    assert moving[0] == 200, moving[1]  # a backlog that moves is not stuck


async def test_without_http_server_on_a_polling_bot_opens_no_port(db: Database) -> None:
    settings = Settings(_env_file=None, http_port=0)  # type: ignore[call-arg]
    assert settings.http_server == "auto"
    assert await start_http_server(settings, db, {}) is None
