"""``METRICS_TOKEN``: ``/metrics`` over real HTTP wants the bearer token, and a request
without it is refused before the database is read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import text

from bot.app import Database
from bot.entrypoints.http.app import start_http_server
from bot.settings import Settings

TOKEN = "s3cr3t-metrics-token"


def settings_with(token: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, http_server="on", http_port=0, metrics_token=token
    )


@pytest.fixture
async def metrics_url(db: Database) -> AsyncIterator[str]:
    http = await start_http_server(settings_with(TOKEN), db, {})
    assert http is not None
    host, port = http.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/metrics"
    finally:
        await http.cleanup()


async def scrape(url: str, authorization: str | None) -> tuple[int, str]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with aiohttp.ClientSession() as client, client.get(url, headers=headers) as response:
        return response.status, await response.text()


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer ñ"],
)
async def test_without_the_right_token_metrics_answers_401(
    metrics_url: str, authorization: str | None
) -> None:
    status, body = await scrape(metrics_url, authorization)
    assert status == 401
    assert "postsale_" not in body
    assert TOKEN not in body


async def test_with_the_token_metrics_answers_the_page(metrics_url: str) -> None:
    status, body = await scrape(metrics_url, f"Bearer {TOKEN}")
    assert status == 200
    assert "postsale_database_up 1.0" in body
    status, _ = await scrape(metrics_url, f"bearer  {TOKEN}")
    assert status == 200


async def test_without_a_token_set_metrics_answers_anyone(db: Database) -> None:
    http = await start_http_server(settings_with(""), db, {})
    assert http is not None
    host, port = http.addresses[0][:2]
    try:
        status, body = await scrape(f"http://{host}:{port}/metrics", None)
    finally:
        await http.cleanup()
    assert status == 200
    assert "postsale_database_up 1.0" in body


@pytest.mark.postgres
async def test_a_refused_scrape_does_not_wait_for_the_database(
    postgres_url: str, metrics_url: str, db: Database
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a table lock that blocks readers needs PostgreSQL")
    # While another session holds the outbox locked, a read of it waits (up to 5 s).
    async with db.engine.connect() as locker:
        await locker.execute(text("BEGIN"))
        await locker.execute(text("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE"))
        allowed = asyncio.create_task(scrape(metrics_url, f"Bearer {TOKEN}"))
        status, _ = await asyncio.wait_for(scrape(metrics_url, "Bearer wrong"), 1.0)
        assert status == 401
        await asyncio.sleep(0.5)
        assert not allowed.done()  # the allowed one does read, and waits
        await locker.execute(text("ROLLBACK"))
    status, body = await asyncio.wait_for(allowed, 5.0)
    assert status == 200
    assert "postsale_database_up 1.0" in body
