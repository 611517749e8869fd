"""A /mydata export file lives only until it is sent, the customer is forgotten, or EXPORT_TTL.

The sending test runs the real adapters (aiogram and python-telegram-bot) over HTTP
against the fake Bot API server, on SQLite and PostgreSQL, with the real outbox sender.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from bot import exports
from bot.app import Database
from bot.engine import Engine
from bot.operators import handle_operator
from bot.settings import Settings, SettingsError, load_settings
from tests.builders import T0, Clock, customer_with_delivered_order
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import BotStack, telegram_settings
from tests.integration.staff_helpers import CUSTOMER_CHAT, press, send, staff_settings


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_the_export_file_is_deleted_once_telegram_has_received_it(
    db: Database, framework: str, tmp_path: Path
) -> None:
    await customer_with_delivered_order(db)
    api = FakeBotApi()
    settings = telegram_settings(await api.start(), framework, data_dir=str(tmp_path))
    stack = await BotStack(api, settings, db, Clock()).start()
    try:
        await stack.deliver(tg.message(int(CUSTOMER_CHAT), "/mydata"))
    finally:
        await stack.stop()  # returns once every send in hand is recorded and tidied
        await api.close()

    (document,) = api.of("sendDocument", CUSTOMER_CHAT)
    name, content = document.files["document"]
    assert name == "mydata.json"
    assert json.loads(content)["orders"][0]["external_id"]
    assert files_in(tmp_path / exports.EXPORTS) == []


async def test_forget_deletes_the_customers_export_files_and_no_one_elses(
    db: Database, tmp_path: Path
) -> None:
    clock = Clock()
    settings = staff_settings(tmp_path)
    engine = Engine(db, settings, clock, handle_operator)
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
