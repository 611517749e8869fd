"""A database outage holds updates; an update that fails by itself is kept as dead (issue 21).

The outage is real: a PostgreSQL role of the bot's own whose connections are cut
(``pg_terminate_backend``) and refused (``CONNECTION LIMIT 0``) for a few seconds, as
a server restart or a failover does. A poison update is one the engine fails on by
itself while every other update goes through.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import Database
from bot.channels.port import Incoming
from bot.channels.telegram.webhook import SECRET_HEADER
from bot.entrypoints.http.app import start_http_server
from flows.events import TextIn
from storage.models import DeadUpdate, HandledUpdate
from tests.builders import Clock
from tests.conftest import PG_ADMIN_URL
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import BotStack, telegram_settings

OUTAGE_S = 4.0
SECRET = "hook-secret"


async def admin(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


class Outage:
    """Cuts and refuses every connection of one role (the bot's) to PostgreSQL."""

    def __init__(self, role: str) -> None:
        self.role = role

    async def begin(self) -> None:
        await admin(
            f"ALTER ROLE {self.role} CONNECTION LIMIT 0",
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{self.role}'",
        )

    async def end(self) -> None:
        await admin(f"ALTER ROLE {self.role} CONNECTION LIMIT -1")


@pytest.fixture
async def pg_outage() -> AsyncIterator[tuple[Database, Outage]]:
    """A migrated database owned by a role of its own (outages cut that role only)."""
    tag = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    role, name = f"postsale_outage_{tag}", f"postsale_outage_{tag}"
    try:
        await admin(f"CREATE ROLE {role} LOGIN", f'CREATE DATABASE "{name}" OWNER {role}')
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgres@", f"{role}@")
    db = await Database.open(f"{base}/{name}")
    outage = Outage(role)
    try:
        yield db, outage
    finally:
        await outage.end()
        await db.close()
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f"DROP ROLE {role}")


async def handled(db: Database) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(HandledUpdate)) or 0)


async def dead(db: Database) -> list[DeadUpdate]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(DeadUpdate).order_by(DeadUpdate.id))).all())


def stack_on(api: FakeBotApi, db: Database, framework: str, **settings: Any) -> BotStack:
    values = telegram_settings(api.url, framework, **settings)  # type: ignore[attr-defined]
    return BotStack(api, values, db, Clock(), retry_delay=0.05)


def poisoned(stack: BotStack, text: str) -> list[str]:
    """Make the engine fail, by itself, on messages saying ``text``; returns the tries."""
    tries: list[str] = []
    handle = stack.engine.handle

    async def failing_on_poison(incoming: Incoming) -> None:
        if isinstance(incoming.event, TextIn) and incoming.event.text == text:
            tries.append(incoming.update_id)
            raise ValueError(f"cannot handle {text!r}")
        await handle(incoming)

    stack.channel.handler = failing_on_poison
    return tries


async def test_polling_holds_updates_through_a_database_outage_and_loses_none(
    api: FakeBotApi, pg_outage: tuple[Database, Outage], framework: str
) -> None:
    db, outage = pg_outage
    stack = await stack_on(api, db, framework).start()
    try:
        [before] = await stack.deliver(tg.message(100, "before"))
        await outage.begin()
        try:
            ids = await api.inject(*(tg.message(200 + n % 6, f"during {n}") for n in range(18)))
            await api.wait_until(lambda: all(stack.channel.pump.taken(i) for i in ids))
            await asyncio.sleep(OUTAGE_S)  # a real outage, longer than the old 1.5 s
            assert api.confirmed() <= ids[0]  # nothing handled is nothing confirmed
        finally:
            await outage.end()
        await api.wait_until(lambda: all(len(api.texts(str(200 + c))) == 3 for c in range(6)), 60)
    finally:
        await stack.stop()
    assert await handled(db) == 1 + len(ids)  # every update of the outage, once
    assert await dead(db) == []
    assert api.confirmed() == ids[-1] + 1 and before < ids[0]


async def test_a_poison_update_is_kept_as_dead_and_every_other_update_is_handled(
    api: FakeBotApi, db: Database, framework: str
) -> None:
    stack = stack_on(api, db, framework)
    tries = poisoned(stack, "poison")
    await stack.start()
    try:
        ids = await stack.deliver(
            tg.message(100, "hello"),
            tg.message(100, "poison"),
            tg.message(100, "after"),
            tg.message(101, "other chat"),
        )
        await stack.channel.wait_idle()
    finally:
        await stack.stop()
    assert tries == [str(ids[1])] * 3  # tried three times, then given up on
    assert len(api.texts("100")) == 2 and len(api.texts("101")) == 1
    [kept] = await dead(db)
    assert (kept.channel, kept.update_id) == ("telegram", str(ids[1]))
    assert kept.raw["message"]["text"] == "poison" and "ValueError" in kept.error
    assert api.confirmed() == ids[-1] + 1  # confirmed: it would fail again


async def post(url: str, update: dict[str, Any]) -> int:
    headers = {SECRET_HEADER: SECRET}
    async with aiohttp.ClientSession() as http, http.post(url, json=update, headers=headers) as r:
        return r.status


async def webhook_stack(api: FakeBotApi, db: Database, framework: str) -> tuple[BotStack, Any, str]:
    stack = stack_on(
        api, db, framework, webhook_url="https://bot.test/hook", webhook_secret=SECRET, http_port=0
    )
    http = await start_http_server(stack.settings, db, stack.app.channels)
    assert http is not None
    host, port = http.addresses[0][:2]
    await stack.start()
    return stack, http, f"http://{host}:{port}/hook"


async def test_a_webhook_update_during_an_outage_gets_503_and_is_handled_when_sent_again(
    api: FakeBotApi, pg_outage: tuple[Database, Outage], framework: str
) -> None:
    db, outage = pg_outage
    stack, http, url = await webhook_stack(api, db, framework)
    update = {"update_id": 7001, **tg.message(300, "hello")}
    try:
        await outage.begin()
        try:
            assert await post(url, update) == 503  # Telegram sends it again
        finally:
            await outage.end()
        assert await post(url, update) == 200
    finally:
        await stack.stop()
        await http.cleanup()
    assert await handled(db) == 1
    assert await dead(db) == []


async def test_a_webhook_update_that_fails_by_itself_or_cannot_be_read_is_kept_and_gets_200(
    api: FakeBotApi, sqlite_db: Database, framework: str
) -> None:
    stack, http, url = await webhook_stack(api, sqlite_db, framework)
    poisoned(stack, "poison")
    try:
        assert await post(url, {"update_id": 7002, **tg.message(301, "poison")}) == 200
        assert await post(url, {"update_id": 7003, **tg.unreadable_callback("q-bad")}) == 200
        assert await post(url, {"update_id": 7004, **tg.message(301, "fine")}) == 200
        await stack.channel.wait_idle()
    finally:
        await stack.stop()
        await http.cleanup()
    assert [(d.update_id, "ValueError" in d.error) for d in await dead(sqlite_db)] == [
        ("7002", True),
        ("7003", False),
    ]
    assert [c.params["callback_query_id"] for c in api.of("answerCallbackQuery")] == ["q-bad"]
    assert await handled(sqlite_db) == 1
