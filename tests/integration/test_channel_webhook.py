"""Webhook mode: Telegram posts updates to our HTTP server, authenticated by its secret header."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import Database
from bot.channels.telegram.factory import build_telegram_channel
from bot.channels.telegram.webhook import SECRET_HEADER
from bot.entrypoints.http.app import start_http_server
from bot.settings import SettingsError
from storage.models import HandledUpdate
from tests.builders import Clock
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import BotStack, telegram_settings

SECRET = "s3cret-token_1"
HOOK = "https://bot.example.test/tg/hook"


@pytest.fixture(params=["aiogram", "ptb"])
async def hooked(
    request: pytest.FixtureRequest, sqlite_db: Database
) -> AsyncIterator[tuple[FakeBotApi, BotStack, str]]:
    api = FakeBotApi()
    url = await api.start()
    settings = telegram_settings(
        url, request.param, webhook_url=HOOK, webhook_secret=SECRET, http_port=0
    )
    stack = BotStack(api, settings, sqlite_db, Clock())
    http = await start_http_server(settings, sqlite_db, stack.app.channels)
    assert http is not None
    host, port = http.addresses[0][:2]
    await stack.start()
    try:
        yield api, stack, f"http://{host}:{port}/tg/hook"
    finally:
        await stack.stop()
        await http.cleanup()
        await api.close()


async def post(url: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with aiohttp.ClientSession() as http, http.post(url, json=update, headers=headers) as r:
        return r.status


async def handled(db: Database) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count(HandledUpdate.update_id))) or 0)


async def test_the_webhook_is_registered_with_the_secret_and_no_polling_happens(
    hooked: tuple[FakeBotApi, BotStack, str],
) -> None:
    api, _, _ = hooked
    webhook = api.webhook()
    assert webhook is not None
    assert (webhook["url"], webhook["secret_token"]) == (HOOK, SECRET)
    assert api.of("getUpdates") == []


async def test_an_update_with_the_right_secret_is_handled_before_the_answer(
    hooked: tuple[FakeBotApi, BotStack, str],
) -> None:
    api, stack, url = hooked
    update = {"update_id": 501, **tg.message(700, "hello")}
    assert await post(url, update, SECRET) == 200
    assert await handled(stack.db) == 1  # committed before Telegram got its 200
    await stack.flush()
    assert "not linked" in api.texts("700")[-1]
    assert await post(url, update, SECRET) == 200  # a resend changes nothing
    assert await handled(stack.db) == 1
    assert len(api.sent("700")) == 1


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_read(
    hooked: tuple[FakeBotApi, BotStack, str], secret: str | None
) -> None:
    _, stack, url = hooked
    assert await post(url, {"update_id": 502, **tg.message(701, "hi")}, secret) == 401
    assert await handled(stack.db) == 0


async def test_health_check_answers(hooked: tuple[FakeBotApi, BotStack, str]) -> None:
    _, _, url = hooked
    async with aiohttp.ClientSession() as http, http.get(url.replace("/tg/hook", "/healthz")) as r:
        assert (r.status, await r.json()) == (200, {"ok": True})


async def test_a_webhook_without_a_secret_does_not_start(sqlite_db: Database) -> None:
    settings = telegram_settings("http://127.0.0.1:9", "aiogram", webhook_url=HOOK, http_port=0)
    channel = build_telegram_channel(settings, lambda _incoming: asyncio.sleep(0))
    try:
        with pytest.raises(SettingsError, match="WEBHOOK_SECRET"):
            await start_http_server(settings, sqlite_db, {"telegram": channel})
    finally:
        await channel.close()


async def test_no_http_server_without_webhook_or_ingestion(sqlite_db: Database) -> None:
    settings = telegram_settings("http://127.0.0.1:9", "aiogram")
    channel = build_telegram_channel(settings, lambda _incoming: asyncio.sleep(0))
    try:
        assert channel.routes() == ()  # it polls
        assert await start_http_server(settings, sqlite_db, {"telegram": channel}) is None
    finally:
        await channel.close()


async def test_order_ingestion_is_served_without_a_webhook(sqlite_db: Database) -> None:
    settings = telegram_settings(
        "http://127.0.0.1:9", "aiogram", ingest_secret="ingest-key", http_port=0
    )
    http = await start_http_server(settings, sqlite_db, {})
    assert http is not None
    try:
        host, port = http.addresses[0][:2]
        async with aiohttp.ClientSession() as client:
            url = f"http://{host}:{port}/ingest/orders"
            async with client.post(url, data=b"{}") as unsigned:
                assert unsigned.status == 401  # mounted, and refusing unsigned bodies
            async with client.post(f"http://{host}:{port}/tg/hook", json={}) as hook:
                assert hook.status == 404  # no webhook route without WEBHOOK_URL
    finally:
        await http.cleanup()
