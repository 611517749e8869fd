"""A /mydata export file lives only until it is sent, the customer is forgotten, or EXPORT_TTL.

The sending test runs the real adapters (aiogram and python-telegram-bot) over HTTP
against the fake Bot API server, on SQLite and PostgreSQL, with the real outbox sender.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Database
from bot.bootstrap import build_core
from bot.channels.telegram.factory import build_telegram_channel
from bot.delivery import exports
from bot.delivery.sender import OutboxSender
from bot.settings import Settings, SettingsError, load_settings
from storage.models import OutboxMessage
from tests.builders import T0, Clock, customer_with_delivered_order
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import FAST, BotStack, telegram_settings
from tests.integration.staff_helpers import CUSTOMER_CHAT, press, send, staff_settings


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API server; ``api.url`` is where it listens (closed after the test)."""
    server = FakeBotApi()
    server.url = await server.start()  # type: ignore[attr-defined]
    yield server
    await server.close()


async def ignore(_: object) -> None:
    return None


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_the_export_file_is_deleted_once_telegram_has_received_it(
    db: Database, api: FakeBotApi, framework: str, tmp_path: Path
) -> None:
    await customer_with_delivered_order(db)
    settings = telegram_settings(api.url, framework, data_dir=str(tmp_path))  # type: ignore[attr-defined]
    stack = await BotStack(api, settings, db, Clock()).start()
    try:
        await stack.deliver(tg.message(int(CUSTOMER_CHAT), "/mydata"))
    finally:
        await stack.stop()  # returns once every send in hand is recorded and tidied

    (document,) = api.of("sendDocument", CUSTOMER_CHAT)
    name, content = document.files["document"]
    assert name == "mydata.json"
    assert json.loads(content)["orders"][0]["external_id"]
    assert files_in(tmp_path / exports.EXPORTS) == []


async def queue_an_export(db: Database, tmp_path: Path) -> Path:
    """Ana asks for her data; the export waits in the outbox (no sender runs yet)."""
    await customer_with_delivered_order(db)
    engine = build_core(db, staff_settings(tmp_path), Clock()).pipeline
    return Path((await send(db, engine, CUSTOMER_CHAT, "/mydata"))[-1]["document_path"])


async def send_what_is_queued(db: Database, api: FakeBotApi, framework: str) -> None:
    channel = build_telegram_channel(telegram_settings(api.url, framework), ignore)  # type: ignore[attr-defined]
    await channel.start()
    try:
        await OutboxSender(db, {"telegram": channel}, FAST, log_every=3600).run(until_idle=True)
    finally:
        await channel.stop()
        await channel.close()


async def export_row(db: Database) -> OutboxMessage:
    async with db.uow() as uow:
        query = select(OutboxMessage).where(OutboxMessage.purpose == "export")
        return (await uow.session.scalars(query)).one()


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_an_export_to_a_chat_that_blocked_the_bot_is_deleted_with_the_failure(
    db: Database, api: FakeBotApi, framework: str, tmp_path: Path
) -> None:
    export = await queue_an_export(db, tmp_path)
    api.fail("sendDocument", 403, "Forbidden: bot was blocked by the user", chat_id=CUSTOMER_CHAT)

    await send_what_is_queued(db, api, framework)

    row = await export_row(db)
    assert row.status == "failed" and "bot was blocked by the user" in str(row.error)
    assert files_in(export.parent) == []


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_an_export_whose_file_was_swept_fails_at_once_saying_so(
    db: Database, api: FakeBotApi, framework: str, tmp_path: Path
) -> None:
    export = await queue_an_export(db, tmp_path)
    later = datetime.now(UTC) + timedelta(hours=2)  # the sender was down for two hours
    assert exports.sweep(export.parent.parent, timedelta(hours=1), later) == 1

    await send_what_is_queued(db, api, framework)

    row = await export_row(db)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.error == f"the file to send is gone: {export}"
    assert api.of("sendDocument") == []


async def test_forget_deletes_the_customers_export_files_and_no_one_elses(
    db: Database, tmp_path: Path
) -> None:
    clock = Clock()
    settings = staff_settings(tmp_path)
    engine = build_core(db, settings, clock).pipeline
    customer_id, _, _ = await customer_with_delivered_order(db)
    mine = (await send(db, engine, CUSTOMER_CHAT, "/mydata"))[-1]["document_path"]
    folder = exports.exports_dir(settings.data_dir)
    assert files_in(folder) == [Path(mine).name]  # not sent yet: no sender runs here
    theirs = exports.export_path(settings.data_dir, customer_id + 1, clock())
    exports.write_private(theirs, "{}")

    await send(db, engine, CUSTOMER_CHAT, "/forget")
    await send(db, engine, CUSTOMER_CHAT, press("forget:yes"))

    assert files_in(folder) == [theirs.name]


def test_export_files_older_than_the_ttl_are_swept_and_newer_ones_kept(tmp_path: Path) -> None:
    old = exports.export_path(tmp_path, 1, T0)
    new = exports.export_path(tmp_path, 2, T0)
    for path in (old, new):
        exports.write_private(path, "{}")
    written = (T0 - timedelta(minutes=61)).timestamp()
    os.utime(old, (written, written))
    recent = (T0 - timedelta(minutes=59)).timestamp()
    os.utime(new, (recent, recent))

    assert exports.sweep(tmp_path, timedelta(hours=1), T0) == 1

    assert files_in(exports.exports_dir(tmp_path)) == [new.name]


def test_a_sweep_of_a_data_dir_without_exports_does_nothing(tmp_path: Path) -> None:
    assert exports.sweep(tmp_path / "never-written", timedelta(hours=1), T0) == 0


def test_export_ttl_reads_a_duration_and_refuses_zero() -> None:
    assert Settings(_env_file=None, export_ttl="15m").export_ttl == timedelta(minutes=15)  # type: ignore[call-arg]
    with pytest.raises(SettingsError, match="EXPORT_TTL"):
        load_settings(_env_file=None, export_ttl="0s")
